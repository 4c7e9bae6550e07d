"""Exact counting on raw counter samples: increases, resets, gaps, maintenance, downtime.

Pure functions on (unix seconds, value) samples, so they are tested without a server.

Semantics (the same in the per-PoP and the fleet path):

* The increase of a sample at ``t`` is ``value - previous value``; it belongs to ``t``.
  Only samples with ``start < t <= end`` count; the baseline is the last sample at or
  before ``start`` (fetched with ``LOOKBACK`` seconds of margin).
* A drop (``value < previous``) is a counter reset: the new value is counted from 0.
  Events between the last sample before the restart and the restart itself are lost.
* A series without a baseline (created in the window, like a counter that starts at its
  first event) is counted from 0 as well.
* An increase whose time lies in a maintenance window ``(m_start, m_end]`` is excluded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from edgesla.promql import range_ms

__all__ = [
    "GAP_INTERVALS",
    "LOOKBACK",
    "LOOKBACK_EDGE",
    "Counted",
    "Gap",
    "classify_gaps",
    "count_increases",
    "down_outages",
    "down_seconds",
    "downsample_cumulative",
    "find_gaps",
    "lookback_range",
    "merge_spans",
    "runs_per_target",
    "scrape_interval",
]

#: Seconds before the window searched for the baseline sample (Prometheus' staleness lookback).
LOOKBACK: Final = 300.0
#: A range reaches this much further back than it means to, so that a sample exactly
#: ``LOOKBACK`` before the bound is in it on every server: Prometheus 2 closes ranges on the
#: left (``[t - r, t]``), Prometheus 3 and VictoriaMetrics open them (``(t - r, t]``), and
#: VictoriaMetrics 1.79 can lose a millisecond of a fractional query time. Half a second:
#: clear of both, and of the whole-second scrape times of synthetic data.
LOOKBACK_EDGE: Final = 0.5
#: No sample for more than this many scrape intervals is a gap.
GAP_INTERVALS: Final = 3

Samples = Sequence[tuple[float, float]]


def lookback_range(span: float) -> str:
    """The PromQL range of ``span`` seconds and the baseline's lookback before them (one
    ``LOOKBACK_EDGE`` wider: the same samples whether the server closes ranges or not)."""
    return f"[{range_ms(span + LOOKBACK + LOOKBACK_EDGE)}]"


Windows = Sequence[tuple[float, float]]


@dataclass
class Counted:
    """Counted events of one counter series in the window."""

    counted: int = 0  # maintenance excluded
    excluded: int = 0  # fell into a maintenance window
    excluded_by_window: dict[int, int] = field(default_factory=dict)  # window index -> events
    resets: list[float] = field(default_factory=list)  # times of the first sample after a reset
    reset_values: list[float] = field(default_factory=list)  # the value before each reset
    increments: list[tuple[float, int]] = field(default_factory=list)  # non-zero, counted only


def count_increases(samples: Samples, start: float, end: float, maintenance: Windows) -> Counted:
    """Exact increases of one counter series over ``(start, end]`` (see the module doc)."""
    out = Counted()
    previous: float | None = None
    for t, value in samples:
        if t <= start:
            previous = value
            continue
        if t > end:
            break
        if previous is None:
            increase = value
        elif value < previous:
            increase = value
            out.resets.append(t)
            out.reset_values.append(previous)
        else:
            increase = value - previous
        previous = value
        events = round(increase)
        if not events:
            continue
        window = next((i for i, (lo, hi) in enumerate(maintenance) if lo < t <= hi), None)
        if window is not None:
            out.excluded += events
            out.excluded_by_window[window] = out.excluded_by_window.get(window, 0) + events
        else:
            out.counted += events
            out.increments.append((t, events))
    return out


def scrape_interval(times: Sequence[float], default: float = 15.0) -> float:
    """The median spacing of sorted sample times (``default`` with fewer than 2 samples)."""
    steps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    return steps[len(steps) // 2] if steps else default


def find_gaps(
    times: Sequence[float], start: float, end: float, max_gap: float
) -> list[tuple[float, float]]:
    """Spans of ``[start, end]`` longer than ``max_gap`` without a sample (sorted ``times``)."""
    gaps = []
    last = start
    for t in times:
        if t <= start:
            last = start
            continue
        if t > end:
            break
        if t - last > max_gap:
            gaps.append((last, t))
        last = t
    if end - last > max_gap:
        gaps.append((last, end))
    return gaps


def merge_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching spans joined, in order."""
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _down_spans(
    up_series: Iterable[Samples], start: float, end: float, max_gap: float
) -> list[tuple[float, float]]:
    """The merged spans in which any series reported 0, unclipped, overlapping [start, end].

    A sample of 0 at ``t`` stands for ``[t, next sample)``, at most ``max_gap`` long.
    """
    spans = []
    for samples in up_series:
        for i, (t, value) in enumerate(samples):
            if value != 0:
                continue
            following = samples[i + 1][0] if i + 1 < len(samples) else t + max_gap
            hi = min(following, t + max_gap)
            if hi > start and t < end:
                spans.append((t, hi))
    return merge_spans(spans)


def down_seconds(
    up_series: Iterable[Samples], start: float, end: float, maintenance: Windows, max_gap: float
) -> float:
    """Seconds of ``[start, end]`` in which any series reported 0 (maintenance excluded)."""
    total = 0.0
    for raw_lo, raw_hi in _down_spans(up_series, start, end, max_gap):
        lo, hi = max(raw_lo, start), min(raw_hi, end)
        total += hi - lo
        for m_lo, m_hi in maintenance:
            total -= max(0.0, min(hi, m_hi) - max(lo, m_lo))
    return total


def down_outages(
    up_series: Iterable[Samples], start: float, end: float, maintenance: Windows, max_gap: float
) -> int:
    """Outages begun in ``[start, end)``: the spans in which any series was 0, each counted
    once, those begun in a maintenance window left out. Each has two edges known only to a
    probe interval."""
    return sum(
        1
        for lo, _ in _down_spans(up_series, start, end, max_gap)
        if start <= lo < end and not any(m_lo <= lo < m_hi for m_lo, m_hi in maintenance)
    )


def runs_per_target(
    series: Iterable[tuple[dict[str, str], Samples]], histogram: bool
) -> dict[str, list[tuple[float, float]]]:
    """Per target, its run counter at each sample time: the sum of the series that count
    every run (both result counters; of a latency ``histogram``, the ``+Inf`` bucket)."""
    per: dict[str, dict[float, float]] = {}
    for labels, samples in series:
        if histogram and labels.get("le") != "+Inf":
            continue
        points = per.setdefault(labels.get("target", "?"), {})
        for t, v in samples:
            points[t] = points.get(t, 0.0) + v
    return {target: sorted(points.items()) for target, points in per.items()}


@dataclass(frozen=True)
class Gap:
    """A span with no sample. ``probed``: the counters went on across it (only the scrapes
    are missing, every event was still counted); else nothing was probed, or a counter
    restarted at its end: the span is *unobserved*."""

    start: float
    end: float
    probed: bool


def classify_gaps(
    times: Sequence[float],
    runs: Samples,
    start: float,
    end: float,
    max_gap: float,
) -> list[Gap]:
    """The gaps of one target (its sample ``times``, sorted), told probed or unobserved by its
    run counter (``runs``: the sum of its result counters at each sample time).

    Probed: across the gap the counter grew by at least half of what its usual growth per
    scrape interval would have added over the gap (the sample after a gap carries one
    interval's runs of its own, so a mere one more does not count). A gap from the period's
    start to the first sample with no baseline before it, or from the last sample to the
    period's end, is unobserved: nothing says what happened there.
    """
    value = dict(runs)
    spacing = scrape_interval(times)
    deltas = sorted(
        b[1] - a[1]
        for a, b in itertools.pairwise(runs)
        if 0 < b[0] - a[0] <= 1.5 * spacing and b[1] >= a[1]
    )
    per_scrape = deltas[len(deltas) // 2] if deltas else 1.0
    baseline = [t for t in times if t <= start]
    out = []
    for lo, hi in find_gaps(times, start, end, max_gap):
        before = max((t for t in times if t <= lo), default=None)
        after = min((t for t in times if t >= hi and t > start), default=None)
        if before is None or after is None or hi >= end or (lo <= start and not baseline):
            out.append(Gap(lo, hi, probed=False))
            continue
        grew = value.get(after, 0.0) - value.get(before, 0.0)
        expected = per_scrape * (after - before) / spacing
        out.append(Gap(lo, hi, probed=grew > 0 and grew >= max(2.0, expected / 2)))
    return out


def downsample_cumulative(
    increments: Iterable[tuple[float, int]], start: float, end: float, points: int = 500
) -> list[tuple[float, int]]:
    """Cumulative sums of ``increments`` at ``points`` evenly spaced times ending at ``end``."""
    width = (end - start) / points if end > start else 1.0
    per_bin = [0] * points
    for t, n in increments:
        index = min(points - 1, max(0, int((t - start - 1e-9) // width)))
        per_bin[index] += n
    out = []
    running = 0
    for i, n in enumerate(per_bin):
        running += n
        out.append((start + (i + 1) * width, running))
    return out
