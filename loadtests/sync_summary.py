"""The ``sync`` scenario's answer: lookup latency before, during and after the sync.

    summarize(run, rate, threshold) -> SyncSummary

Latencies are exact (every lookup's own, from its intended start); p99 is the nearest-rank
value. The verdict: FAIL when lookups during the sync had a p99 over ``threshold`` (the
customer-care objective, 200 ms by default), INCONCLUSIVE when something planned is missing
(a lookup failed or never started, a sync batch failed, a window holds no lookup), PASS
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from edgesla.loadtests.sync import Lookup, SyncRun

__all__ = ["SyncSummary", "WindowStats", "summarize"]

WINDOWS = ("before", "during", "after")


@dataclass(frozen=True)
class WindowStats:
    lookups: int
    failed: int
    p50: float | None
    p99: float | None
    max: float | None


@dataclass
class SyncSummary:
    verdict: Literal["PASS", "FAIL", "INCONCLUSIVE"]
    windows: dict[str, WindowStats]
    planned_lookups: int
    not_started: int
    reasons: list[str] = field(default_factory=list)


def _rank(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    return values[max(0, math.ceil(q * len(values)) - 1)]


def _stats(lookups: Sequence[Lookup]) -> WindowStats:
    ok = sorted(x.latency for x in lookups if x.latency is not None)
    return WindowStats(
        len(lookups),
        len(lookups) - len(ok),
        _rank(ok, 0.5),
        _rank(ok, 0.99),
        ok[-1] if ok else None,
    )


def _window(run: SyncRun, lookup: Lookup) -> str:
    if lookup.intended < run.sync.start:
        return "before"
    return "during" if lookup.intended < run.sync.end else "after"


def summarize(run: SyncRun, rate: float, threshold: float) -> SyncSummary:
    parts: dict[str, list[Lookup]] = {w: [] for w in WINDOWS}
    for lookup in run.lookups:
        parts[_window(run, lookup)].append(lookup)
    windows = {w: _stats(parts[w]) for w in WINDOWS}
    planned = math.ceil(run.duration * rate)  # intended starts i / rate < duration
    summary = SyncSummary("PASS", windows, planned, max(0, planned - len(run.lookups)))
    failed = sum(s.failed for s in windows.values())
    if failed:
        first = next(x.error for x in run.lookups if x.latency is None)
        summary.reasons.append(f"{failed} lookups failed ({first})")
    if summary.not_started > max(1, planned // 100):
        summary.reasons.append(
            f"{summary.not_started} planned lookups never started (the generator fell behind)"
        )
    summary.reasons += run.failed_batches
    if run.synced_documents != run.planned_documents:
        summary.reasons.append(
            f"{run.synced_documents} of {run.planned_documents} documents synced"
        )
    summary.reasons += [f"no lookup {w} the sync" for w in WINDOWS if not windows[w].lookups]
    during = windows["during"].p99
    if during is not None and during > threshold:
        summary.verdict = "FAIL"
    elif summary.reasons:
        summary.verdict = "INCONCLUSIVE"
    return summary
