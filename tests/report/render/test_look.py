"""Look at the report as a manager would: real headless Chromium and poppler, first page only.

Renders the HTML to a PNG screenshot and to a PDF, rasterises page 1 of the PDF, and reads
its text back with ``pdftotext`` to check the verdict and the key figures are on page 1.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from edgesla import PreflightError
from edgesla.report.model import Report
from edgesla.report.render import write_all
from edgesla.report.render.pdf import screenshot
from tests.report.render.browser import NEEDS_BROWSER, PNG_MAGIC, pdf_text

pytestmark = NEEDS_BROWSER


@pytest.fixture(scope="module")
def written(report: Report, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(report, tmp_path_factory.mktemp("report"))


def test_write_all_writes_every_file(written: dict[str, Path]) -> None:
    assert set(written) == {"html", "pdf", "json", "junit"}
    assert sorted(p.name for p in written["pdf"].parent.iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
        "report.pdf",
    ]
    assert written["pdf"].read_bytes().startswith(b"%PDF-")


def test_html_screenshot(written: dict[str, Path]) -> None:
    png = screenshot(written["html"], written["html"].with_name("shot.png"))
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 900)
    png.unlink()


def test_pdf_first_page_has_verdict_and_key_figures(
    written: dict[str, Path], tmp_path: Path
) -> None:
    pdf = written["pdf"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "A4" in info.stdout
    page1 = pdf_text(pdf, first_page_only=True)
    head = [line for line in page1.splitlines() if line.strip()][:3]
    assert any(line.strip() == "FAIL" for line in head), head  # the verdict comes first
    for figure in (
        "2 of 10 objectives broken",
        "INCONCLUSIVE",
        "126,772",
        "99.9998 %",
        "97.87 %",
        "98.70 %",
        "95 % (one-sided)",
        "2025-05-01 00:00 UTC",
    ):
        assert figure in page1, figure
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert abs(width - 661) <= 1  # A4 at 80 dpi
    assert abs(height - 935) <= 1


def test_missing_chromium_names_the_debian_package(
    written: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edgesla.report.render.pdf import render_pdf

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("EDGESLA_CHROMIUM", raising=False)
    with pytest.raises(PreflightError, match="apt-get install -y --no-install-recommends chromium"):
        render_pdf(written["html"], tmp_path / "x.pdf")
