"""Small inline-SVG charts for the HTML report: no JavaScript, no external fetches.

Each function takes evidence, returns one ``<svg>`` element as a string (text escaped),
with a ``<title>`` for screen readers. Long series are thinned to at most ``_MAX_POINTS``
points, keeping the maximum of each slice so that spikes stay visible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from edgesla.report.model import AvailabilityEvidence, LagEvidence, LatencyEvidence
from edgesla.report.render._format import count, seconds_text

__all__ = ["budget_burn_chart", "lag_chart", "latency_chart"]

_W, _H = 460, 190
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 12, 14, 34
_MAX_POINTS = 400
_INK, _GRID, _GOOD, _BAD, _LINE = "#1f2937", "#e5e7eb", "#2563eb", "#dc2626", "#b45309"


def _frame(title: str, body: list[str]) -> str:
    head = (
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" '
        f'role="img" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>"
    )
    return head + "".join(body) + "</svg>"


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = _INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _scale(value: float) -> tuple[float, float]:
    """(axis maximum, tick step): about four ticks of 1, 2, 2.5 or 5 times a power of ten."""
    if value <= 0 or not math.isfinite(value):
        return 1.0, 0.25
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if raw <= m * power)
    return step * math.ceil(value / step - 1e-9), step


def _small(x: float, y: float, text: str) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="9.5" fill="{_INK}">'
        f"{escape(text)}</text>"
    )


def _axes(y_max: float, step: float, unit: str) -> list[str]:
    """Horizontal grid with labelled ticks and the plot's bottom axis."""
    parts = []
    plot_h = _H - _TOP - _BOTTOM
    ticks = round(y_max / step)
    for i in range(ticks + 1):
        y = _TOP + plot_h * (1 - i / ticks)
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="{_GRID}"/>'
        )
        parts.append(_text(_LEFT - 6, y + 4, f"{step * i:.4g}{unit}", "end"))
    parts.append(
        f'<line x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W - _RIGHT}" y2="{_H - _BOTTOM}" '
        f'stroke="{_INK}"/>'
    )
    return parts


def _thin(points: Sequence[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    if len(points) <= _MAX_POINTS:
        return list(points)
    size = math.ceil(len(points) / _MAX_POINTS)
    return [max(points[i : i + size], key=lambda p: p[1]) for i in range(0, len(points), size)]


def _time_series(
    points: Sequence[tuple[datetime, float]],
    y_max: float,
    stroke: str,
) -> tuple[str, float, float]:
    """A polyline of (time, value) points; returns it with the time span's start and length."""
    start = points[0][0].timestamp()
    span = max(points[-1][0].timestamp() - start, 1.0)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    coords = " ".join(
        f"{_LEFT + plot_w * (t.timestamp() - start) / span:.1f},"
        f"{_TOP + plot_h * (1 - min(v, y_max) / y_max):.1f}"
        for t, v in points
    )
    line = f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="1.6"/>'
    return line, start, span


def _time_labels(points: Sequence[tuple[datetime, float]]) -> list[str]:
    first, last = points[0][0], points[-1][0]
    fmt = "%m-%d" if (last - first).total_seconds() > 2 * 86400 else "%H:%M"
    y = _H - _BOTTOM + 16
    return [
        _text(_LEFT, y, first.strftime(fmt)),
        _text(_W - _RIGHT, y, last.strftime(fmt), "end"),
        _text((_LEFT + _W - _RIGHT) / 2, y + 13, "time (UTC)", "middle"),
    ]


def _hline(y_value: float, y_max: float, text: str, colour: str = _LINE) -> list[str]:
    plot_h = _H - _TOP - _BOTTOM
    y = _TOP + plot_h * (1 - min(y_value, y_max) / y_max)
    return [
        f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}" stroke="{colour}" '
        f'stroke-width="1.5" stroke-dasharray="6 3"/>',
        _text(_W - _RIGHT - 4, y - 4, text, "end", colour),
    ]


def _empty(title: str, why: str) -> str:
    return _frame(title, [_text(_W / 2, _H / 2, why, "middle", "#6b7280")])


def _bound_ms(bound: float) -> str:
    """A bucket's upper bound in milliseconds, as short as it can be: ``0.0025`` -> ``2.5``."""
    return "+Inf" if math.isinf(bound) else f"{bound * 1000:g}"


def latency_chart(evidence: LatencyEvidence) -> str:
    """Share of requests in each histogram bucket, bars past the threshold in red."""
    title = f"Latency distribution of {evidence.sli} at {evidence.pop}"
    buckets = sorted(evidence.buckets, key=lambda b: b[0])
    if not buckets or evidence.total <= 0:
        return _empty(title, "no histogram buckets in the evidence")
    shares: list[tuple[float, float]] = []  # (upper bound, share of all requests)
    previous = 0
    for bound, cumulative in buckets:
        shares.append((bound, max(cumulative - previous, 0) / evidence.total))
        previous = cumulative
    y_max, step = _scale(max(s for _, s in shares) * 100)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = plot_w / len(shares)
    parts = _axes(y_max, step, " %")
    threshold_x = None
    for i, (bound, share) in enumerate(shares):
        height = plot_h * min(share * 100, y_max) / y_max
        x = _LEFT + i * slot
        colour = _BAD if bound > evidence.threshold_seconds else _GOOD
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{_TOP + plot_h - height:.1f}" width="{slot - 4:.1f}" '
            f'height="{height:.1f}" fill="{colour}"/>'
        )
        parts.append(_small(x + slot / 2, _H - _BOTTOM + 13, _bound_ms(bound)))
        if math.isclose(bound, evidence.threshold_seconds):
            threshold_x = x + slot
    # bounds as bare numbers in one unit, so twelve fit side by side; the unit labels the row
    parts.append(_text(_LEFT - 6, _H - _BOTTOM + 13, "≤ ms", "end"))
    if threshold_x is not None:
        parts.append(
            f'<line x1="{threshold_x:.1f}" y1="{_TOP}" x2="{threshold_x:.1f}" '
            f'y2="{_H - _BOTTOM}" stroke="{_LINE}" stroke-width="2" stroke-dasharray="6 3"/>'
        )
        label = f"threshold {seconds_text(evidence.threshold_seconds)}"
        parts.append(_text(threshold_x + 4, _TOP + 10, label, fill=_LINE))
    over = evidence.over / evidence.total * 100
    parts.append(
        _text(_LEFT, _H - 4, f"{over:.2f} % of {count(evidence.total)} requests over the threshold")
    )
    return _frame(title, parts)


def budget_burn_chart(evidence: AvailabilityEvidence, budget_allowed: float | None) -> str:
    """Cumulative bad events over the window against the allowed error budget."""
    title = f"Error budget burn of {evidence.sli} at {evidence.pop}"
    points = _thin(evidence.bad_over_time)
    if len(points) < 2:
        return _empty(title, "no bad-events series in the evidence")
    allowed = budget_allowed or 0.0
    y_max, step = _scale(max(max(v for _, v in points), allowed) * 1.1)
    parts = _axes(y_max, step, "")
    if allowed > 0:
        parts += _hline(allowed, y_max, f"budget: {count(allowed)} bad events")
        plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
        pace_y = _TOP + plot_h * (1 - allowed / y_max)
        parts.append(
            f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{pace_y:.1f}" '
            f'stroke="#9ca3af" stroke-dasharray="2 3"/>'
        )
    line, _, _ = _time_series(points, y_max, _BAD)
    parts.append(line)
    parts += _time_labels(points)
    return _frame(title, parts)


def lag_chart(evidence: LagEvidence, threshold_seconds: float | None) -> str:
    """Replication lag over time with the objective's threshold."""
    title = f"Replication lag of {evidence.sli} at {evidence.pop}"
    points = _thin(evidence.samples)
    if len(points) < 2:
        return _empty(title, "fewer than two lag samples in the evidence")
    peak = max(v for _, v in points)
    y_max, step = _scale(max(peak, (threshold_seconds or 0.0) * 1.3))
    parts = _axes(y_max, step, " s")
    if threshold_seconds is not None:
        parts += _hline(threshold_seconds, y_max, f"threshold {seconds_text(threshold_seconds)}")
    line, _, _ = _time_series(points, y_max, _GOOD)
    parts.append(line)
    parts += _time_labels(points)
    return _frame(title, parts)
