"""What the tests that look at a rendered page share: the browser they need, the PNG they get."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

NEEDS_BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
        reason="needs Debian chromium and poppler-utils",
    ),
]


def pdf_text(pdf: Path, *, first_page_only: bool = False) -> str:
    """The PDF's text as ``pdftotext -layout`` reads it (what a reader of the page sees)."""
    pages = ["-f", "1", "-l", "1"] if first_page_only else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
