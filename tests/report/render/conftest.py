"""A realistic, hand-built Report: two PoPs plus the fleet roll-up, every verdict present.

Built by hand (not by the evaluators) so the renderers are tested on their own; the
confidence bounds are exact Clopper-Pearson values from scipy, so the figures are ones the
evaluators would give.

    Probe availability      99.999 %   pop-ams1 PASS, pop-fra1 PASS, fleet PASS (1,209,600 probes)
    Control-plane readiness 99.999 %   fleet INCONCLUSIVE: 172,800 good, 126,772 still needed, a gap
    Edge NoSQL latency      p99 ≤ 10 ms  pop-ams1 PASS, pop-fra1 FAIL, fleet FAIL (with buckets)
    Replication lag         < 1 s 99 %   pop-ams1 PASS, pop-fra1 PASS, fleet PASS (with samples)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import beta

from edgesla.report.model import (
    AvailabilityEvidence,
    DataIssue,
    LagEvidence,
    LatencyEvidence,
    ObjectiveKind,
    ObjectiveResult,
    Report,
    Verdict,
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


def _bounds(good: int, total: int) -> tuple[float, float]:
    alpha = 1 - CONFIDENCE
    bad = total - good
    low = 0.0 if good == 0 else float(beta.ppf(alpha, good, bad + 1))
    high = 1.0 if bad == 0 else float(beta.ppf(1 - alpha, good + 1, bad))
    return low, high


def _needed(good: int, total: int, objective: float) -> int | None:
    if total - good:
        return None  # with failures seen, no count of clean events is promised here
    return math.ceil(math.log(1 - CONFIDENCE) / math.log(objective)) - total


def _result(
    name: str,
    kind: ObjectiveKind,
    pop: str,
    objective: float,
    good: int,
    total: int,
    evidence: AvailabilityEvidence | LatencyEvidence | LagEvidence,
    *,
    threshold: float | None = None,
    downtime: float | None = None,
    issues: tuple[DataIssue, ...] = (),
) -> ObjectiveResult:
    low, high = _bounds(good, total)
    verdict: Verdict = (
        "PASS" if low >= objective else "FAIL" if high < objective else "INCONCLUSIVE"
    )
    allowed = (1 - objective) * total
    bad = total - good
    measured = good / total
    if verdict == "PASS":
        summary = f"Met: {measured:.4%} good, and the evidence proves at least {low:.4%}."
    elif verdict == "FAIL":
        summary = "Broken: more than 1 % of queries took over 10 ms; hold the rollout."
    else:
        summary = "Nothing failed yet, but 30 days of readiness checks cannot prove five nines."
    return ObjectiveResult(
        name=name,
        kind=kind,
        pop=pop,
        verdict=verdict,
        objective=objective,
        good=good,
        total=total,
        measured=measured,
        lower_bound=low,
        upper_bound=high,
        confidence=CONFIDENCE,
        events_needed=_needed(good, total, objective) if verdict == "INCONCLUSIVE" else None,
        budget_allowed=allowed,
        budget_consumed=bad / allowed,
        downtime_seconds=downtime,
        threshold_seconds=threshold,
        summary=summary,
        issues=issues,
        evidence=evidence,
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
            1.0 + peak * math.sin(math.pi * j / over),
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
    objectives = (
        _result(probe, "availability", "pop-ams1", avail, ams.good, ams.total, ams, downtime=15.0),
        _result(
            nosql, "latency", "pop-ams1", 0.99, 378_500, 380_000, lat["pop-ams1"], threshold=0.01
        ),
        _result(
            repl,
            "replication_lag",
            "pop-ams1",
            0.99,
            43_160,
            43_200,
            lag["pop-ams1"],
            threshold=1.0,
            downtime=40 * 60.0,
        ),
        _result(probe, "availability", "pop-fra1", avail, fra.good, fra.total, fra, downtime=15.0),
        _result(
            nosql, "latency", "pop-fra1", 0.99, 401_300, 410_000, lat["pop-fra1"], threshold=0.01
        ),
        _result(
            repl,
            "replication_lag",
            "pop-fra1",
            0.99,
            43_130,
            43_200,
            lag["pop-fra1"],
            threshold=1.0,
            downtime=70 * 60.0,
        ),
        _result(
            probe, "availability", "fleet", avail, fleet.good, fleet.total, fleet, downtime=15.0
        ),
        _result(
            "Control-plane readiness",
            "availability",
            "fleet",
            avail,
            172_800,
            172_800,
            cp,
            downtime=0.0,
            issues=(GAP,),
        ),
        _result(nosql, "latency", "fleet", 0.99, 779_800, 790_000, lat["fleet"], threshold=0.01),
        _result(
            repl,
            "replication_lag",
            "fleet",
            0.99,
            86_290,
            86_400,
            lag["pop-fra1"],
            threshold=1.0,
            downtime=110 * 60.0,
        ),
    )
    return Report(
        title="Edge PoP SLA — May 2025",
        generated_at=END + timedelta(hours=1, minutes=5),
        window_start=START,
        window_end=END,
        confidence=CONFIDENCE,
        verdict="FAIL",
        objectives=objectives,
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
