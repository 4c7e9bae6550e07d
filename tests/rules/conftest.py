"""Shared paths and the one way tests/rules runs `edgesla rules` to make a golden file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edgesla.cli import cli
from edgesla.rules import RULES_FILE

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
PROMTOOL_SUITES = HERE / "promtool"
#: in-NAME.yaml (SLO spec), with fleet-NAME.yaml when present → out-NAME.yml
CASES = sorted(p.name.removeprefix("in-").removesuffix(".yaml") for p in GOLDEN.glob("in-*.yaml"))


def run_rules(name: str, out_dir: Path) -> str:
    """`edgesla rules` on golden case ``name`` with repo-relative paths (as in the header);
    the generated text."""
    rel = GOLDEN.relative_to(REPO)
    args = ["rules", "--slo", str(rel / f"in-{name}.yaml")]
    if (GOLDEN / f"fleet-{name}.yaml").exists():
        args += ["--fleet", str(rel / f"fleet-{name}.yaml")]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        result = CliRunner().invoke(cli, [*args, "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    text: str = (out_dir / RULES_FILE).read_text(encoding="utf-8")
    return text
