"""The self-contained HTML report: verdict first, one card per objective, inline SVG charts.

Nothing is fetched when the file is opened: CSS is inline, charts are inline SVG, there is no
JavaScript. The print CSS paginates it on A4, so the same file becomes the PDF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from edgesla import __version__, wording
from edgesla.atomic import write_atomic
from edgesla.report.model import (
    LagEvidence,
    LatencyEvidence,
    ObjectiveResult,
    Report,
    Verdict,
    overall,
)
from edgesla.report.render import _format as fmt
from edgesla.report.render import svg

__all__ = ["render_html", "write_html"]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("edgesla.report.render", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Card:
    """What one objective card shows, already worded."""

    result: ObjectiveResult
    title: str
    objective: str
    measured: str
    bound: str
    events_needed: str
    budget: str
    downtime: str
    downtime_label: str
    detail: str
    chart: Markup | None
    #: (label, text) per window of a load test with a sync: during it, outside it
    windows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decider:
    """One line of the banner: an objective across PoPs, with its fleet (or worst) figure."""

    name: str
    verdict: Verdict
    objective: str
    measured: str
    note: str


def _chart(result: ObjectiveResult, report: Report) -> Markup | None:
    drawn = svg.chart(result, (report.window_start, report.window_end))
    return Markup(drawn) if drawn else None  # noqa: S704 - built by svg.py, every text escaped


def _detail(result: ObjectiveResult) -> str:
    """Extra figures read off the evidence (p99 bucket, worst lag), only when the evidence
    is what was judged: the chart says why when it is not."""
    evidence = result.evidence
    if isinstance(evidence, LatencyEvidence) and result.total:
        if svg.latency_problems(evidence, result):
            return ""  # the chart says why the buckets cannot be read beside the verdict
        target = result.objective * result.total
        for bound, cumulative in sorted(evidence.buckets):
            if cumulative >= target:
                quantile = f"p{result.objective * 100:g}"
                return f"{quantile} ≤ {fmt.seconds_text(bound)} (histogram bucket bound)"
    if not isinstance(evidence, LagEvidence):
        return ""
    known = [v for _, v in evidence.samples]
    if evidence.counted is not None:  # the samples are the worst lag of each chart bin
        judged = evidence.counted == (result.good, result.total)
    else:
        judged = len(known) == result.total  # else the chart says these are not the judged ones
    if judged and any(math.isfinite(v) for v in known):
        worst = max(v for v in known if math.isfinite(v))
        steps = evidence.counted[1] if evidence.counted is not None else len(known)
        return f"worst lag {wording.measured_seconds(worst)} over {fmt.count(steps)} samples"
    return ""


_WINDOW_LABELS = {"sync": "During the sync", "outside": "Outside the sync"}


def _windows(result: ObjectiveResult) -> tuple[tuple[str, str], ...]:
    """The judged requests during a load test's sync beside those outside it."""
    evidence = result.evidence
    if not isinstance(evidence, LatencyEvidence) or not evidence.windows:
        return ()
    threshold = fmt.seconds_text(evidence.threshold_seconds)
    quantile = f"p{result.objective * 100:g}"
    rows = []
    for window in evidence.windows:
        text = (
            f"{fmt.count(window.over)} of {fmt.count(window.total)} requests over {threshold} "
            f"({fmt.share_text(window.over, window.total, up=True)})"
        )
        successes = window.buckets[-1][1] if window.buckets else 0
        bound = next(
            (b for b, n in window.buckets if successes and n >= result.objective * successes),
            None,
        )
        if bound is not None:
            text += f"; {quantile} ≤ {fmt.seconds_text(bound)}"
        rows.append((_WINDOW_LABELS.get(window.window, window.window), text))
    return tuple(rows)


def _card(result: ObjectiveResult, report: Report, window_seconds: float) -> Card:
    downtime_label = "Time over threshold" if result.kind == "replication_lag" else "Downtime"
    return Card(
        result=result,
        title=fmt.label(result),
        objective=fmt.describe_objective(result),
        measured=fmt.measured_text(result),
        bound=fmt.bound_text(result),
        events_needed=(
            fmt.events_needed_text(result, window_seconds)
            if result.verdict == "INCONCLUSIVE"
            else ""
        ),
        budget=fmt.budget_text(result),
        downtime=fmt.downtime_text(result, window_seconds),
        downtime_label=downtime_label,
        detail=_detail(result),
        chart=_chart(result, report),
        windows=_windows(result),
    )


def _deciders(report: Report) -> list[Decider]:
    """Per objective name: overall verdict across PoPs, figures from the fleet roll-up."""
    names = list(dict.fromkeys(r.name for r in report.objectives))
    lines = []
    for name in names:
        results = [r for r in report.objectives if r.name == name]
        verdict = overall([r.verdict for r in results])
        fleet = next((r for r in results if r.pop == "fleet"), None)
        shown = fleet if fleet is not None and fleet.verdict == verdict else None
        shown = shown or fmt.worst_first(results)[0]
        others = [r.pop for r in results if r.verdict == verdict and r is not shown]
        note = f"{verdict} at {shown.pop}" + (f", {', '.join(others)}" if others else "")
        if shown.verdict == "INCONCLUSIVE" and shown.events_needed is not None:
            note += f"; needs {fmt.count(shown.events_needed)} more good events"
        lines.append(
            Decider(name, verdict, fmt.describe_objective(shown), fmt.measured_text(shown), note)
        )
    order: dict[Verdict, int] = {"FAIL": 0, "INCONCLUSIVE": 1, "PASS": 2}
    return sorted(lines, key=lambda d: order[d.verdict])


def _matrix(report: Report) -> tuple[list[str], list[str], dict[tuple[str, str], ObjectiveResult]]:
    names = list(dict.fromkeys(r.name for r in report.objectives))
    rows = list(report.pops)
    rows += [r.pop for r in report.objectives if r.pop not in rows and r.pop != "fleet"]
    if any(r.pop == "fleet" for r in report.objectives):
        rows.append("fleet")
    cells = {(r.pop, r.name): r for r in report.objectives}
    return rows, names, cells


#: Per-PoP cards shown at most: a fleet report shows the fleet's cards and its worst PoPs';
#: every result stays in the per-PoP table and in report.json.
MAX_POP_CARDS = 60


def _carded(report: Report) -> tuple[list[ObjectiveResult], int]:
    """The results that get a card (fleet roll-ups, then PoPs worst first), and how many
    per-PoP results were left to the table."""
    ordered = fmt.worst_first(report.objectives)
    fleet = [r for r in ordered if r.pop == "fleet"]
    pops = [r for r in ordered if r.pop != "fleet"]
    if len(pops) <= MAX_POP_CARDS:
        return ordered, 0
    shown = [r for r in pops if r.verdict != "PASS"][:MAX_POP_CARDS]
    return fmt.worst_first([*fleet, *shown]), len(pops) - len(shown)


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML document."""
    seconds = fmt.window_seconds(report)
    carded, left_out = _carded(report)
    rows, names, cells = _matrix(report)
    verdicts = [r.verdict for r in report.objectives]
    issues = list(report.issues) + [
        i for r in report.objectives for i in r.issues if i not in report.issues
    ]
    return _ENV.get_template("report.html.j2").render(
        report=report,
        headline=fmt.headline(report),
        window=fmt.window_text(report),
        resolution=fmt.resolution_text(report),
        confidence=fmt.objective_pct(report.confidence),
        counts={v: verdicts.count(v) for v in ("FAIL", "INCONCLUSIVE", "PASS")},
        deciders=_deciders(report),
        cards=[_card(r, report, seconds) for r in carded],
        left_out=left_out,
        convention=wording.THRESHOLD_CONVENTION,
        provenance=report.provenance,
        rows=rows,
        names=names,
        cells=cells,
        issues=list(dict.fromkeys(issues)),
        fmt=fmt,
        version=__version__,
    )


def write_html(report: Report, path: Path) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return it."""
    write_atomic(path, render_html(report))
    return path
