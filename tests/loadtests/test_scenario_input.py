"""`edgesla scenario` refuses bad input with exit 2, naming the option, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import edgesla

CONFIG = Path(__file__).parents[1] / "testdata" / "config" / "valid-minimal.yaml"
#: run as the real program; the other cases in this interpreter (tests.helpers.edgesla)
REAL = ["conflict", "--duration", "0s"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["conflict", "--duration", "0s"], "--duration: must be above 0"),
        (["conflict", "--settle", "soon"], "--settle: invalid duration 'soon'"),
        (["conflict", "--rate", "0"], "Invalid value for '--rate'"),
        (["sync", "--share", "1.5"], "Invalid value for '--share'"),
        (["sync", "--threshold", "0ms"], "--threshold: must be above 0"),
        # no postgres_replication target in the config: nowhere to write
        (["sync"], "postgres_replication target"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_written(
    tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "results"
    result = edgesla(
        "scenario", *args, "--config", str(CONFIG), "--out", str(out), in_process=args != REAL
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr
    assert not out.exists()
