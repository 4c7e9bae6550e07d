"""A realistic, hand-built Report: two PoPs plus the fleet roll-up, every verdict present.

The evidence is built by hand; the results are the product's own evaluators'
(``edgesla.report.evaluate``: availability, latency, replication_lag, roll_up), so the
renderers are tested on exactly what the report command would give them.

    Probe availability      99.999 %   pop-ams1 PASS, pop-fra1 PASS, fleet PASS (1,209,600 probes)
    Control-plane readiness 99.999 %   fleet INCONCLUSIVE: 172,800 good, 126,772 still needed, a gap
    Edge NoSQL latency      p99 ≤ 10 ms  pop-ams1 PASS, pop-fra1 FAIL, fleet FAIL (with buckets)
    Replication lag         < 1 s 99 %   pop-ams1 PASS, pop-fra1 PASS, fleet PASS (with samples)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from edgesla.report import evaluate
from edgesla.report.model import (
    AvailabilityEvidence,
    DataIssue,
    LagEvidence,
    LatencyEvidence,
    Report,
    overall,
)

START = datetime(2025, 5, 1, tzinfo=UTC)
END = START + timedelta(days=30)
WINDOW_S = (END - START).total_seconds()
CONFIDENCE = 0.95
GAP = DataIssue(
    "gap",
    "etcd readiness series missing for 20 min (Prometheus restart)",
    START + timedelta(days=11, hours=3),
    START + timedelta(days=11, hours=3, minutes=20),
)


def _availability(pop: str, bad_at_days: tuple[float, ...], total: int) -> AvailabilityEvidence:
    series = [(START, 0.0)]
    for n, day in enumerate(sorted(bad_at_days), start=1):
        series.append((START + timedelta(days=day, seconds=-15), float(n - 1)))
        series.append((START + timedelta(days=day), float(n)))
    series.append((END, float(len(bad_at_days))))
    return AvailabilityEvidence(
        sli="probe_success",
        pop=pop,
        good=total - len(bad_at_days),
        total=total,
        window_start=START,
        window_end=END,
        bad_over_time=tuple(series),
        downtime_seconds=15.0 * len(bad_at_days),
        source="prometheus: edgesla_probe_success_total",
    )


def _latency(pop: str, total: int, over: int) -> LatencyEvidence:
    shares = (0.30, 0.32, 0.20)  # <= 1 ms, 2.5 ms, 5 ms; the rest up to 10 ms is under
    cumulative, seen = [], 0
    for bound, share in zip((0.001, 0.0025, 0.005), shares, strict=True):
        seen += round(total * share)
        cumulative.append((bound, seen))
    cumulative.append((0.01, total - over))
    tail = (0.025, 0.05, 0.1)
    for i, bound in enumerate(tail, start=1):
        cumulative.append((bound, total - over + round(over * (0.6, 0.9, 0.98)[i - 1])))
    cumulative.append((math.inf, total))
    return LatencyEvidence(
        sli="edge_nosql_query",
        pop=pop,
        threshold_seconds=0.01,
        over=over,
        total=total,
        buckets=tuple(cumulative),
        source="loadtest: results/peak-2025-05-30",
    )


def _lag(pop: str, over: int, peak: float) -> LagEvidence:
    samples = []
    for i in range(43_200):  # 30 days at one sample per minute
        lag = 0.05 + 0.03 * math.sin(i / 240) + (0.02 if i % 97 == 0 else 0.0)
        samples.append((START + timedelta(minutes=i), lag))
    spike_at = 30_000
    for j in range(over):  # one incident: lag above 1 s for `over` minutes
        samples[spike_at + j] = (
            samples[spike_at + j][0],
            1.0 + peak * math.sin(math.pi * (j + 0.5) / over),  # every one over 1 s
        )
    return LagEvidence(
        sli="pg_replication_lag",
        pop=pop,
        samples=tuple(samples),
        step_seconds=60.0,
        source="prometheus: edgesla_pg_replication_heartbeat_age_seconds",
    )


def build_report() -> Report:
    """The report every renderer test reads."""
    avail, probe = 0.99999, "Probe availability"
    ams = _availability("pop-ams1", (12.4,), 604_800)
    fra = _availability("pop-fra1", (21.7,), 604_800)
    fleet = _availability("fleet", (12.4, 21.7), 1_209_600)
    cp = AvailabilityEvidence(
        "etcd_ready",
        "fleet",
        172_800,
        172_800,
        START,
        END,
        bad_over_time=((START, 0.0), (END, 0.0)),
        downtime_seconds=0.0,
        issues=(GAP,),
    )
    lat = {
        p: _latency(p, t, o)
        for p, t, o in (
            ("pop-ams1", 380_000, 1_500),
            ("pop-fra1", 410_000, 8_700),
            ("fleet", 790_000, 10_200),
        )
    }
    lag = {"pop-ams1": _lag("pop-ams1", 40, 1.4), "pop-fra1": _lag("pop-fra1", 70, 2.2)}
    nosql, repl = "Edge NoSQL query latency", "Replication lag"
    results = [
        evaluate.availability(probe, ams, avail, CONFIDENCE),
        evaluate.latency(nosql, lat["pop-ams1"], 99, CONFIDENCE),
        evaluate.replication_lag(repl, lag["pop-ams1"], 0.99, 1.0, CONFIDENCE),
        evaluate.availability(probe, fra, avail, CONFIDENCE),
        evaluate.latency(nosql, lat["pop-fra1"], 99, CONFIDENCE),
        evaluate.replication_lag(repl, lag["pop-fra1"], 0.99, 1.0, CONFIDENCE),
    ]
    fleet = [
        *evaluate.roll_up(results, CONFIDENCE),
        evaluate.availability("Control-plane readiness", cp, avail, CONFIDENCE),
    ]
    order = [probe, "Control-plane readiness", nosql, repl]
    fleet.sort(key=lambda r: order.index(r.name))
    return Report(
        title="Edge PoP SLA — May 2025",
        generated_at=END + timedelta(hours=1, minutes=5),
        window_start=START,
        window_end=END,
        confidence=CONFIDENCE,
        verdict=overall([r.verdict for r in (*results, *fleet)]),
        objectives=(*results, *fleet),
        pops=("pop-ams1", "pop-fra1"),
        sources=(
            "prometheus http://127.0.0.1:19490 (30 d, 15 s)",
            "loadtest results/peak-2025-05-30",
        ),
        maintenance=(
            (START + timedelta(days=7), START + timedelta(days=7, hours=2), "kernel update"),
        ),
        issues=(
            DataIssue(
                "counter_reset",
                "edgesla_probe_total reset once at pop-fra1 (exporter restart)",
                START + timedelta(days=21, hours=7),
            ),
        ),
    )


@pytest.fixture(scope="session")
def report() -> Report:
    return build_report()
