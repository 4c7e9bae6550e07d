"""The fleet inventory: strict, and every error says where and how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla._errors import ConfigError
from edgesla.fleet import load_fleet, parse_fleet

EXAMPLE = Path(__file__).parents[2] / "examples" / "fleet.yaml"


def test_the_example_is_valid() -> None:
    fleet = load_fleet(EXAMPLE)
    assert fleet.names == {"lab-pop-01", "pop-fra-03"}
    assert fleet.pops[1].labels == {"tier": "gold"}


@pytest.mark.parametrize(
    ("pops", "message"),
    [
        (
            [{"name": "a", "region": "r", "exporter": "h:1", "colour": "x"}],
            "pops[0] (name: a).colour: unknown key",
        ),
        ([{"name": "a", "region": "r", "exporter": "no-port"}], "is not host:port"),
        ([{"name": "A b", "region": "r", "exporter": "h:1"}], "lower-case letters"),
        ([{"name": "a", "region": "r", "exporter": "h:1"}] * 2, "listed twice"),
        (
            [{"name": "a", "region": "r", "exporter": "h:1", "labels": {"pop": "x"}}],
            "set by edgesla",
        ),
        ([], "pops"),
    ],
)
def test_bad_inventories_name_the_key(pops: list[object], message: str) -> None:
    with pytest.raises(ConfigError, match="invalid fleet inventory") as info:
        parse_fleet({"version": 1, "pops": pops}, "fleet.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("fleet.yaml: ")


def test_a_missing_version_says_what_to_add() -> None:
    with pytest.raises(ConfigError, match="add 'version: 1'"):
        parse_fleet({"pops": []})
