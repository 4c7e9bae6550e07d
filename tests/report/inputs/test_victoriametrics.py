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
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from edgesla import ConfigError
from edgesla.report.inputs import PrometheusClient, store
from edgesla.report.inputs._client import MAX_POINTS_FLAG
from edgesla.report.inputs.engine import Engine, Strategy
from edgesla.slo.period import Period
from edgesla.slo.spec import AvailabilityObjective, LagObjective, LatencyObjective
from edgesla.stack.binaries import find_victoria_metrics
from tests.helpers import edgesla, eventually
from tests.ports import port
from tests.report.inputs.conftest import BEFORE, START, STEP, T0, WINDOW_SAMPLES
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
def victoria_metrics(
    rollup_prometheus_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
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
    engine = Engine(
        PrometheusClient(url), Period(*period, "range", ""), (), strategy, rollups=rollups
    )
    answer = engine.answer(dict.fromkeys(POPS, OBJECTIVES[name]))
    return answer.source, {
        pop: dataclasses.replace(ev, queries=(), source="") for pop, ev in answer.by_pop.items()
    }


@pytest.mark.parametrize("period", sorted(PERIODS))
@pytest.mark.parametrize(
    ("strategy", "rollups"), [("fleet", True), ("fleet", False), ("per-pop", False)]
)
def test_the_same_evidence_as_from_prometheus(
    rollup_prometheus_url: str,
    victoria_metrics: str,
    period: str,
    strategy: Strategy,
    rollups: bool,
) -> None:
    for name in OBJECTIVES:
        source, expected = _evidence(
            rollup_prometheus_url, PERIODS[period], strategy, rollups, name
        )
        assert _evidence(victoria_metrics, PERIODS[period], strategy, rollups, name) == (
            source,
            expected,
        ), name


def _report(tmp_path: Path, url: str, name: str, *args: str) -> tuple[int, dict[str, Any]]:
    slo = tmp_path / "slo.yaml"
    slo.write_text(SPEC, encoding="utf-8")
    out = tmp_path / name
    done = edgesla(
        "report", "--slo", str(slo), "--prometheus", url, "--out", str(out), "--no-pdf", *args
    )
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert doc.pop("sources") == [f"{name} {url}"]  # the server named as what it is
    del doc["generated_at"]
    for objective in doc["objectives"]:
        if objective["evidence"]:  # the fleet's own rows have none
            objective["evidence"].pop("source")
    return done.returncode, doc


def test_edgesla_report_gives_the_same_report(
    tmp_path: Path, rollup_prometheus_url: str, victoria_metrics: str
) -> None:
    lo, hi = (t.isoformat() for t in PERIODS["starts-in-gap"])
    window = ("--from", lo, "--to", hi)
    code, expected = _report(tmp_path, rollup_prometheus_url, "Prometheus", *window)
    assert code == 1  # pop-b's latency FAILs; the rest is INCONCLUSIVE
    # ... and no caveat: started as the stack starts it, its lookback is Prometheus's
    assert _report(tmp_path, victoria_metrics, "VictoriaMetrics", *window) == (code, expected)
    pop_b = {o["name"]: o for o in expected["objectives"] if o["pop"] == "pop-b"}
    assert (pop_b["availability"]["good"], pop_b["availability"]["total"]) == (718, 720)


def test_a_victoria_metrics_with_a_shorter_lookback_is_named_with_its_caveat(
    tmp_path: Path,
) -> None:
    """Started with VictoriaMetrics' defaults: the report's lag counts could differ from
    Prometheus's, and it says so; a month's lag subquery is refused, and it says how to fix."""
    url = f"http://127.0.0.1:{port(951)}"
    argv = [str(find_victoria_metrics()), f"-storageDataPath={tmp_path / 'data'}",
            f"-httpListenAddr=127.0.0.1:{port(951)}"]  # fmt: skip
    with (tmp_path / "log").open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        client = PrometheusClient(url)
        eventually(lambda: store.describe(client, lag=False)[0] == f"VictoriaMetrics {url}")
        _, issue = store.describe(client, lag=True)
        assert issue is not None
        assert "-search.minStalenessInterval=0s" in issue.detail
        assert store.LAG_LOOKBACK_FLAG in issue.detail
        assert store.describe(client, lag=False)[1] is None  # no lag objective: nothing to say
        # the lag's 15-s grid over a month is more points than its default allows: exit 2,
        # with the flag to set
        with pytest.raises(ConfigError, match=re.escape(MAX_POINTS_FLAG)):
            client.instant("sum_over_time(vector(1)[30d:15s])", START)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0s", 0.0),
        ("5m0s", 300.0),
        ("300500ms", 300.5),
        ("1h2m", 3720.0),
        ("5m junk", None),
        ("", None),
    ],
)
def test_go_durations(text: str, seconds: float | None) -> None:
    assert store.duration_seconds(text) == seconds
