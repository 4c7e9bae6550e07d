"""The charts over time: budget burn over the period, replication lag over the period.

Both put the period on a UTC time axis whose ticks fall on round moments and never
overlap (``_axes.time_candidates``) and state the period under the chart. The burn chart
draws the running count of bad events against the allowed budget and the pace that would
spend it evenly; the lag chart draws each sample as a step (it stands for one step of
time), shades the time over the threshold and the time the lag was unknown, and breaks the
line where samples are missing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from edgesla import wording
from edgesla.report.model import AvailabilityEvidence, LagEvidence, ObjectiveResult
from edgesla.report.render import _axes
from edgesla.report.render import _format as fmt
from edgesla.report.render import _layout as lay
from edgesla.report.render import _svgkit as kit
from edgesla.report.render._svgkit import BAD, GOOD, LINE, MUTED

__all__ = ["budget_burn_chart", "lag_chart"]


def _allowed(value: float) -> str:
    """An allowed number of bad events, to two significant digits: 1.8, 0.00004, 12,096."""
    if value >= 100 or value == 0:
        return fmt.count(value)
    return f"{Decimal(f'{value:.2g}'):f}"


def _spent(consumed: float) -> str:
    """The budget spent: "17 % of the error budget", "25,000 times the error budget"."""
    if consumed < 10:
        return f"{consumed * 100:.0f} % of the error budget"
    return f"{consumed:,.0f} times the error budget"


def _burn_problems(points: Sequence[tuple[datetime, float]], bad: int) -> list[str]:
    if any(not math.isfinite(v) or v < 0 for _, v in points):
        return ["the bad-event series holds values that are negative or not numbers"]
    for (_t1, v1), (t2, v2) in itertools.pairwise(points):
        if v2 < v1 - 1e-9:
            when = fmt.timestamp(t2)
            return [
                f"the cumulative bad-event count falls from {fmt.count(v1)} to "
                f"{fmt.count(v2)} at {when}, which a running count cannot do"
            ]
    if points and abs(points[-1][1] - bad) > 0.5:
        return [
            f"the series ends at {fmt.count(points[-1][1])} bad events, the verdict "
            f"counted {fmt.count(bad)}"
        ]
    return []


def budget_burn_chart(evidence: AvailabilityEvidence, result: ObjectiveResult) -> str:
    """Cumulative bad events over the period against the allowed error budget, with the
    pace at which the budget would be spent evenly."""
    title = f"Error budget burn of {evidence.sli} at {evidence.pop}"
    start, end = evidence.window_start, evidence.window_end
    caption = f"period {fmt.period_text(start, end)}"
    if result.total == 0:
        return lay.message(
            title, "burn", None, ["No events in the period: no budget to burn."], caption
        )
    bad = result.total - result.good
    allowed = result.budget_allowed or 0.0
    events = "bad event" if bad == 1 else "bad events"
    spent = _spent(result.budget_consumed or 0.0)
    head = f"{fmt.count(bad)} {events} of {_allowed(allowed)} allowed: {spent}"
    points = sorted(p for p in evidence.bad_over_time if start <= p[0] <= end)
    if points and points[0][0] > start:
        points.insert(0, (start, 0.0))  # the running count starts at 0 with the period
    found = _burn_problems(points, bad)
    if not found and len(points) < 2:
        found = ["the evidence has fewer than two points of the bad-event series in the period"]
    if found:
        why = "; ".join(found)
        return lay.message(
            title,
            "burn",
            head,
            [
                f"The budget burn is not drawn: {why}.",
                "The figures above are the verdict's own counts.",
            ],
            caption,
        )
    parts, top = lay.head(head)
    plot = lay.Plot(lay.LEFT, lay.W - lay.RIGHT, top + 2)
    y_top, y_step = _axes.linear_scale(max(max(v for _, v in points), allowed, 1e-9) * 1.12)
    parts += lay.y_axis(plot, y_top, y_step, lay.count_label)
    ticks, t0, span = lay.time_axis(plot, start, end)
    parts += ticks

    def x_of(moment: datetime) -> float:
        return plot.left + plot.width * (moment.timestamp() - t0) / span

    if allowed > 0:
        parts.append(
            kit.line(plot.left, plot.bottom, plot.right, plot.y(allowed, y_top), MUTED, dash="2 3")
        )
        parts += lay.hline(
            plot, plot.y(allowed, y_top), f"budget: {_allowed(allowed)} allowed", LINE
        )
    line = [(x_of(t), plot.y(v, y_top)) for t, v in points]
    parts.append(lay.polyline(lay.thin_xy(line), BAD, "ch-series"))
    legend, bottom = lay.legend(
        [
            ("line", BAD, "bad events so far"),
            ("dash", LINE, "error budget"),
            ("dot", MUTED, "budget spent evenly"),
        ],
        plot.bottom + 31,
    )
    parts += legend
    notes, bottom = lay.notes([caption], bottom + 14, "ch-period")
    parts += notes
    frame = lay.plot_frame(plot, f'data-y-top="{y_top:g}"')
    return kit.frame(lay.W, bottom + 7, title, [frame, *parts], "burn")


def _lag_text(seconds: float) -> str:
    """A lag in words: 80 ms, 1.48 s, 24 min 45 s."""
    return wording.measured_seconds(seconds) if seconds < 60 else fmt.duration(seconds)


def _lag_label(seconds: float) -> str:
    return f"{round(seconds, 9):g} s"


def _lag_label_ms(seconds: float) -> str:
    return f"{round(seconds * 1000, 6):g} ms"


def _runs(samples: Sequence[tuple[float, float]], step: float) -> list[list[tuple[float, float]]]:
    """Runs of known lag between gaps (more than two steps without a sample) and unknowns."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    previous: float | None = None
    for t, value in samples:
        broken = previous is not None and step > 0 and t - previous > 2 * step
        if not math.isfinite(value) or broken:
            if current:
                runs.append(current)
            current = []
        if math.isfinite(value):
            current.append((t, value))
        previous = t
    if current:
        runs.append(current)
    return runs


def _bands(
    samples: Sequence[tuple[float, float]], step: float, test: Callable[[float], bool]
) -> list[tuple[float, float]]:
    """[from, to) spans of the samples for which ``test`` holds, each sample covering a step."""
    spans: list[tuple[float, float]] = []
    for t, value in samples:
        if test(value):
            if spans and t <= spans[-1][1] + 1e-6:
                spans[-1] = (spans[-1][0], max(spans[-1][1], t + step))
            else:
                spans.append((t, t + step))
    return spans


def lag_chart(
    evidence: LagEvidence,
    result: ObjectiveResult,
    period: tuple[datetime, datetime] | None = None,
) -> str:
    """Replication lag over the period against the threshold; the time over it shaded."""
    title = f"Replication lag of {evidence.sli} at {evidence.pop}"
    step = evidence.step_seconds
    threshold = result.threshold_seconds if result.threshold_seconds is not None else math.inf
    limit = fmt.seconds_text(threshold)
    ordered = sorted(evidence.samples)
    if period is None and ordered:
        period = (ordered[0][0], ordered[-1][0])
    caption = f"period {fmt.period_text(*period)}" if period else ""
    if not ordered or period is None:
        return lay.message(title, "lag", None, ["No lag samples in the period."], caption)
    start, end = period
    if evidence.counted is not None:
        # counted on the step grid: each sample is the worst lag of a bin of steps, stamped
        # at the bin's end; drawn from the previous bin's end (the period's start for the first)
        starts = [start, *(t for t, _ in ordered[:-1])]
        ordered = [(lo, v) for lo, (_, v) in zip(starts, ordered, strict=True)]
        if len(ordered) > 1:
            step = (ordered[1][0] - ordered[0][0]).total_seconds()
    samples = [(t.timestamp(), v) for t, v in ordered if start <= t <= end]
    over = result.total - result.good
    finite = [v for _, v in samples if math.isfinite(v)]
    worst = f"worst {_lag_text(max(finite))}" if finite else "no lag known"
    if over:
        head = (
            f"Over {limit} for {fmt.duration(over * step)} ({fmt.count(over)} of "
            f"{fmt.count(result.total)} samples), {worst}"
        )
    else:
        head = f"Within ≤ {limit} the whole period ({fmt.count(result.total)} samples), {worst}"
    found = []
    if evidence.counted is not None and evidence.counted != (result.good, result.total):
        found.append(
            f"the evidence counted {fmt.count(evidence.counted[1])} steps, the verdict "
            f"{fmt.count(result.total)}"
        )
    elif evidence.counted is None and len(ordered) != result.total:
        found.append(
            f"the evidence has {fmt.count(len(ordered))} samples, the verdict "
            f"counted {fmt.count(result.total)}"
        )
    elif len(samples) != len(ordered):
        found.append(f"{fmt.count(len(ordered) - len(samples))} samples lie outside the period")
    elif not finite:
        found.append("no sample holds a known lag")
    if found:
        why = "; ".join(found)
        return lay.message(
            title,
            "lag",
            head,
            [
                f"The lag is not drawn: {why}.",
                "The figures above are the verdict's own counts.",
            ],
            caption,
        )
    parts, top = lay.head(head)
    plot = lay.Plot(lay.LEFT, lay.W - lay.RIGHT, top + 2)
    peak = max(finite)
    y_top, y_step = _axes.linear_scale(
        max(peak, threshold * 1.5 if math.isfinite(threshold) else peak, 1e-3) * 1.05
    )
    parts += lay.y_axis(plot, y_top, y_step, _lag_label if y_top >= 1 else _lag_label_ms)
    ticks, t0, span = lay.time_axis(plot, start, end)

    def x_of(t: float) -> float:
        return plot.left + plot.width * (t - t0) / span

    unknown = _bands(samples, step, lambda v: not math.isfinite(v))
    slow = _bands(samples, step, lambda v: math.isfinite(v) and v > threshold)
    for spans, colour, cls in ((slow, BAD, "ch-over"), (unknown, MUTED, "ch-unknown")):
        for lo, hi in spans:
            x0, x1 = x_of(lo), min(x_of(hi), plot.right)
            parts.append(
                kit.rect(
                    x0,
                    plot.top,
                    max(x1 - x0, 1.0),
                    plot.height,
                    colour,
                    opacity=0.16,
                    attrs=f'class="{cls}"',
                )
            )
    parts += ticks
    if math.isfinite(threshold):
        parts += lay.hline(plot, plot.y(threshold, y_top), f"threshold: within ≤ {limit}", LINE)
    for run in _runs(samples, step):
        # each sample stands for one step: a step line, level until the next sample
        ends = [t for t, _ in run[1:]] + [min(run[-1][0] + step, t0 + span)]
        line = []
        for (t, v), until in zip(run, ends, strict=True):
            y = plot.y(v, y_top)
            line += [(x_of(t), y), (x_of(until), y)]
        parts.append(lay.polyline(lay.thin_xy(line), GOOD, "ch-series"))
    items = [("line", GOOD, "lag"), ("dash", LINE, f"threshold {limit}"),
             ("shade", BAD, f"over {limit}")]  # fmt: skip
    if unknown:
        items.append(("shade", MUTED, "lag unknown (counted as over)"))
    legend, bottom = lay.legend(items, plot.bottom + 31)
    parts += legend
    notes, bottom = lay.notes([caption], bottom + 14, "ch-period")
    parts += notes
    frame = lay.plot_frame(plot, f'data-y-top="{y_top:g}"')
    return kit.frame(lay.W, bottom + 7, title, [frame, *parts], "lag")
