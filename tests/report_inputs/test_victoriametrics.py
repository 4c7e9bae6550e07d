"""The report reads VictoriaMetrics as it reads Prometheus: a real VictoriaMetrics (Debian's
1.79) holding exactly the samples of the backfilled Prometheus, roll-ups included (as a
fleet's Prometheus remote-writes them), gives the same evidence for every kind, on both
evidence paths, with and without roll-ups, and ``edgesla report`` the same report.

The periods are chosen where the two servers' query semantics part: a range or lookback
that reaches exactly one sample back (Prometheus 2 closes ranges on the left,
VictoriaMetrics opens them), a lookback across a scrape gap (VictoriaMetrics' follows the
samples' interval, Prometheus' is 5 minutes), a period starting and one ending in a gap.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from edgesla.report.inputs import PrometheusClient
from edgesla.report.inputs.engine import Engine, Strategy
from edgesla.slo.period import Period
from edgesla.slo.spec import AvailabilityObjective, LagObjective, LatencyObjective
from tests.helpers import edgesla
from tests.ports import port
from tests.report_inputs.conftest import BEFORE, START, STEP, T0, WINDOW_SAMPLES
from tests.victoriametrics import served_copy

pytestmark = [pytest.mark.stack]

POPS = ("pop-a", "pop-b", "pop-c", "pop-d")
OBJECTIVES: dict[str, Any] = {
    "availability": AvailabilityObjective(name="availability", sli="probe_success"),
    "latency": LatencyObjective(name="p99", sli="latency", source="probes", threshold=0.2),
    "lag": LagObjective(name="lag", sli="replication_lag", threshold=0.3),
}
HOUR = timedelta(hours=1)
PERIODS = {
    "whole": (T0, T0 + 4 * HOUR),
    # pop-b's last sample before its gap (T0 + 1 h) lies exactly 5 min before the start
    "starts-in-gap": (T0 + HOUR + timedelta(minutes=5), T0 + 4 * HOUR),
    "ends-in-gap": (T0, T0 + HOUR + timedelta(minutes=2)),
}
SPEC = """version: 1
objectives:
  - {name: availability, sli: probe_success, objective: 99.9%}
  - {name: p99, sli: latency, source: probes, threshold: 200ms, percentile: 99}
  - {name: lag, sli: replication_lag, threshold: 300ms, objective: 99%}
"""


@pytest.fixture(scope="module")
def victoria_metrics(rollup_prometheus_url: str, tmp_path_factory: pytest.TempPathFactory) -> (
    Iterator[str]
):  # fmt: skip
    end = START + WINDOW_SAMPLES * STEP + 3600
    span = end - START + BEFORE * STEP + 3600
    root = tmp_path_factory.mktemp("vm")
    with served_copy(root, port(938), rollup_prometheus_url, end, span) as url:
        yield url


def _samples(url: str) -> dict[str, int]:
    """Raw samples per series (its labels as text) in the data's six hours."""
    at = START + WINDOW_SAMPLES * STEP + 60
    body = requests.post(
        f"{url}/api/v1/query", data={"query": '{__name__=~".+"}[6h]', "time": str(at)}, timeout=30
    ).json()
    return {
        json.dumps(s["metric"], sort_keys=True): len(s["values"]) for s in body["data"]["result"]
    }


def test_the_copy_holds_every_sample(rollup_prometheus_url: str, victoria_metrics: str) -> None:
    copied = _samples(victoria_metrics)
    assert copied == _samples(rollup_prometheus_url)
    assert sum(copied.values()) > 30_000


def _evidence(
    url: str, period: tuple[datetime, datetime], strategy: Strategy, rollups: bool, name: str
) -> tuple[str, dict[str, Any]]:
    engine = Engine(PrometheusClient(url), Period(*period, "range", ""), (), strategy,
                    rollups=rollups)  # fmt: skip
    answer = engine.answer(dict.fromkeys(POPS, OBJECTIVES[name]))
    return answer.source, {
        pop: dataclasses.replace(ev, queries=(), source="") for pop, ev in answer.by_pop.items()
    }


@pytest.mark.parametrize("period", sorted(PERIODS))
@pytest.mark.parametrize(
    ("strategy", "rollups"), [("fleet", True), ("fleet", False), ("per-pop", False)]
)
def test_the_same_evidence_as_from_prometheus(
    rollup_prometheus_url: str, victoria_metrics: str, period: str, strategy: Strategy,
    rollups: bool,
) -> None:  # fmt: skip
    for name in OBJECTIVES:
        source, expected = _evidence(rollup_prometheus_url, PERIODS[period], strategy, rollups,
                                     name)  # fmt: skip
        assert _evidence(victoria_metrics, PERIODS[period], strategy, rollups, name) == (
            source, expected,
        ), name  # fmt: skip


def _report(tmp_path: Path, url: str, name: str, *args: str) -> tuple[int, dict[str, Any]]:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SPEC, encoding="utf-8")
    out = tmp_path / name
    done = edgesla("report", "--slo", str(slo), "--prometheus", url, "--out", str(out),
                   "--no-pdf", *args)  # fmt: skip
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    del doc["generated_at"], doc["sources"]
    for objective in doc["objectives"]:
        if objective["evidence"]:  # the fleet's own rows have none
            objective["evidence"].pop("source")
    return done.returncode, doc


def test_edgesla_report_gives_the_same_report(
    tmp_path: Path, rollup_prometheus_url: str, victoria_metrics: str
) -> None:
    lo, hi = (t.isoformat() for t in PERIODS["starts-in-gap"])
    window = ("--from", lo, "--to", hi)
    code, expected = _report(tmp_path, rollup_prometheus_url, "prometheus", *window)
    assert code == 1  # pop-b's latency FAILs; the rest is INCONCLUSIVE
    assert _report(tmp_path, victoria_metrics, "victoria-metrics", *window) == (code, expected)
    pop_b = {o["name"]: o for o in expected["objectives"] if o["pop"] == "pop-b"}
    assert (pop_b["availability"]["good"], pop_b["availability"]["total"]) == (718, 720)
