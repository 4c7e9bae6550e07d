"""From counted parts to evidence: one builder per kind, shared by the per-PoP and the fleet
path, so both say the same thing in the same words and order.

Both paths reduce a PoP's raw data to ``Parts``: exact counts per counter series
(maintenance left out, resets counted from the new value), the gaps of each target (told
*probed*, when the counters went on across them, from *unobserved*), the downtime and its
outages, the budget-burn chart. The builders add the data issues and the evidence fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from edgesla import conventions as conv
from edgesla import wording
from edgesla.report.inputs._common import excluded_issues, to_datetime
from edgesla.report.inputs._counters import Gap, merge_spans
from edgesla.report.model import AvailabilityEvidence, DataIssue, LatencyEvidence
from edgesla.report.resolution import probe_intervals
from edgesla.slo.period import Period

__all__ = [
    "Parts",
    "SeriesCount",
    "availability_evidence",
    "gap_issues",
    "latency_evidence",
    "missing_issue",
    "unobserved_seconds",
]

Clipped = Sequence[tuple[float, float, str]]


@dataclass
class SeriesCount:
    """Exact events of one counter series in the period."""

    labels: dict[str, str]
    counted: int = 0
    excluded: dict[int, int] = field(default_factory=dict)  # maintenance window -> events
    resets: list[float] = field(default_factory=list)  # first sample after each reset
    reset_values: list[float] = field(default_factory=list)  # the value before each reset


@dataclass
class Parts:
    """What a PoP's data says, before it is worded as evidence."""

    series: list[SeriesCount] = field(default_factory=list)
    gaps: list[tuple[str, Gap]] = field(default_factory=list)  # (target, gap)
    interval: float = 15.0  # scrape interval seen
    downtime: float | None = None
    outages: int | None = None
    chart: tuple[tuple[datetime, float], ...] = ()  # cumulative bad events
    queries: list[str] = field(default_factory=list)

    def groups(self, label: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.series:
            key = s.labels.get(label, "")
            out[key] = out.get(key, 0) + s.counted
        return out

    def excluded_groups(self, label: str) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {}
        for s in self.series:
            for window, n in s.excluded.items():
                per = out.setdefault(window, {})
                key = s.labels.get(label, "")
                per[key] = per.get(key, 0) + n
        return out


def unobserved_seconds(parts: Parts, clipped: Clipped, target: str | None = None) -> float:
    """Time in which some target (or ``target``) measured nothing, maintenance left out."""
    total = 0.0
    gaps = [g for t, g in parts.gaps if not g.probed and target in (None, t)]
    for lo, hi in merge_spans((g.start, g.end) for g in gaps):
        total += hi - lo
        for m_lo, m_hi, _ in clipped:
            total -= max(0.0, min(hi, m_hi) - max(lo, m_lo))
    return max(0.0, total)


def gap_issues(parts: Parts) -> list[DataIssue]:
    out = []
    for target, gap in sorted(parts.gaps, key=lambda item: (item[1].start, item[0])):
        span = gap.end - gap.start
        if gap.probed:
            detail = (
                f"target {target}: no sample for {span:.0f} s (scrape interval "
                f"{parts.interval:g} s); a counter spanning it still counts its events unless reset"
            )
            out.append(DataIssue("gap", detail, to_datetime(gap.start), to_datetime(gap.end)))
        else:
            detail = (
                f"target {target}: nothing measured for {span:.0f} s (no probe ran, or the "
                "exporter restarted)"
            )
            out.append(
                DataIssue("unobserved", detail, to_datetime(gap.start), to_datetime(gap.end), span)
            )
    return out


def _reset_issues(parts: Parts, per: str) -> list[DataIssue]:
    """One issue per reset series (``per="series"``) or per target and time (``"target"``)."""
    seen: dict[tuple[float, str, str], None] = {}
    for s in parts.series:
        for t in s.resets:
            target = s.labels.get(conv.LABEL_TARGET, "?")
            extra = s.labels.get(conv.LABEL_RESULT, "") if per == "series" else ""
            seen[(t, target, extra)] = None
    out = []
    for t, target, result in sorted(seen):
        if per == "series":
            detail = (
                f"{conv.PROBE_RESULTS_TOTAL} target {target} result {result} was reset "
                "(exporter restart?); counted from its new value"
            )
        else:
            detail = (
                f"{conv.PROBE_LATENCY_SECONDS} of target {target} was reset (exporter "
                "restart?); counted from its new values"
            )
        out.append(DataIssue("counter_reset", detail, to_datetime(t)))
    return out


def missing_issue(
    metric: str, pop: str, targets: Sequence[str] | None, period: Period
) -> DataIssue:
    scope = f" and targets {sorted(targets)}" if targets is not None else ""
    return DataIssue(
        "missing_series", f"no {metric} series for pop {pop!r}{scope}", period.start, period.end
    )


def availability_evidence(
    sli: str, pop: str, period: Period, parts: Parts, clipped: Clipped, source: str
) -> AvailabilityEvidence:
    groups = parts.groups(conv.LABEL_RESULT)
    total = sum(groups.values())
    good = groups.get("success", 0)
    by_window = parts.excluded_groups(conv.LABEL_RESULT)
    ex_total = {i: sum(g.values()) for i, g in by_window.items()}
    ex_good = {i: g.get("success", 0) for i, g in by_window.items()}
    issues = [
        *_reset_issues(parts, "series"),
        *gap_issues(parts),
        *excluded_issues(list(clipped), ex_good, ex_total),
    ]
    return AvailabilityEvidence(
        sli,
        pop,
        good,
        total,
        period.start,
        period.end,
        bad_over_time=parts.chart,
        downtime_seconds=parts.downtime,
        issues=tuple(issues),
        source=source,
        unobserved_seconds=unobserved_seconds(parts, clipped),
        outages=parts.outages,
        resolution_seconds=parts.interval if parts.outages else None,
        queries=tuple(parts.queries),
        probe_intervals=_probe_intervals(parts, period, clipped),
    )


def _probe_intervals(
    parts: Parts, period: Period, clipped: Clipped
) -> tuple[tuple[str, float], ...]:
    """Each target's runs counted over the time it was observed (report.resolution)."""
    runs = parts.groups(conv.LABEL_TARGET)
    open_time = period.seconds - sum(hi - lo for lo, hi in merge_spans(s[:2] for s in clipped))
    observed = {t: open_time - unobserved_seconds(parts, clipped, t) for t in runs}
    return probe_intervals(runs, observed)


def _bound(le: str) -> float:
    return float("inf") if le == "+Inf" else float(le)


def latency_evidence(
    sli: str,
    pop: str,
    period: Period,
    parts: Parts,
    threshold: float,
    clipped: Clipped,
    source: str,
) -> LatencyEvidence:
    """Exact slow/total counts at ``threshold`` and the bucket list of the same series."""
    groups = {le: n for le, n in parts.groups("le").items() if le}
    issues = [*_reset_issues(parts, "target"), *gap_issues(parts)]
    below = [le for le in groups if _bound(le) <= threshold + 1e-12]
    at = max(below, key=_bound, default=None)
    if at is None or abs(_bound(at) - threshold) > 1e-12:
        bounds = sorted(groups, key=_bound)
        issues.append(
            DataIssue(
                "other",
                f"no {conv.PROBE_LATENCY_SECONDS} bucket at {wording.seconds(threshold)} "
                f"(bounds {bounds}); counted over {at or 0} s instead, which can only overstate "
                "the slow share",
            )
        )
    total = groups.get("+Inf", 0)
    over = total - (groups.get(at, 0) if at is not None else 0)
    buckets = tuple(sorted((_bound(le), n) for le, n in groups.items()))
    return LatencyEvidence(
        sli,
        pop,
        threshold,
        over,
        total,
        buckets,
        tuple(issues),
        source,
        period_seconds=period.seconds,
        unobserved_seconds=unobserved_seconds(parts, clipped),
        queries=tuple(parts.queries),
    )
