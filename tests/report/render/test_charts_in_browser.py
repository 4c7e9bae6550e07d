"""The charts as a reader sees them: the report HTML laid out by real headless Chromium.

For each scenario of ``scenarios.py`` (results from the real evaluators) and for the
hand-built report of ``conftest.py``, a test copy of ``report.html`` gets a small script
that writes the ``getBoundingClientRect()`` of every chart's texts, bars and plot area
into the DOM; one Chromium run returns that DOM (``--dump-dom``) and a PNG screenshot of
the page. The checks are on the browser's own layout and fonts: no two labels of a chart
overlap, no label leaves its chart, no bar rises above the 100 % line or out of its plot.
The PDF (``render_pdf``, the same Chromium) is checked for the charts' words, and its
first pages are rasterised with ``pdftoppm`` to look at.

Set ``EDGESLA_CHARTS_PNG_DIR`` to keep the screenshots and PDF pages there.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from edgesla.report.model import Report
from edgesla.report.render import render_html, write_all
from edgesla.report.render.pdf import chromium_argv, find_chromium
from tests.report.render import scenarios
from tests.report.render.browser import NEEDS_BROWSER, PNG_MAGIC, pdf_text

pytestmark = NEEDS_BROWSER
_TOLERANCE = 0.5  # px: anti-aliasing and sub-pixel rounding of client rects
_MEASURE = """<script>
(() => {
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const charts = [...document.querySelectorAll("svg.chart")].map((svg) => {
    const plot = svg.querySelector("rect.ch-plot");
    return {
      title: svg.querySelector("title").textContent,
      box: box(svg),
      texts: [...svg.querySelectorAll("text")].map((t) => ({ text: t.textContent, box: box(t) })),
      plot: plot ? { box: box(plot), yTop: Number(plot.dataset.yTop) } : null,
      bars: [...svg.querySelectorAll("rect.ch-bar")].map(
        (b) => ({ box: box(b), share: Number(b.dataset.share) }),
      ),
    };
  });
  const out = document.createElement("pre");
  out.id = "chart-layout";
  out.hidden = true;
  out.textContent = JSON.stringify(charts);
  document.body.append(out);
})();
</script>
"""
_LAYOUT = re.compile(r'<pre id="chart-layout" hidden="">(.*?)</pre>', re.S)


def _png_dir() -> Path | None:
    named = os.environ.get("EDGESLA_CHARTS_PNG_DIR")
    if not named:
        return None
    path = Path(named)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _look(
    report: Report, out: Path, name: str, width: int = 1100, height: int = 1000
) -> list[dict[str, Any]]:
    """Lay ``report`` out in Chromium: the charts' boxes, and ``out/<name>.png``."""
    page = out / f"{name}.html"
    page.write_text(render_html(report).replace("</body>", _MEASURE + "</body>"), "utf-8")
    png = out / f"{name}.png"
    with tempfile.TemporaryDirectory(prefix="edgesla-chromium-") as profile:
        argv = chromium_argv(
            find_chromium(),
            Path(profile),
            "--dump-dom",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            page.as_uri(),
        )
        done = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=True)
    found = _LAYOUT.search(done.stdout)
    assert found, "the measuring script left nothing in the DOM"
    assert _png_size(png) == (width, height)
    if keep := _png_dir():
        shutil.copy(png, keep / png.name)
    charts: list[dict[str, Any]] = json.loads(html.unescape(found.group(1)))
    return charts


def _overlap(a: list[float], b: list[float]) -> bool:
    return (
        min(a[2], b[2]) - max(a[0], b[0]) > _TOLERANCE
        and min(a[3], b[3]) - max(a[1], b[1]) > _TOLERANCE
    )


def _assert_readable(chart: dict[str, Any]) -> None:
    title, (left, top, right, bottom) = chart["title"], chart["box"]
    texts = chart["texts"]
    assert texts, f"{title}: a chart without a word"
    for t in texts:
        l1, t1, r1, b1 = t["box"]
        inside = (
            l1 >= left - _TOLERANCE
            and r1 <= right + _TOLERANCE
            and t1 >= top - _TOLERANCE
            and b1 <= bottom + _TOLERANCE
        )
        assert inside, f"{title}: {t['text']!r} {t['box']} leaves the chart {chart['box']}"
    for a, b in itertools.combinations(texts, 2):
        assert not _overlap(a["box"], b["box"]), f"{title}: {a['text']!r} overlaps {b['text']!r}"
    if chart["plot"] is None:
        assert not chart["bars"]
        return
    p_left, p_top, _, p_bottom = chart["plot"]["box"]
    full = p_bottom - (p_bottom - p_top) * 100 / chart["plot"]["yTop"]  # the 100 % line
    for bar in chart["bars"]:
        b_left, b_top, b_right, b_bottom = bar["box"]
        assert 0 < bar["share"] <= 1, f"{title}: a bar of {bar['share']:.0%}"
        assert b_top >= full - _TOLERANCE, f"{title}: a bar above the 100 % line"
        assert b_top >= p_top - _TOLERANCE, f"{title}: a bar above its plot"
        assert b_bottom <= p_bottom + _TOLERANCE, f"{title}: a bar below its baseline"
        assert b_left >= p_left - _TOLERANCE, f"{title}: a bar left of its plot"
        assert b_right <= right, f"{title}: a bar right of its chart"
        assert b_right - b_left >= 1.0, f"{title}: a bar too thin to see"


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("charts")


@pytest.mark.parametrize("name", list(scenarios.SCENARIOS))
def test_scenario_charts_read_cleanly(name: str, pages: Path) -> None:
    charts = _look(scenarios.report_of(name, pages / "inputs"), pages, name)
    assert len(charts) == 1
    _assert_readable(charts[0])


@pytest.mark.parametrize("width", [1100, 720])
def test_hand_built_report_charts_read_cleanly(report: Report, pages: Path, width: int) -> None:
    """Ten objectives, 30 days; at 720 px wide (about A4) the charts are at their smallest."""
    charts = _look(report, pages, f"hand-built-{width}", width, 3200)
    assert len(charts) == len([r for r in report.objectives if r.evidence is not None])
    for chart in charts:
        _assert_readable(chart)


def test_pdf_prints_the_charts(report: Report, pages: Path) -> None:
    written = write_all(report, pages / "pdf")
    text = pdf_text(written["pdf"])
    for words in (
        "97.87 % within ≤ 10 ms",
        "2.13 % slower",
        "410,000 requests: 401,300 within",
        "1 bad event of 6 allowed: 17 % of the error budget",
        "period 2025-05-01 00:00 → 2025-05-31 00:00 UTC (30 d)",
        "Over 1 s for 40 min (40 of 43,200 samples), worst 2.4 s",
    ):
        assert words in text, words
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "2",
            str(written["pdf"]),
            str(pages / "pdf-page"),
        ],
        check=True,
    )
    shots = sorted(pages.glob("pdf-page*.png"))
    assert len(shots) == 2
    for png in shots:
        width, height = _png_size(png)
        assert abs(width - 661) <= 1  # A4 at 80 dpi
        assert abs(height - 935) <= 1
        if keep := _png_dir():
            shutil.copy(png, keep / png.name)
