"""Wording and number formatting shared by every renderer, so all outputs say the same thing.

Percentages are rounded *down* (never show 100 % or a met objective that was missed);
figures carry just enough decimals to be compared with their objective.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from edgesla import wording
from edgesla.report.model import ObjectiveResult, Report, Verdict, overall

__all__ = [
    "bound_text",
    "budget_text",
    "count",
    "decimals_for",
    "describe_objective",
    "downtime_text",
    "duration",
    "events_needed_text",
    "headline",
    "label",
    "latency_text",
    "measured_text",
    "objective_pct",
    "pct",
    "period_text",
    "seconds_text",
    "share_text",
    "timestamp",
    "window_seconds",
    "window_text",
    "worst_first",
]

_RANK: dict[Verdict, int] = {"FAIL": 0, "INCONCLUSIVE": 1, "PASS": 2}


def decimals_for(objective: float) -> int:
    """Decimals to show a ratio next to ``objective``: one more than the objective needs, >= 2."""
    text = f"{objective * 100:.6f}".rstrip("0").rstrip(".")
    needed = len(text.split(".")[1]) if "." in text else 0
    return max(2, needed + 1)


def pct(ratio: float | None, decimals: int = 2, *, up: bool = False) -> str:
    """``0.9999958`` -> ``"99.9995 %"``; rounded down (or up with ``up=True``); ``None`` -> n/a."""
    if ratio is None or math.isnan(ratio):
        return "n/a"
    scale = 10**decimals
    raw = ratio * 100 * scale
    value = math.ceil(raw - 1e-6) if up else math.floor(raw + 1e-6)
    return f"{value / scale:.{decimals}f} %"


def objective_pct(objective: float) -> str:
    """The objective exactly as written: ``0.99999`` -> ``"99.999 %"``."""
    return f"{objective * 100:.6f}".rstrip("0").rstrip(".") + " %"


def count(value: float) -> str:
    """Thousands separators; fractions (allowed bad events) keep one decimal."""
    if abs(value - round(value)) < 1e-6:
        return f"{round(value):,}"
    return f"{value:,.1f}"


def seconds_text(seconds: float) -> str:
    """A latency or lag threshold: ``0.01`` -> ``"10 ms"``, ``1.5`` -> ``"1.5 s"``."""
    return wording.seconds(seconds)


def latency_text(seconds: float) -> str:
    """A latency tick: ``0.0005`` -> ``"500 µs"``, ``0.02`` -> ``"20 ms"``, ``2`` -> ``"2 s"``."""
    if seconds >= 1:
        return f"{seconds:g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.4g} ms"
    return f"{seconds * 1e6:.4g} µs"


def share_text(part: int, whole: int, *, up: bool = False, digits: int = 2) -> str:
    """``part`` of ``whole`` in percent with at least ``digits`` decimals, more until it is
    neither 0 nor 100 % unless it is: ``1`` of ``1,000,000`` -> ``"0.0001 %"``. Rounded
    down, or up with ``up=True`` (for a bad share: never flatter the objective either way)."""
    if whole <= 0:
        return "n/a"
    if part in (0, whole):
        return "0 %" if part == 0 else "100 %"
    ratio = part / whole
    for shown in range(digits, 9):
        if pct(ratio, shown).strip("0. %") and not pct(ratio, shown, up=up).startswith("100"):
            return pct(ratio, shown, up=up)
    return pct(ratio, 9, up=up)


def period_text(start: datetime, end: datetime) -> str:
    """The period a chart covers, in UTC: ``2025-05-01 00:00 → 2025-06-01 00:00 UTC (31 d)``;
    seconds are shown when either end has them, the date once when both are on one day."""
    with_seconds = start.second or end.second or start.microsecond or end.microsecond
    clock = "%H:%M:%S" if with_seconds else "%H:%M"
    head = start.strftime(f"%Y-%m-%d {clock}")
    tail = end.strftime(clock if start.date() == end.date() else f"%Y-%m-%d {clock}")
    return f"{head} → {tail} UTC ({duration((end - start).total_seconds())})"


def duration(seconds: float) -> str:
    """A span a manager reads: ``26 s``, ``3 min 20 s``, ``2 h 5 min``, ``30 d``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 or seconds == 0 else f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = seconds / 86400
    return f"{days:.0f} d" if days.is_integer() or days >= 10 else f"{days:.1f} d"


def timestamp(moment: datetime) -> str:
    """``2025-05-01 00:00 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def window_text(report: Report) -> str:
    """``November 2026 (UTC): 2026-11-01 00:00 UTC → 2026-12-01 00:00 UTC (30 d)``."""
    span = (report.window_end - report.window_start).total_seconds()
    bounds = f"{timestamp(report.window_start)} → {timestamp(report.window_end)} ({duration(span)})"
    return f"{report.period}: {bounds}" if report.period else bounds


def resolution_text(report: Report) -> str:
    """The resolution judged at, per probe-counted objective (its coarsest target, PoPs
    included): ``controlplane-availability every 1 s · probe-availability every 5 s``; ""
    when no objective was counted from edgesla.probes."""
    coarsest: dict[str, float] = {}
    for r in report.objectives:
        if r.probe_interval_seconds:
            coarsest[r.name] = max(coarsest.get(r.name, 0.0), r.probe_interval_seconds)
    return " · ".join(f"{name} every {wording.seconds(s)}" for name, s in coarsest.items())


def label(result: ObjectiveResult) -> str:
    """``Edge NoSQL query latency @ pop-fra1``."""
    return f"{result.name} @ {result.pop}"


def describe_objective(result: ObjectiveResult) -> str:
    """The objective in words: ``≥ 99.999 % good``, ``p99 ≤ 10 ms``, ``lag ≤ 1 s ...``."""
    if result.kind == "latency" and result.threshold_seconds is not None:
        quantile = f"{result.objective * 100:g}"
        return f"p{quantile} {wording.within(result.threshold_seconds)}"
    if result.kind == "replication_lag" and result.threshold_seconds is not None:
        return (
            f"lag {wording.within(result.threshold_seconds)} "
            f"for ≥ {objective_pct(result.objective)} of the time"
        )
    return f"≥ {objective_pct(result.objective)} good"


def measured_text(result: ObjectiveResult) -> str:
    """The measured ratio in the objective's own terms."""
    figure = pct(result.measured, decimals_for(result.objective))
    if result.total == 0 or result.measured is None:
        return "no data"
    if result.kind == "latency" and result.threshold_seconds is not None:
        return f"{figure} within {seconds_text(result.threshold_seconds)}"
    if result.kind == "replication_lag" and result.threshold_seconds is not None:
        return f"{figure} of the time within {seconds_text(result.threshold_seconds)}"
    return f"{figure} good"


def bound_text(result: ObjectiveResult) -> str:
    """``between 99.9991 % and 99.9999 % at 95 % confidence``."""
    if result.lower_bound is None and result.upper_bound is None:
        return "no bound: no data"
    digits = decimals_for(result.objective)
    conf = objective_pct(result.confidence)
    low = pct(result.lower_bound, digits)
    high = pct(result.upper_bound, digits, up=True)
    return f"{low} … {high} at {conf} confidence"


def budget_text(result: ObjectiveResult) -> str:
    """``17 % consumed (2 bad of 12.1 allowed), 83 % left``."""
    if result.budget_consumed is None or result.budget_allowed is None:
        return "n/a"
    used = result.budget_consumed
    bad = result.total - result.good
    allowed = count(result.budget_allowed)
    head = f"{used * 100:.0f} % consumed ({count(bad)} bad of {allowed} allowed)"
    if used > 1:
        return f"{head}, overspent by {(used - 1) * 100:.0f} %"
    return f"{head}, {(1 - used) * 100:.0f} % left"


def downtime_text(result: ObjectiveResult, window_seconds: float) -> str:
    """``12 s of 26 s allowed`` for availability; time over the threshold for lag."""
    if result.downtime_seconds is None:
        return "n/a"
    spent = duration(result.downtime_seconds)
    if result.kind == "availability":
        allowed = (1 - result.objective) * window_seconds
        return f"{spent} of {duration(allowed)} allowed"
    return spent


def events_needed_text(result: ObjectiveResult, window_seconds: float) -> str:
    """``126,772 more good events with no failure (≈ 22 d more at the current rate)``."""
    if result.events_needed is None:
        return ""
    text = f"{count(result.events_needed)} more good events with no failure"
    if result.total > 0 and window_seconds > 0:
        rate = result.total / window_seconds
        text += f" (≈ {duration(result.events_needed / rate)} more at the current rate)"
    return text


def worst_first(results: Iterable[ObjectiveResult]) -> list[ObjectiveResult]:
    """FAIL, then INCONCLUSIVE, then PASS; stable otherwise."""
    return sorted(results, key=lambda r: _RANK[r.verdict])


def headline(report: Report) -> str:
    """The one-line reason behind the overall verdict."""
    results = report.objectives
    if not results:
        return "No objective could be evaluated: there is no evidence, so no PASS."
    failed = [r for r in results if r.verdict == "FAIL"]
    unsure = [r for r in results if r.verdict == "INCONCLUSIVE"]
    conf = objective_pct(report.confidence)
    if failed:
        names = ", ".join(label(r) for r in failed[:3]) + (" …" if len(failed) > 3 else "")
        return f"{len(failed)} of {len(results)} objectives broken: {names}."
    if unsure:
        names = ", ".join(label(r) for r in unsure[:3]) + (" …" if len(unsure) > 3 else "")
        return (
            f"No objective broken, but {len(unsure)} of {len(results)} lack the evidence "
            f"for a PASS at {conf} confidence: {names}."
        )
    verdict = overall([r.verdict for r in results])
    return f"All {len(results)} objectives met at {conf} confidence ({verdict})."


def window_seconds(report: Report) -> float:
    """Length of the report window in seconds."""
    return (report.window_end - report.window_start) / timedelta(seconds=1)
