"""The postgres_convergence target's config: what it may set, and the errors that say how to
fix what it may not (tests/testdata/config/convergence/)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgesla import ConfigError
from edgesla.config import PostgresConvergenceTarget, dump_config, load_config, parse_config

DATA = Path(__file__).parent.parent / "testdata" / "config" / "convergence"
_WHERE = "  targets[0] (name: pg-convergence)"

INVALID = {
    "invalid-table-without-schema.yaml": f"{_WHERE}.tables: 'subscriber' is not schema.table: "
    "name each table with its schema, e.g. public.subscriber (plain identifiers, no quotes)",
    "invalid-table-twice.yaml": f"{_WHERE}: table 'public.subscriber' is listed twice; list "
    "each table once",
    "invalid-one-node.yaml": f"{_WHERE}.nodes: Tuple should have at least 2 items",
    "invalid-zero-settle-time.yaml": f"{_WHERE}.settle_time: Input should be greater than 0",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_an_invalid_target_names_the_key_and_the_fix(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DATA / name)
    message = str(info.value)
    assert message.startswith(f"{DATA / name}: invalid PoP config:\n")
    assert INVALID[name] in message
    assert info.value.exit_code == 2


def test_every_invalid_example_is_covered() -> None:
    assert {p.name for p in DATA.glob("invalid-*.yaml")} == set(INVALID)


def test_the_defaults_and_a_round_trip() -> None:
    config = load_config(DATA / "valid-default.yaml")
    (target,) = config.targets
    assert isinstance(target, PostgresConvergenceTarget)
    assert (target.settle_time, target.modified_column, target.chunk_rows) == (
        60.0, "modified_at", 1000,
    )  # fmt: skip
    assert parse_config(yaml.safe_load(dump_config(config))) == config
    doc = yaml.safe_load(dump_config(config.model_copy(update={"targets": (
        target.model_copy(update={"settle_time": 90.0}),)})))  # fmt: skip
    assert doc["targets"][0]["settle_time"] == "90s"  # written as a duration, not a float
