"""The generated rules in a real Prometheus that scrapes the real exporter of the stack.

`edgesla stack up` writes the default spec's rules into <state dir>/rules/ before
Prometheus starts; here every rule must be loaded and evaluate without error, and every
recording-rule expression and the signal of every alert (its series without the threshold)
must parse and return series. The control-plane signals over edgesla_kube_* come from a
second real exporter probing a recorded-shape kube-apiserver (no real one can run here:
tests/recorded_apiserver.py), scraped by the same Prometheus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from edgesla.rules import generate_rules
from edgesla.slo.spec import default_spec
from edgesla.stack.layout import Layout
from tests.helpers import eventually
from tests.recorded_apiserver import recorded_apiserver_scraped

pytestmark = [pytest.mark.stack, pytest.mark.slow]

RULES = generate_rules(default_spec())


def _query(layout: Layout, expr: str) -> dict[str, Any]:
    response = requests.get(
        f"http://127.0.0.1:{layout.prometheus_port}/api/v1/query",
        params={"query": expr},
        timeout=10,
    )
    body: dict[str, Any] = response.json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body


def _returns_series(layout: Layout, exprs: list[str]) -> list[str] | None:
    """None once every expression returns series, else the ones that return none yet."""
    empty = [e for e in exprs if not _query(layout, e)["data"]["result"]]
    return empty or None


def _wait_all_return_series(layout: Layout, exprs: list[str]) -> None:
    left = list(exprs)

    def done() -> bool:
        nonlocal left
        left = _returns_series(layout, left) or []
        return not left

    try:
        eventually(done, timeout=90, interval=2)
    except AssertionError:
        raise AssertionError(f"no series within 90 s for: {left}") from None


def test_prometheus_loaded_every_generated_rule_and_evaluates_it_cleanly(stack: Layout) -> None:
    def loaded() -> list[dict[str, Any]] | None:
        body = requests.get(
            f"http://127.0.0.1:{stack.prometheus_port}/api/v1/rules", timeout=10
        ).json()
        groups: list[dict[str, Any]] = body["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        evaluated = all(not r["lastEvaluation"].startswith("0001") for r in rules)
        return groups if groups and evaluated else None

    groups = eventually(loaded, timeout=60, interval=1)
    assert sorted(g["name"] for g in groups) == sorted(g.name for g in RULES.groups)
    assert sum(len(g["rules"]) for g in groups) == len(RULES.recordings) + len(RULES.alerts)
    unhealthy = [
        (r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] != "ok"
    ]
    assert not unhealthy


def test_every_recording_rule_expression_returns_series(stack: Layout) -> None:
    _wait_all_return_series(stack, sorted({r.expr for r in RULES.recordings}))


def test_the_signal_of_every_alert_returns_series(stack: Layout, tmp_path: Path) -> None:
    signals = sorted({a.signal for a in RULES.alerts})
    assert all(signals), "every alert names its signal"
    with recorded_apiserver_scraped(stack, tmp_path):
        _wait_all_return_series(stack, signals)
