"""The postgres_convergence target's defaults, and its durations written back as durations
(its invalid examples are checked with the others in test_config.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from edgesla.config import PostgresConvergenceTarget, dump_config, load_config, parse_config

VALID = Path(__file__).parent.parent / "testdata" / "config" / "valid-convergence.yaml"


def test_the_defaults_and_a_round_trip() -> None:
    config = load_config(VALID)
    (target,) = config.targets
    assert isinstance(target, PostgresConvergenceTarget)
    assert (target.settle_time, target.modified_column, target.chunk_rows) == (
        60.0,
        "modified_at",
        1000,
    )
    assert parse_config(yaml.safe_load(dump_config(config))) == config
    doc = yaml.safe_load(
        dump_config(
            config.model_copy(
                update={"targets": (target.model_copy(update={"settle_time": 90.0}),)}
            )
        )
    )
    assert doc["targets"][0]["settle_time"] == "90s"  # written as a duration, not a float
