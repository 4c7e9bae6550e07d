"""Axis ticks whose labels never overlap: linear, logarithmic (1, 2, 5 x 10^k) and UTC time.

Every axis offers candidate tick sets from the densest to the sparsest; :func:`fit_ticks`
keeps the first whose labels (widths estimated by :func:`_svgkit.text_width`) leave a gap
between neighbours, stay inside the chart and number at most ``MAX_TICKS``. Whatever the
data size or period length, the answer is a readable set, never a smear.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edgesla.report.render._svgkit import text_width

__all__ = [
    "MAX_TICKS",
    "Tick",
    "fit_ticks",
    "linear_scale",
    "log_candidates",
    "nice_ceil",
    "nice_floor",
    "time_candidates",
]

MAX_TICKS = 12
_GAP = 6.0  # px between two neighbouring labels
_MANTISSAS = (1.0, 2.0, 5.0)


@dataclass(frozen=True)
class Tick:
    """A labelled tick: its x in the chart, its value (seconds, or a POSIX time) and label."""

    x: float
    value: float
    label: str


def _round_values(lo_exp: int, hi_exp: int) -> Iterator[float]:
    """1, 2, 5 x 10^k for k in [lo_exp, hi_exp], each as exact as a float can be."""
    for k in range(lo_exp, hi_exp + 1):
        for m in _MANTISSAS:
            yield float(f"{m:g}e{k}")


def nice_floor(value: float) -> float:
    """The largest 1, 2 or 5 x 10^k that is <= ``value`` (> 0)."""
    k = math.floor(math.log10(value))
    return max(v for v in _round_values(k - 1, k + 1) if v <= value * (1 + 1e-12))


def nice_ceil(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k that is >= ``value`` (> 0)."""
    k = math.floor(math.log10(value))
    return min(v for v in _round_values(k - 1, k + 1) if v >= value * (1 - 1e-12))


def linear_scale(value: float, cap: float | None = None) -> tuple[float, float]:
    """(axis top, tick step) for values up to ``value``: about four steps of 1, 2, 2.5 or 5
    x 10^k. With ``cap`` (100 for percentages) the top never exceeds it."""
    if cap is not None:
        value = min(value, cap)
    if value <= 0 or not math.isfinite(value):
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if raw <= m * power * (1 + 1e-12))
    top = step * math.ceil(value / step - 1e-9)
    if cap is not None and top > cap:  # cannot happen for cap = 100; kept for other caps
        top = cap
    return top, step


def log_candidates(lo: float, hi: float) -> list[list[float]]:
    """Tick values in [lo, hi], densest first: 1-2-5 per decade, powers of ten, then every
    2nd, 3rd, 5th or 10th power of ten."""
    lo_exp, hi_exp = math.floor(math.log10(lo)), math.ceil(math.log10(hi))

    def inside(v: float) -> bool:
        return lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)

    every = [v for v in _round_values(lo_exp, hi_exp) if inside(v)]
    sets = [every, [v for v in every if f"{v:e}".startswith("1")]]
    for stride in (2, 3, 5, 10):
        sets.append([v for v in sets[1] if round(math.log10(v)) % stride == 0])
    return [s for s in sets if s]


_SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
                 43200)  # fmt: skip
_DAY_STEPS = (1, 2, 7, 14)
_MONTH_STEPS = (1, 2, 3, 6, 12)


def _day_label(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


def _month_starts(start: datetime, end: datetime, every: int) -> list[datetime]:
    year, month = start.year, start.month
    found: list[datetime] = []
    while True:
        moment = datetime(year, month, 1, tzinfo=UTC)
        if moment > end:
            return found
        if moment >= start and (month - 1) % every == 0:
            found.append(moment)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def time_candidates(start: datetime, end: datetime) -> Iterator[list[tuple[float, str]]]:
    """(POSIX time, label) tick sets for the UTC period, densest first, at round moments:
    every n seconds, minutes or hours of the day, every n days from midnight, months."""
    t0, t1 = start.timestamp(), end.timestamp()
    span = max(t1 - t0, 1e-9)
    for step in _SECOND_STEPS:
        if span / step > 4 * MAX_TICKS:
            continue  # far too many to ever fit
        ticks: list[tuple[float, str]] = []
        t: float = math.ceil(t0 / step - 1e-9) * step
        while t <= t1 + 1e-9:
            moment = datetime.fromtimestamp(t, UTC)
            if step < 60:
                label = f"{moment:%H:%M:%S}"
            elif moment.hour == moment.minute == 0 and span > 6 * 3600:
                label = _day_label(moment)
            else:
                label = f"{moment:%H:%M}"
            ticks.append((t, label))
            t += step
        yield ticks
    first_midnight = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if first_midnight < start:
        first_midnight += timedelta(days=1)
    for days in _DAY_STEPS:
        if span / (days * 86400) > 4 * MAX_TICKS:
            continue
        moments = []
        moment = first_midnight
        while moment <= end:
            moments.append(moment)
            moment += timedelta(days=days)
        yield [(m.timestamp(), _day_label(m)) for m in moments]
    for months in _MONTH_STEPS:
        yield [(m.timestamp(), f"{m:%b %Y}") for m in _month_starts(start, end, months)]


def fit_ticks(
    candidates: Iterator[Sequence[tuple[float, str]]] | Sequence[Sequence[tuple[float, str]]],
    x_of: Callable[[float], float],
    size: float,
    x_min: float,
    x_max: float,
    reserved: Sequence[tuple[float, float]] = (),
) -> list[Tick]:
    """The densest candidate set whose centred labels fit: inside [x_min, x_max], clear of
    the ``reserved`` (left, right) spans, ``_GAP`` apart, at most ``MAX_TICKS``. A label
    that would leave the chart is dropped rather than squeezed. Falls back to the sparsest
    set, thinned until it fits."""

    def placed(values: Sequence[tuple[float, str]]) -> list[tuple[Tick, float, float]]:
        out = []
        for value, label in values:
            x = x_of(value)
            half = text_width(label, size) / 2
            left, right = x - half, x + half
            if left < x_min or right > x_max:
                continue
            if any(left < r_hi + _GAP and right > r_lo - _GAP for r_lo, r_hi in reserved):
                continue
            out.append((Tick(x, value, label), left, right))
        return out

    last: list[tuple[Tick, float, float]] = []
    for values in candidates:
        boxes = placed(values)
        if not boxes:
            continue
        last = boxes
        apart = all(b[1] >= a[2] + _GAP for a, b in itertools.pairwise(boxes))
        if apart and len(boxes) <= MAX_TICKS and (len(boxes) >= 2 or len(values) < 2):
            return [tick for tick, _, _ in boxes]
    kept: list[tuple[Tick, float, float]] = []
    for box in last:  # greedy: keep a label when it clears the one kept before it
        if not kept or box[1] >= kept[-1][2] + _GAP:
            kept.append(box)
    return [tick for tick, _, _ in kept[:MAX_TICKS]]
