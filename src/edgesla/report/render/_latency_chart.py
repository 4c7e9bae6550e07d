"""The latency chart: the distribution of the judged requests against the threshold.

Histogram buckets become display bars on a log axis (``_latency_bins``); the threshold is a
dashed line with the judged shares either side of it ("98.81 % within ≤ 10 ms", "1.19 %
slower"), all from the result's good/total, the counts the verdict used. Bars are shares of
that total, so none passes 100 %; buckets that cannot stand beside the verdict (counts that
fall, another total) are not drawn, and the chart says why.
"""

from __future__ import annotations

import math

from edgesla.report.model import LatencyEvidence, ObjectiveResult
from edgesla.report.render import _axes, _latency_bins
from edgesla.report.render import _format as fmt
from edgesla.report.render import _layout as lay
from edgesla.report.render import _svgkit as kit
from edgesla.report.render._svgkit import BAD, GOOD, GRID, INK, LINE

__all__ = ["latency_chart", "latency_problems"]

_SLOT = 36.0  # the "> last bound" bar, right of the log axis


def _noun(sli: str, n: int = 2) -> str:
    """What a latency SLI counts, for ``n`` of them: "probes" or "requests"."""
    word = "probe" if "probe" in sli else "request"
    return word if n == 1 else f"{word}s"


def latency_problems(evidence: LatencyEvidence, result: ObjectiveResult) -> list[str]:
    """Why the evidence's buckets cannot be shown beside the result (empty when they can);
    the HTML detail line ("p99 ≤ …") is read off the buckets only when this is empty."""
    if not evidence.buckets:
        return ["the evidence has no histogram buckets"]
    return _latency_bins.problems(
        evidence.buckets,
        result.good,
        result.total,
        evidence.threshold_seconds,
        _noun(evidence.sli),
    )


def latency_chart(evidence: LatencyEvidence, result: ObjectiveResult) -> str:
    """Share of the judged requests per latency bin (log axis), the threshold marked, the
    shares within and slower than it stated from the result's counts."""
    title = f"Latency distribution of {evidence.sli} at {evidence.pop}"
    threshold = evidence.threshold_seconds
    limit = fmt.seconds_text(threshold)
    total, good = result.total, result.good
    noun = _noun(evidence.sli, total)
    held = max((c for _, c in evidence.buckets), default=0)
    if total == 0 and held == 0:
        return lay.message(title, "latency", None, [f"No {_noun(evidence.sli)} in the period."])
    head = (
        f"{fmt.count(total)} {noun}: {fmt.count(good)} within ≤ {limit}, "
        f"{fmt.count(total - good)} slower"
        if total
        else f"No {_noun(evidence.sli)} were judged in the period"
    )
    found = latency_problems(evidence, result)
    if not 0 < threshold < math.inf:
        found = [f"the threshold ({threshold:g} s) is not a positive duration"]
    if found:
        return lay.message(
            title,
            "latency",
            head,
            [
                f"The latency distribution is not drawn: {'; '.join(found)}.",
                "The figures above are the verdict's own counts.",
            ],
        )
    layout = _latency_bins.bars(evidence.buckets, threshold)
    parts, top = lay.head(head)
    right = lay.W - lay.RIGHT - (_SLOT + 10 if layout.overflow else 0)
    plot = lay.Plot(lay.LEFT, right, top + 4)
    span = math.log10(layout.hi / layout.lo)

    def x_of(seconds: float) -> float:
        return plot.left + plot.width * math.log10(seconds / layout.lo) / span

    drawn = [*layout.bars, *([layout.overflow] if layout.overflow else [])]
    if not drawn:  # only bounds <= 0, which a log axis cannot show
        return lay.message(title, "latency", head, ["No bucket has a bound above 0 s."])
    peak = max(b.count for b in drawn) / total
    y_top, y_step = _axes.linear_scale(peak * 100, cap=100)
    parts += lay.y_axis(plot, y_top, y_step, lambda v: f"{v:g} %")
    for value in _axes.log_candidates(layout.lo, layout.hi)[0]:  # faint 1-2-5 grid
        parts.append(kit.line(x_of(value), plot.top, x_of(value), plot.bottom, GRID))
    reserved: list[tuple[float, float]] = []
    for bar in drawn:
        share = bar.count / total
        if math.isinf(bar.hi):
            x0, x1 = lay.W - lay.RIGHT - _SLOT, lay.W - lay.RIGHT
            more = f"> {fmt.latency_text(bar.lo)}"
            half = kit.text_width(more, lay.TICK) / 2
            reserved.append(((x0 + x1) / 2 - half, (x0 + x1) / 2 + half))
            parts.append(kit.line(x0, plot.bottom, x1, plot.bottom, INK))
            parts.append(
                kit.text(
                    (x0 + x1) / 2,
                    plot.bottom + lay.TICK_Y,
                    more,
                    anchor="middle",
                    size=lay.TICK,
                    cls="ch-tick",
                )
            )
        else:
            x0, x1 = x_of(bar.lo), x_of(bar.hi)
        width = max(x1 - x0 - 1.0, 1.5)  # one px apart; a narrow bin stays visible
        height = max(plot.height * share * 100 / y_top, 1.5)  # so does a small share
        parts.append(
            kit.rect(
                x0 + 0.5,
                plot.bottom - height,
                width,
                height,
                BAD if bar.slower else GOOD,
                attrs=f'class="ch-bar" data-share="{share:.6f}" data-count="{bar.count}"',
            )
        )
    candidates = [
        [(v, fmt.latency_text(v)) for v in values]
        for values in _axes.log_candidates(layout.lo, layout.hi)
    ]
    ticks = _axes.fit_ticks(candidates, x_of, lay.TICK, 2, lay.W - 2, reserved)
    parts += lay.x_ticks(plot, ticks)
    digits = fmt.decimals_for(result.objective)
    parts += _threshold_marks(plot, x_of(threshold), limit, good, total, digits)
    sources = sum(1 for b, _ in evidence.buckets if 0 < b < math.inf)
    bins = (
        "one bar per bucket"
        if len(layout.bars) == sources
        else (f"{fmt.count(len(evidence.buckets))} histogram buckets in {len(drawn)} bars")
    )
    legend, bottom = lay.legend(
        [
            ("box", GOOD, f"within ≤ {limit}"),
            ("box", BAD, f"slower than {limit}"),
            ("dash", LINE, "threshold"),
        ],
        plot.bottom + 31,
    )
    parts += legend
    note = f"Bar height: share of the {fmt.count(total)} {noun}; log scale; {bins}."
    notes, bottom = lay.notes([note], bottom + 13, "ch-note")
    parts += notes
    frame = lay.plot_frame(plot, f'data-y-top="{y_top:g}"')
    return kit.frame(lay.W, bottom + 7, title, [frame, *parts], "latency")


def _threshold_marks(
    plot: lay.Plot, x: float, limit: str, good: int, total: int, digits: int
) -> list[str]:
    """The threshold line, with the judged shares on either side of it above the plot."""
    parts = [kit.line(x, plot.top - 2, x, plot.bottom, LINE, width=2, dash="6 3")]
    within = fmt.share_text(good, total, digits=digits)
    slower = fmt.share_text(total - good, total, up=True, digits=digits)
    y = plot.top - 5
    for before, after in (
        (f"{within} within ≤ {limit}", f"{slower} slower"),
        (f"{within} ≤ {limit}", f"{slower} slower"),
    ):
        left_w, right_w = kit.text_width(before, lay.TICK), kit.text_width(after, lay.TICK)
        if x - 4 - left_w >= plot.left and x + 4 + right_w <= lay.W - 2:
            parts.append(
                kit.text(x - 4, y, before, anchor="end", size=lay.TICK, fill=GOOD, cls="ch-mark")
            )
            parts.append(kit.text(x + 4, y, after, size=lay.TICK, fill=BAD, cls="ch-mark"))
            return parts
    words = f"≤ {limit}: {within} within, {slower} slower"
    width = kit.text_width(words, lay.TICK)
    left = min(max(x - width / 2, plot.left), lay.W - 2 - width)
    parts.append(kit.text(left, y, words, size=lay.TICK, fill=LINE, cls="ch-mark"))
    return parts
