"""From cumulative histogram buckets to the bars of the latency chart, or to why not.

``LatencyEvidence.buckets`` are (upper bound in seconds, cumulative count) pairs: a
Prometheus histogram's ``le`` buckets (a dozen wide ones) or a load test's HdrHistogram
buckets (hundreds of narrow ones, only the non-empty ones listed). :func:`problems` says in
words what makes them unfit to draw beside the verdict (counts that fall, a total that is
not the judged total, a count at the threshold that contradicts the judged one);
:func:`bars` turns fit buckets into at most ~50 display bars on a log axis:

* **wide buckets** (the median step between bounds is a quarter of a decade or more, as in
  Prometheus histograms) are drawn as they are: one bar from the bound below to the bound;
* **narrow buckets** are summed into log-spaced display bins (10, 5, 4, 2 or 1 per decade,
  so that there are at most 48), each bucket in the bin holding its upper bound. A listed
  HdrHistogram bucket is ~0.1 % wide, so this places every request within one bin.

The threshold is an edge of every summed bin, so such a bar is entirely within it (bound
<= threshold: a request at exactly the threshold counts as within, as Prometheus ``le``
does) or entirely slower; a wide bucket that holds the threshold inside it is drawn slower,
as the inputs count it when no bound sits at the threshold. Requests above the last finite
bound (``+Inf``) get their own bar, right of the axis.

Known limit: the load-test input lists only non-empty HdrHistogram buckets by their upper
bound, so a handful of requests decades apart (3 requests at 1 ms, 50 ms and 2 s) reads as
wide buckets and is drawn as wide bars. Listing each bucket's lower edge too would make
every bucket's width known.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from edgesla.report.render._axes import nice_ceil, nice_floor
from edgesla.report.render._format import count, latency_text

__all__ = ["Bar", "Layout", "bars", "problems"]

_MAX_BINS = 48
_WIDE_STEP = 0.25  # decades: Prometheus' 1-2.5-5 bounds step 0.3-0.4, HdrHistogram ~0.0004


@dataclass(frozen=True)
class Bar:
    """``count`` requests with latencies in (``lo``, ``hi``]; ``hi`` is inf for the overflow."""

    lo: float
    hi: float
    count: int
    slower: bool


@dataclass(frozen=True)
class Layout:
    """The log axis [``lo``, ``hi``] (1, 2, 5 x 10^k seconds) and the bars on it."""

    lo: float
    hi: float
    bars: tuple[Bar, ...]
    overflow: Bar | None  # requests above the last finite bound


def _bound(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else latency_text(bound)


def problems(
    buckets: Sequence[tuple[float, int]], good: int, total: int, threshold: float, noun: str
) -> list[str]:
    """Why these buckets cannot be drawn beside a verdict of ``good`` within ``threshold``
    out of ``total``; empty when they can."""
    found: list[str] = []
    values = [(float(b), c) for b, c in buckets]
    if any(math.isnan(b) for b, _ in values):
        return ["a bucket bound is not a number"]
    if any(not math.isfinite(c) or c < 0 or c != int(c) for _, c in values):
        return ["a bucket count is negative or not a whole number"]
    ordered = sorted(values)
    for (b1, _), (b2, _) in itertools.pairwise(ordered):
        if b1 == b2:
            return [f"two buckets have the same bound ≤ {_bound(b1)}"]
    falls = [
        (a, b)
        for a, b in itertools.pairwise(ordered)
        if b[1] < a[1]  # a cumulative count can only grow with its bound
    ]
    if falls:
        (b1, c1), (b2, c2) = falls[0]
        more = f" ({len(falls) - 1} more such drops)" if len(falls) > 1 else ""
        found.append(
            f"the cumulative count falls from {count(c1)} at ≤ {_bound(b1)} to {count(c2)} "
            f"at ≤ {_bound(b2)}{more}, which no histogram can do"
        )
        return found
    held = int(ordered[-1][1]) if ordered else 0
    if held != total:
        found.append(f"the buckets hold {count(held)} {noun}, the verdict counted {count(total)}")
        return found
    below = [c for b, c in ordered if b <= threshold]
    above = [c for b, c in ordered if b >= threshold]
    at_least = int(below[-1]) if below else 0  # within for sure
    at_most = int(above[0]) if above else total  # within at most
    if not at_least <= good <= at_most:
        shown = count(at_least) if at_least == at_most else f"{count(at_least)}–{count(at_most)}"
        found.append(
            f"the buckets put {shown} {noun} within ≤ {latency_text(threshold)}, "
            f"the verdict {count(good)}"
        )
    return found


def _positive(buckets: Sequence[tuple[float, int]]) -> list[tuple[float | None, float, int]]:
    """(bound below or None, bound, requests in between) for every non-empty bucket; requests
    at bounds <= 0 (not on a log axis) join the first positive bucket."""
    out: list[tuple[float | None, float, int]] = []
    previous_bound: float | None = None
    previous_count = 0
    carried = 0
    for bound, cumulative in sorted(buckets):
        n = int(cumulative) - previous_count
        previous_count = int(cumulative)
        if bound <= 0:
            carried += n
            continue
        if n + carried > 0:
            lower = previous_bound if previous_bound is not None and previous_bound > 0 else None
            out.append((lower, bound, n + carried))
            carried = 0
        previous_bound = bound
    return out


def _wide(buckets: Sequence[tuple[float, int]]) -> bool:
    bounds = sorted(b for b, _ in buckets if 0 < b < math.inf)
    steps = [math.log10(b2 / b1) for b1, b2 in itertools.pairwise(bounds)]
    return bool(steps) and statistics.median(steps) >= _WIDE_STEP


def _axis(data_lo: float, data_hi: float, threshold: float, *, exact: bool) -> tuple[float, float]:
    """Bounds around the data and the threshold, the threshold never at an edge, at least
    one decade wide: 1, 2, 5 x 10^k, or the data's own outer bounds when ``exact`` (wide
    buckets, whose bounds are where the data's knowledge ends)."""
    lo, hi = min(data_lo, threshold / 2), max(data_hi, threshold * 2)
    if not exact or lo != data_lo:
        lo = nice_floor(lo)
    if not exact or hi != data_hi:
        hi = nice_ceil(hi)
    while hi / lo < 10 * (1 - 1e-9):
        lo = nice_floor(lo * 0.999)
    return lo, hi


def _edges(lo: float, hi: float, threshold: float) -> list[float]:
    decades = math.log10(hi / lo)
    per_decade = next(n for n in (10, 5, 4, 2, 1) if n * decades <= _MAX_BINS)
    steps = math.ceil(per_decade * decades - 1e-9)
    edges = [min(lo * 10 ** (j / per_decade), hi) for j in range(steps + 1)]
    close = 10 ** (0.3 / per_decade)  # no sliver of a bin next to the threshold
    edges = [e for e in edges if not 1 / close < e / threshold < close] + [threshold]
    return sorted({*edges, lo, hi})


def bars(buckets: Sequence[tuple[float, int]], threshold: float) -> Layout:
    """The display bars of ``buckets`` (fit to draw: :func:`problems` found nothing)."""
    nonempty = _positive(buckets)
    finite = [b for b in nonempty if math.isfinite(b[1])]
    spill = sum(n for _, bound, n in nonempty if math.isinf(bound))
    last_finite = max((b for b, _ in buckets if 0 < b < math.inf), default=threshold)
    wide = _wide(buckets)
    if finite:
        first_lower, first_bound, _ = finite[0]
        data_lo = (first_lower or first_bound / 2) if wide else first_bound
        data_hi = finite[-1][1]
    else:
        data_lo = data_hi = min(last_finite, threshold)
    lo, hi = _axis(data_lo, data_hi, threshold, exact=wide)
    shown: list[Bar] = []
    if wide:
        for lower, bound, n in finite:
            shown.append(Bar(max(lower or lo, lo), bound, n, bound > threshold))
    else:
        edges = _edges(lo, hi, threshold)
        sums = [0] * (len(edges) - 1)
        for _, bound, n in finite:
            index = next(i for i in range(len(sums)) if bound <= edges[i + 1] * (1 + 1e-12))
            sums[index] += n
        shown = [
            Bar(edges[i], edges[i + 1], n, edges[i] >= threshold * (1 - 1e-12))
            for i, n in enumerate(sums)
            if n
        ]
    overflow = Bar(last_finite, math.inf, spill, last_finite >= threshold) if spill else None
    return Layout(lo, hi, tuple(shown), overflow)
