"""The results files as pydantic models: JSON types kept apart, every bad key named on one line."""

from __future__ import annotations

import json
import shutil
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from edgesla import ConfigError
from edgesla.loadtests.results import read_results, write_results
from tests.helpers import edgesla
from tests.loadtests.test_results import FIX, START, _meta, _recorder


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_results(tmp_path_factory.mktemp("results") / "run", _meta(), _recorder())


@pytest.fixture
def written(original: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(original, tmp_path / "run"))


def _change(path: Path, **change: Any) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "meta.json",
            {"started_at": "2025-06-02T20:00:00"},
            "started_at: '2025-06-02T20:00:00' has no time zone; expected UTC ('Z')",
        ),
        (
            "meta.json",
            {"ended_at": 1748894400},  # a Unix time is not the format's time
            "ended_at: expected an ISO-8601 UTC time such as '2025-06-02T20:00:00Z', got "
            "1748894400",
        ),
        (
            "meta.json",
            {"duration_seconds": True},
            "duration_seconds: Input should be a valid number, got True",
        ),
        (
            "meta.json",
            {"target_rates_per_second": {"care_lookup": float("nan")}},
            "target_rates_per_second.care_lookup: Input should be a finite number, got nan",
        ),
        (
            "meta.json",
            {"generators": [{"host": "gen-a", "processes": 0}]},
            "generators[0].processes: expected a count (integer >= 1), got 0",
        ),
        (
            "meta.json",
            {"generator_health": {"cpu_saturated": False, "too_few_users": False}},
            "generator_health: unknown keys [], missing keys ['max_cpu_percent', 'notes']",
        ),
        ("meta.json", {"complete": "yes"}, "complete: Input should be a valid boolean, got 'yes'"),
        (
            "meta.json",
            {"operations": ["care_lookup"]},
            "operations: lacks ['device_provision'], which have target rates",
        ),
        (
            "operations/care_lookup.json",
            {"late_starts": True},
            "late_starts: expected a count (integer >= 0), got True",
        ),
    ],
)
def test_a_bad_value_names_file_and_key(
    written: Path, file: str, change: dict[str, Any], message: str
) -> None:
    _change(written / file, **change)
    with pytest.raises(ConfigError) as info:
        read_results(written)
    assert str(info.value) == f"{written / file}: {message}; {FIX}"
    assert info.value.exit_code == 2


def test_every_bad_key_of_a_file_is_on_one_line(written: Path) -> None:
    _change(written / "meta.json", profile=None, pop=3, colour="red")
    with pytest.raises(ConfigError) as info:
        read_results(written)
    assert str(info.value) == (
        f"{written / 'meta.json'}: profile: Input should be a valid string, got None; "
        "pop: Input should be a valid string, got 3; unknown keys ['colour'], missing keys []; "
        f"{FIX}"
    )


def test_a_time_in_another_zone_is_read_as_utc(written: Path) -> None:
    _change(written / "meta.json", started_at="2025-06-02T22:00:00+02:00")
    meta = read_results(written).meta
    assert meta.started_at == START
    assert meta.started_at.tzinfo is UTC


def test_the_report_cli_says_which_key_and_exits_2(written: Path, tmp_path: Path) -> None:
    """What a user sees: ``edgesla report --loadtest`` on a hand-edited results directory."""
    _change(written / "operations" / "care_lookup.json", successes=-1)
    out = tmp_path / "never"
    result = edgesla("report", "--loadtest", str(written), "--out", str(out))
    assert result.returncode == 2, result.stderr
    path = written / "operations" / "care_lookup.json"
    assert f"{path}: successes: expected a count (integer >= 0), got -1; {FIX}" in result.stderr
    assert not out.exists()
