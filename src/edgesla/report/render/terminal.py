"""The short terminal summary: the verdict line first, then one line per objective.

:func:`render_terminal` gives plain text (logs, CI); :func:`print_terminal` prints the same
lines through rich, with the verdicts coloured when the terminal supports it.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from edgesla import wording
from edgesla.report.model import ObjectiveResult, Report, Verdict
from edgesla.report.render import _format as fmt

__all__ = ["print_terminal", "render_terminal", "summary_lines"]

_STYLE: dict[Verdict, str] = {
    "PASS": "bold green",
    "FAIL": "bold red",
    "INCONCLUSIVE": "bold yellow",
}
_WIDTH = len("INCONCLUSIVE")
#: Objective lines printed at most: a fleet report lists its worst results, the files the rest.
MAX_LINES = 40


def _objective_line(result: ObjectiveResult, seconds: float) -> str:
    line = (
        f"{fmt.label(result)}: {fmt.measured_text(result)} "
        f"(objective {fmt.describe_objective(result)}; bound {fmt.bound_text(result)})"
    )
    if result.verdict == "INCONCLUSIVE" and result.events_needed is not None:
        line += f"; needs {fmt.events_needed_text(result, seconds)}"
    if result.issues:
        line += f"; {len(result.issues)} data issue(s)"
    return line


def summary_lines(report: Report) -> list[tuple[Verdict, str]]:
    """(verdict, text) pairs: the overall verdict first, then each objective, worst first."""
    seconds = fmt.window_seconds(report)
    probed = fmt.resolution_text(report)
    lines: list[tuple[Verdict, str]] = [
        (
            report.verdict,
            f"{fmt.headline(report)} Period {fmt.window_text(report)}"
            f"{f'; probed: {probed}' if probed else ''}. {wording.THRESHOLD_CONVENTION}",
        )
    ]
    shown = fmt.worst_first(report.objectives)
    if len(shown) > MAX_LINES:
        left = len(shown) - MAX_LINES
        shown = shown[:MAX_LINES]
        lines += [(r.verdict, _objective_line(r, seconds)) for r in shown]
        lines.append((report.verdict, f"… and {left:,} more results (report.html, report.json)"))
    else:
        lines += [(r.verdict, _objective_line(r, seconds)) for r in shown]
    return lines


def render_terminal(report: Report) -> str:
    """Plain text: ``FAIL          2 of 8 objectives broken: ...`` then indented objectives."""
    lines = summary_lines(report)
    head_verdict, head = lines[0]
    out = [f"{head_verdict:<{_WIDTH}}  {head}"]
    out += [f"  {verdict:<{_WIDTH}}  {text}" for verdict, text in lines[1:]]
    return "\n".join(out) + "\n"


def print_terminal(report: Report, console: Console | None = None) -> None:
    """Print :func:`summary_lines` with coloured verdicts (plain when not a terminal)."""
    console = console or Console(highlight=False)
    for index, (verdict, text) in enumerate(summary_lines(report)):
        indent = "" if index == 0 else "  "
        tag = f"[{_STYLE[verdict]}]{verdict:<{_WIDTH}}[/]"
        console.print(f"{indent}{tag}  {escape(text)}", soft_wrap=True)
