"""`promtool test rules`: the hand-written suites in tests/rules/promtool/ against the
golden rule file they load, and a check that no generated alert goes untested."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.rules.conftest import CASES, GOLDEN, PROMTOOL_SUITES

SUITES = sorted(PROMTOOL_SUITES.glob("*.yml"))


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_promtool_suite_passes(suite: Path) -> None:
    result = subprocess.run(
        ["promtool", "test", "rules", suite.name],
        cwd=suite.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _generated_alert_names() -> set[str]:
    names = set()
    for name in CASES:
        doc = yaml.safe_load((GOLDEN / f"out-{name}.yml").read_text(encoding="utf-8"))
        names |= {r["alert"] for g in doc["groups"] for r in g["rules"] if "alert" in r}
    return names


def _cases() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for suite in SUITES:
        for test in yaml.safe_load(suite.read_text(encoding="utf-8"))["tests"]:
            found += test.get("alert_rule_test") or []
    return found


def test_every_generated_alert_has_a_firing_and_a_silent_case() -> None:
    cases = _cases()
    firing = {c["alertname"] for c in cases if c.get("exp_alerts")}
    silent = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    names = _generated_alert_names()
    assert len(names) >= 10
    missing = {
        name: [kind for kind, seen in (("firing", firing), ("silent", silent)) if name not in seen]
        for name in sorted(names)
        if name not in firing or name not in silent
    }
    assert not missing, f"alerts without promtool cases in {PROMTOOL_SUITES}: {missing}"
