"""Golden files: each tests/rules/golden/in-NAME.yaml gives exactly out-NAME.yml.

Regenerate after an intended change with
``EDGESLA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/rules/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.golden import matches_golden
from tests.rules.conftest import CASES, GOLDEN, run_rules


@pytest.mark.parametrize("name", CASES)
def test_output_matches_golden_file(name: str, tmp_path: Path) -> None:
    text = run_rules(name, tmp_path)
    matches_golden(GOLDEN / f"out-{name}.yml", text)


@pytest.mark.parametrize("name", CASES)
def test_promtool_check_rules_is_clean(name: str) -> None:
    golden = GOLDEN / f"out-{name}.yml"
    result = subprocess.run(
        ["promtool", "check", "rules", str(golden)], capture_output=True, text=True, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "SUCCESS" in output
    assert "duplicate" not in output.lower(), output  # promtool warns, but exits 0


def test_every_golden_file_starts_with_do_not_edit_and_names_its_spec() -> None:
    for name in CASES:
        head = (GOLDEN / f"out-{name}.yml").read_text(encoding="utf-8").splitlines()[:3]
        assert head[0].startswith("# DO NOT EDIT")
        assert f"--slo tests/rules/golden/in-{name}.yaml" in head[1]
        assert f"in-{name}.yaml" in head[2]


def test_load_test_slis_are_listed_as_not_generated() -> None:
    text = (GOLDEN / "out-default.yml").read_text(encoding="utf-8")
    header = text.split("groups:", 1)[0]
    for name in ("loadtest-availability", "care-lookup-p99", "edge-query-p99"):
        assert f"#   - {name} (" in header
        assert f"slo: {name}" not in text
