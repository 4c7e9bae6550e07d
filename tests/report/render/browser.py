"""What the tests that look at a rendered page share: the browser they need, the PNG they get."""

from __future__ import annotations

import shutil

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

NEEDS_BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None or shutil.which("pdftoppm") is None,
        reason="needs Debian chromium and poppler-utils",
    ),
]
