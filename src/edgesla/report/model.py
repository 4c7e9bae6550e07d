"""The report's data model: evidence in, verdicts out. Frozen dataclasses, no behaviour.

Every stage speaks these types: inputs build ``*Evidence``, evaluators turn evidence into
``ObjectiveResult``, ``Report`` gathers them, renderers only read a ``Report``.
Times are timezone-aware UTC datetimes; durations and latencies are seconds; ratios are
fractions (0.99999, not 99.999).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "AvailabilityEvidence",
    "Counting",
    "DataIssue",
    "LagEvidence",
    "LatencyEvidence",
    "ObjectiveResult",
    "Provenance",
    "Report",
    "Verdict",
    "WindowLatency",
    "overall",
]

Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]
ObjectiveKind = Literal["availability", "latency", "replication_lag"]


@dataclass(frozen=True)
class DataIssue:
    """Something wrong or missing in the evidence: shown in the report, never hidden."""

    #: missing_series: nothing to judge; gap: scrapes missing, events still counted;
    #: unobserved: nothing was measured for a while (``seconds``); incomplete: so much was
    #: unobserved that the verdict cannot be given (the evaluator adds it); counter_reset,
    #: excluded (maintenance), resolution (a figure known only to the probe interval),
    #: generator (the load generator was the bottleneck: a broken objective is inconclusive)
    kind: Literal[
        "missing_series",
        "gap",
        "unobserved",
        "incomplete",
        "counter_reset",
        "excluded",
        "resolution",
        "generator",
        "other",
    ]
    detail: str
    start: datetime | None = None
    end: datetime | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class AvailabilityEvidence:
    """Good and total events of one SLI in the window (maintenance already excluded)."""

    sli: str
    pop: str
    good: int
    total: int
    window_start: datetime
    window_end: datetime
    #: (time, cumulative bad events) points for the budget-burn chart
    bad_over_time: tuple[tuple[datetime, float], ...] = ()
    #: seconds of the window in which the SLI was failing (e.g. probe up == 0)
    downtime_seconds: float | None = None
    issues: tuple[DataIssue, ...] = ()
    source: str = ""
    #: seconds of the window in which nothing was measured (maintenance left out)
    unobserved_seconds: float = 0.0
    #: outages seen (spans in which the SLI failed) and the probe interval they were seen at:
    #: each outage's two edges are known only to one interval
    outages: int | None = None
    resolution_seconds: float | None = None
    #: the PromQL queries the counts came from (provenance)
    queries: tuple[str, ...] = ()
    #: (target, seconds between its runs): runs counted over the time observed (the
    #: resolution the events were collected at; report.resolution)
    probe_intervals: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class WindowLatency:
    """The judged requests of one window of a load test with a sync (``edgesla loadtest
    --sync-at``): ``sync`` (intended start during the sync's planned window) or ``outside``."""

    window: str
    over: int  # requests slower than the objective's threshold
    total: int
    #: (upper bound in seconds, cumulative count) of the window's successful requests
    buckets: tuple[tuple[float, int], ...] = ()


@dataclass(frozen=True)
class LatencyEvidence:
    """How many requests were slower than the threshold, counted exactly."""

    sli: str
    pop: str
    threshold_seconds: float
    over: int  # requests slower than the threshold
    total: int
    #: (upper bound in seconds, cumulative count) pairs for the distribution chart: exact
    #: counts of the judged series (monotonic; the +Inf bucket equals ``total``)
    buckets: tuple[tuple[float, int], ...] = ()
    issues: tuple[DataIssue, ...] = ()
    source: str = ""
    period_seconds: float = 0.0
    unobserved_seconds: float = 0.0
    queries: tuple[str, ...] = ()
    #: the same requests by window, when the load test ran a sync (else empty)
    windows: tuple[WindowLatency, ...] = ()


@dataclass(frozen=True)
class LagEvidence:
    """Replication-lag samples of one origin->peer pair (or the worst of all pairs)."""

    sli: str
    pop: str
    #: (time, lag seconds): every step, or (with ``counted``) the worst lag of each chart bin
    samples: tuple[tuple[datetime, float], ...]
    step_seconds: float  # each counted step stands for this much time
    issues: tuple[DataIssue, ...] = ()
    source: str = ""
    #: (steps within the threshold, steps with a value) counted on the step grid; None: count
    #: ``samples`` (one per step)
    counted: tuple[int, int] | None = None
    period_seconds: float = 0.0
    unobserved_seconds: float = 0.0
    queries: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectiveResult:
    name: str
    kind: ObjectiveKind
    pop: str  # "fleet" for the roll-up
    verdict: Verdict
    #: the objective, as a fraction of good events (0.99999; for latency p99 < 200 ms: 0.99)
    objective: float
    good: int
    total: int
    #: measured ratio good/total (None when total == 0)
    measured: float | None
    #: one-sided bounds at ``confidence`` on the true ratio
    lower_bound: float | None
    upper_bound: float | None
    confidence: float
    #: more good events (with no failure) needed before PASS could be shown; None if n/a
    events_needed: int | None
    #: error budget: allowed bad events in the window, consumed share (may exceed 1)
    budget_allowed: float | None
    budget_consumed: float | None
    downtime_seconds: float | None
    threshold_seconds: float | None = None  # latency and lag objectives
    #: (at least, at most): the downtime as far as the probe interval can tell
    downtime_bracket: tuple[float, float] | None = None
    summary: str = ""  # one sentence a manager can read
    issues: tuple[DataIssue, ...] = ()
    evidence: AvailabilityEvidence | LatencyEvidence | LagEvidence | None = None
    #: the resolution judged at: the coarsest probe interval of the objective's targets
    #: (availability from probes; None when unknown or not probe-counted)
    probe_interval_seconds: float | None = None


@dataclass(frozen=True)
class Counting:
    """How one objective was counted: enough to re-check its verdict later."""

    name: str
    #: what proved the counts clean / where they came from
    source: str
    #: the queries sent for it (PromQL), or the load-test results read
    queries: tuple[str, ...] = ()
    #: PoPs counted on the per-PoP path, and those whose reset or gap slices were read raw
    per_pop: tuple[str, ...] = ()
    sliced: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provenance:
    """Where a report's verdicts came from (``report.json``; the HTML footer in short)."""

    spec_source: str  #: the spec's path, or "<built-in defaults>"
    spec_sha256: str  #: of the spec's bytes as read (built-in: of its canonical JSON)
    spec: str  #: the spec's text
    evidence: str  #: "fleet" or "per-pop"
    fleet_source: str = ""  #: the fleet inventory's path ("" without --fleet)
    fleet_sha256: str = ""
    countings: tuple[Counting, ...] = ()
    tool: str = ""  #: edgesla and its version


@dataclass(frozen=True)
class Report:
    title: str
    generated_at: datetime
    window_start: datetime
    window_end: datetime
    confidence: float
    verdict: Verdict
    objectives: tuple[ObjectiveResult, ...]  # per PoP, then the fleet roll-up
    pops: tuple[str, ...]
    sources: tuple[str, ...] = ()
    maintenance: tuple[tuple[datetime, datetime, str], ...] = ()
    issues: tuple[DataIssue, ...] = field(default_factory=tuple)
    #: how the period was named ("November 2026 (UTC)", "the last 30d"); "" for a bare range
    period: str = ""
    #: PoPs found in the data but not in the fleet inventory: listed, not judged
    unlisted_pops: tuple[str, ...] = ()
    provenance: Provenance | None = None


def overall(verdicts: list[Verdict]) -> Verdict:
    """FAIL if any fails; else INCONCLUSIVE if any is, or if there is nothing; else PASS."""
    if "FAIL" in verdicts:
        return "FAIL"
    if not verdicts or "INCONCLUSIVE" in verdicts:
        return "INCONCLUSIVE"
    return "PASS"
