"""The resolution a probe-counted objective was judged at: how often its targets ran.

Derived from the evidence itself, never from today's config: a target's runs counted in the
period over the time it was observed (the period less maintenance and the spans in which
nothing was measured). That is the probe interval for a fixed schedule, and it holds for
data written before a config change as well as after.

A control-plane objective needs its outages measured well inside its error budget: an
outage shorter than one interval can go unseen, and each of its two edges is known only to
one interval. So the report says so when the coarsest interval of the objective's targets
is more than half the budget over the period — five nines over 30 days allow 25.9 s, so
12.96 s at most: 15-s probing is too coarse, 1-s probing (the control-plane default) is
fine. It is a warning beside the verdict, not a verdict: the counts stay exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from edgesla import conventions as conv
from edgesla import wording
from edgesla.report.model import DataIssue
from edgesla.slo.sli import KINDS

__all__ = ["coarsest", "is_control_plane", "probe_intervals", "resolution_issue"]


def _significant(value: float, digits: int = 3) -> float:
    return round(value, digits - 1 - math.floor(math.log10(value)))


def probe_intervals(
    runs: Mapping[str, int], observed: Mapping[str, float]
) -> tuple[tuple[str, float], ...]:
    """(target, seconds between its runs), by target name: observed seconds over runs
    counted, to three significant digits; targets with no run or no observed time left out."""
    out = []
    for target in sorted(runs):
        seconds = observed.get(target, 0.0)
        if runs[target] > 0 and seconds > 0:
            out.append((target, _significant(seconds / runs[target])))
    return tuple(out)


def coarsest(intervals: Iterable[tuple[str, float]]) -> float | None:
    """The longest interval (what the objective's resolution is), None when none is known."""
    return max((seconds for _, seconds in intervals), default=None)


def is_control_plane(sli: str) -> bool:
    """Does SLI ``sli`` count only control-plane probers (etcd, kube_apiserver)?"""
    kind = KINDS.get(sli)
    probers = getattr(kind, "probers", ())
    return bool(probers) and set(probers) <= set(conv.CONTROL_PLANE_PROBERS)


def resolution_issue(
    intervals: tuple[tuple[str, float], ...], budget_seconds: float, period_seconds: float
) -> DataIssue | None:
    """A ``resolution`` issue when the coarsest interval is over half ``budget_seconds`` (the
    budget over ``period_seconds``); it says how often to probe, or how long a period this
    interval can judge."""
    interval = coarsest(intervals)
    if interval is None or budget_seconds <= 0 or interval <= budget_seconds / 2:
        return None
    slow = ", ".join(t for t, s in intervals if s > budget_seconds / 2)
    longer = period_seconds * 2 * interval / budget_seconds
    return DataIssue(
        "resolution",
        f"judged at a probe every {wording.seconds(interval)} (target(s) {slow}), coarser "
        f"than half the objective's {wording.span(budget_seconds)} error budget over the "
        "period: an outage shorter than an interval can go unseen and each edge is known "
        "only to an interval; probe every "
        f"{wording.seconds(_significant(budget_seconds / 2, 4))} or more often (etcd and "
        "kube_apiserver targets default to 1 s: defaults.control_plane in the PoP config), "
        f"or judge a period of {wording.span(longer)} or more",
        seconds=interval,
    )
