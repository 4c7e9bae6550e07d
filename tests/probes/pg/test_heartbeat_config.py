"""The heartbeat interval a PoP config may set: fine enough for the lag threshold it is judged
against (at least two beats per threshold), long enough for a beat cycle to finish."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgesla import ConfigError
from edgesla import conventions as conv
from edgesla.config import PostgresReplicationTarget, dump_config, load_config, parse_config
from edgesla.slo.spec import DEFAULT_LAG_THRESHOLD_SECONDS

DATA = Path(__file__).parents[2] / "testdata" / "config" / "heartbeat"

INVALID = {
    "invalid-heartbeat-too-coarse.yaml": "  targets[0] (name: pg-multimaster).heartbeat_interval: "
    "1s is too coarse for the 1s replication-lag threshold (the lag is measured once a beat, at "
    "least twice per threshold); set heartbeat_interval to 500ms or less",
    "invalid-heartbeat-too-short.yaml": "  targets[0] (name: pg-multimaster).heartbeat_interval: "
    "20ms leaves a beat no time to write and read every node; set heartbeat_interval to 50ms "
    "or more",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_a_heartbeat_interval_that_could_mislead_the_report_is_refused(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DATA / name)
    message = str(info.value)
    assert message.startswith(f"{DATA / name}: invalid PoP config:\n")
    assert INVALID[name] in message
    assert info.value.exit_code == 2


def test_every_invalid_example_is_covered() -> None:
    assert {p.name for p in DATA.glob("invalid-*.yaml")} == set(INVALID)


def test_the_default_is_half_the_default_lag_threshold_and_round_trips() -> None:
    config = load_config(DATA / "valid-default.yaml")
    (target,) = config.targets
    assert isinstance(target, PostgresReplicationTarget)
    assert target.heartbeat_interval == 0.5
    assert target.heartbeat_interval <= conv.REPLICATION_LAG_THRESHOLD_SECONDS / 2
    assert parse_config(yaml.safe_load(dump_config(config))) == config


def test_the_config_rule_and_the_slo_specs_default_threshold_agree() -> None:
    """The PoP config checks against conventions; the report's default must be the same."""
    assert DEFAULT_LAG_THRESHOLD_SECONDS == conv.REPLICATION_LAG_THRESHOLD_SECONDS


@pytest.mark.parametrize("interval", ["50ms", "250ms", "500ms"])
def test_intervals_within_the_rule_are_accepted(interval: str) -> None:
    doc = {
        "version": 1, "pop": "p", "region": "r",
        "targets": [{
            "name": "pg", "prober": "postgres_replication", "heartbeat_interval": interval,
            "nodes": [{"name": "a", "dsn": "host=x"}, {"name": "b", "dsn": "host=y"}],
        }],
    }  # fmt: skip
    (target,) = parse_config(doc).targets
    assert isinstance(target, PostgresReplicationTarget)
