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
    "DataIssue",
    "LagEvidence",
    "LatencyEvidence",
    "ObjectiveResult",
    "Report",
    "Verdict",
    "overall",
]

Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]
ObjectiveKind = Literal["availability", "latency", "replication_lag"]


@dataclass(frozen=True)
class DataIssue:
    """Something wrong or missing in the evidence: shown in the report, never hidden."""

    kind: Literal["missing_series", "gap", "counter_reset", "excluded", "other"]
    detail: str
    start: datetime | None = None
    end: datetime | None = None


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


@dataclass(frozen=True)
class LatencyEvidence:
    """How many requests were slower than the threshold, counted exactly."""

    sli: str
    pop: str
    threshold_seconds: float
    over: int  # requests slower than the threshold
    total: int
    #: (upper bound in seconds, cumulative count) pairs for the distribution chart
    buckets: tuple[tuple[float, int], ...] = ()
    issues: tuple[DataIssue, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class LagEvidence:
    """Replication-lag samples of one origin->peer pair (or the worst of all pairs)."""

    sli: str
    pop: str
    samples: tuple[tuple[datetime, float], ...]  # (time, lag seconds)
    step_seconds: float  # each sample stands for this much time
    issues: tuple[DataIssue, ...] = ()
    source: str = ""


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
    summary: str = ""  # one sentence a manager can read
    issues: tuple[DataIssue, ...] = ()
    evidence: AvailabilityEvidence | LatencyEvidence | LagEvidence | None = None


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


def overall(verdicts: list[Verdict]) -> Verdict:
    """FAIL if any fails; else INCONCLUSIVE if any is, or if there is nothing; else PASS."""
    if "FAIL" in verdicts:
        return "FAIL"
    if not verdicts or "INCONCLUSIVE" in verdicts:
        return "INCONCLUSIVE"
    return "PASS"
