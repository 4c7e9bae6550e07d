"""Renderers: they only read a :class:`~edgesla.report.model.Report`.

    html.py      self-contained HTML (inline CSS and SVG charts, no JavaScript)
    svg.py       the inline SVG charts
    pdf.py       the HTML printed to PDF by headless Chromium (and PNG screenshots)
    json_.py     versioned JSON, ``format: edgesla-report/1``
    junit.py     JUnit XML, one test case per objective per PoP
    terminal.py  the short summary for the terminal

:func:`write_all` writes every file or none; :func:`exit_code` is the CLI's answer.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Final

from edgesla import exitcodes
from edgesla.report.model import Report, overall
from edgesla.report.render.html import render_html
from edgesla.report.render.json_ import render_json
from edgesla.report.render.junit import render_junit
from edgesla.report.render.pdf import render_pdf
from edgesla.report.render.terminal import print_terminal, render_terminal

__all__ = [
    "FILE_NAMES",
    "exit_code",
    "print_terminal",
    "render_html",
    "render_json",
    "render_junit",
    "render_pdf",
    "render_terminal",
    "write_all",
]

#: What :func:`write_all` writes, by key.
FILE_NAMES: Final = {
    "html": "report.html",
    "pdf": "report.pdf",
    "json": "report.json",
    "junit": "junit.xml",
}


def exit_code(report: Report) -> int:
    """0 when every objective passed, 1 when any failed, 3 when inconclusive without a failure.

    The overall verdict and every objective's verdict are both consulted, and a report with
    no objectives is inconclusive: there is never a PASS without evidence.
    """
    if not report.objectives:
        verdict = "FAIL" if report.verdict == "FAIL" else "INCONCLUSIVE"
    else:
        verdict = overall([report.verdict, *(r.verdict for r in report.objectives)])
    return exitcodes.of_verdict(verdict)


def write_all(
    report: Report,
    out_dir: Path,
    *,
    pdf: bool = True,
    pdf_timeout: float = 90.0,
) -> dict[str, Path]:
    """Write report.html, report.pdf, report.json and junit.xml into ``out_dir``.

    Everything is first written into a temporary directory inside ``out_dir`` and only moved
    into place (``rename``, atomic per file) once all of it succeeded; if any step fails the
    temporary files are removed and earlier reports in ``out_dir`` are left untouched.
    ``pdf=False`` skips the PDF (and Chromium). Returns the final paths by key
    (``html``, ``pdf``, ``json``, ``junit``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".edgesla-report-", dir=out_dir))
    try:
        staged = {key: staging / name for key, name in FILE_NAMES.items()}
        staged["html"].write_text(render_html(report), encoding="utf-8")
        staged["json"].write_text(render_json(report), encoding="utf-8")
        staged["junit"].write_text(render_junit(report), encoding="utf-8")
        if pdf:
            render_pdf(staged["html"], staged["pdf"], timeout=pdf_timeout)
        else:
            del staged["pdf"]
        final = {key: out_dir / FILE_NAMES[key] for key in staged}
        for key, path in staged.items():
            path.replace(final[key])
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
