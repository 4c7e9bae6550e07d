"""Layout shared by the report's charts: the plot box, the statement above it, axes,
legends, notes, and the chart that says in words why there is nothing honest to draw.

Charts are 460 px wide in SVG units (they scale with their figure); every text row has a
fixed place, so rows never overlap whatever the data, and long texts wrap instead of
leaving the chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from edgesla.report.render import _axes
from edgesla.report.render import _format as fmt
from edgesla.report.render import _svgkit as kit
from edgesla.report.render._svgkit import GRID, INK, MUTED

__all__ = [
    "HEAD",
    "LEFT",
    "RIGHT",
    "SMALL",
    "TICK",
    "TICK_Y",
    "Plot",
    "W",
    "count_label",
    "head",
    "hline",
    "legend",
    "message",
    "notes",
    "plot_frame",
    "polyline",
    "thin_xy",
    "time_axis",
    "x_ticks",
    "y_axis",
]

W = 460.0
LEFT, RIGHT = 54.0, 14.0
PLOT_H = 128.0
HEAD, TICK, SMALL = 11.0, 10.0, 9.5  # font sizes: the statement, tick labels, legends
TICK_Y = 17.0  # baseline of x tick labels below the plot: clear of the y axis's "0" label
MAX_POINTS = 600  # per line: about one per pixel and a half


@dataclass(frozen=True)
class Plot:
    """The plot area of a chart: its box, and the rows of text around it."""

    left: float
    right: float
    top: float
    height: float = PLOT_H

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def width(self) -> float:
        return self.right - self.left

    def y(self, value: float, top_value: float) -> float:
        return self.bottom - self.height * min(max(value, 0.0), top_value) / top_value


def head(value: str) -> tuple[list[str], float]:
    """The statement above the plot (wrapped); returns its parts and the plot's top."""
    rows = kit.wrap(value, W - 8, HEAD, bold=True)
    parts = [
        kit.text(4, 15 + 14 * i, row, size=HEAD, weight="bold", cls="ch-head")
        for i, row in enumerate(rows)
    ]
    return parts, 15 + 14 * (len(rows) - 1) + 19


def legend(items: Sequence[tuple[str, str, str]], y: float) -> tuple[list[str], float]:
    """Legend entries (swatch kind, colour, words) left to right, wrapping; returns the parts
    and the baseline of the last row. Swatches: "box", "line", "dash", "dot", "shade"."""
    parts: list[str] = []
    x = 4.0
    for kind, colour, words in items:
        width = 16 + kit.text_width(words, SMALL)
        if x > 4 and x + width > W - 4:
            x, y = 4.0, y + 13
        if kind == "box":
            parts.append(kit.rect(x, y - 8, 9, 9, colour))
        elif kind == "shade":
            parts.append(kit.rect(x, y - 8, 9, 9, colour, opacity=0.18, stroke=colour))
        else:
            dash = {"dash": "5 2", "dot": "2 2"}.get(kind)
            parts.append(kit.line(x, y - 4, x + 11, y - 4, colour, width=2, dash=dash))
        parts.append(kit.text(x + 14, y, words, size=SMALL, fill=INK))
        x += width + 10
    return parts, y


def notes(lines: Sequence[str], y: float, cls: str) -> tuple[list[str], float]:
    """Small muted lines from baseline ``y`` down, each wrapped to the chart's width;
    returns the parts and the last baseline."""
    parts: list[str] = []
    y -= 13
    for value in lines:
        for row in kit.wrap(value, W - 8, SMALL):
            y += 13
            parts.append(kit.text(4, y, row, size=SMALL, fill=MUTED, cls=cls))
    return parts, y


def message(
    title: str, kind: str, statement: str | None, words: Sequence[str], caption: str = ""
) -> str:
    """A chart that says, instead of drawing, why there is nothing honest to draw: the
    ``statement`` (the verdict's counts) on top, then ``words``, then the ``caption``."""
    parts: list[str] = []
    top = 20.0
    if statement:
        parts, top = head(statement)
    rows: list[str] = []
    for paragraph in words:
        rows += [*kit.wrap(paragraph, W - 40, HEAD), ""]
    height = 14 * len(rows) + 10
    parts.append(kit.rect(8, top, W - 16, height, "#f9fafb", stroke=GRID))
    for i, row in enumerate(rows):
        if row:
            parts.append(kit.text(20, top + 20 + 14 * i, row, fill=MUTED, size=HEAD))
    bottom = top + height
    if caption:
        lines, bottom = notes([caption], bottom + 16, "ch-period")
        parts += lines
    return kit.frame(W, bottom + 8, title, parts, f"{kind} chart-message")


def y_axis(plot: Plot, top_value: float, step: float, label: Callable[[float], str]) -> list[str]:
    """Horizontal grid lines with their labels left of the plot, and the baseline."""
    parts = []
    for i in range(round(top_value / step) + 1):
        value = step * i
        y = plot.y(value, top_value)
        parts.append(kit.line(plot.left, y, plot.right, y, GRID))
        parts.append(
            kit.text(plot.left - 5, y + 3.5, label(value), anchor="end", size=TICK, cls="ch-tick")
        )
    parts.append(kit.line(plot.left, plot.bottom, plot.right, plot.bottom, INK))
    return parts


def x_ticks(plot: Plot, ticks: Sequence[_axes.Tick]) -> list[str]:
    parts = []
    for tick in ticks:
        parts.append(kit.line(tick.x, plot.bottom, tick.x, plot.bottom + 4, INK))
        parts.append(
            kit.text(
                tick.x, plot.bottom + TICK_Y, tick.label, anchor="middle", size=TICK, cls="ch-tick"
            )
        )
    return parts


def plot_frame(plot: Plot, attrs: str) -> str:
    """An invisible rectangle marking the plot area (what the in-browser tests measure)."""
    return kit.rect(
        plot.left, plot.top, plot.width, plot.height, "none", attrs=f'class="ch-plot" {attrs}'
    )


def time_axis(plot: Plot, start: datetime, end: datetime) -> tuple[list[str], float, float]:
    """The UTC time ticks of the period; returns them with the period's start and length."""
    t0, span = start.timestamp(), max((end - start).total_seconds(), 1e-9)

    def x_of(t: float) -> float:
        return plot.left + plot.width * (t - t0) / span

    ticks = _axes.fit_ticks(_axes.time_candidates(start, end), x_of, TICK, 2, W - 2)
    return x_ticks(plot, ticks), t0, span


def polyline(points: Sequence[tuple[float, float]], colour: str, cls: str) -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline class="{cls}" points="{coords}" fill="none" stroke="{colour}" '
        f'stroke-width="1.6" stroke-linejoin="round"/>'
    )


def hline(plot: Plot, y: float, words: str, colour: str, *, below: bool = False) -> list[str]:
    """A dashed horizontal line across the plot, its words at the right end (inside)."""
    text_y = y + 12 if below or y - plot.top < 14 else y - 4
    return [
        kit.line(plot.left, y, plot.right, y, colour, width=1.5, dash="6 3"),
        kit.text(
            plot.right - 3, text_y, words, anchor="end", fill=colour, size=SMALL, cls="ch-mark"
        ),
    ]


def thin_xy(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most ``MAX_POINTS`` screen points, the highest of each slice (the smallest y: y
    grows downwards), so that spikes stay visible."""
    if len(points) <= MAX_POINTS:
        return list(points)
    size = math.ceil(len(points) / MAX_POINTS)
    return [min(points[i : i + size], key=lambda p: p[1]) for i in range(0, len(points), size)]


def count_label(value: float) -> str:
    """A count on a y axis, short: 0.5, 12, 1,500, 20 k, 1.5 M."""
    if value >= 1e6:
        return f"{value / 1e6:g} M"
    if value >= 1e4:
        return f"{value / 1e3:g} k"
    return fmt.count(value) if value >= 1 else f"{value:g}"
