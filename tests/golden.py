"""Golden files, compared before anything is written.

    matches_golden(path, text)

Without ``EDGESLA_UPDATE_GOLDEN=1`` the text must equal the file. With it, a file that
already matches is left alone; one that differs (or is missing) is written and the test
*fails* all the same, saying so: an update run never passes on the file it just wrote, so
the diff is reviewed (``git diff``) before a clean run passes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["UPDATE", "matches_golden"]

UPDATE = os.environ.get("EDGESLA_UPDATE_GOLDEN") == "1"


def matches_golden(path: Path, text: str) -> None:
    """Assert ``text`` is the golden file's content (see the module docstring)."""
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if text == old:
        return
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        pytest.fail(
            f"{path.name} {'written' if old is None else 'rewritten'}: review the diff "
            "(git diff), then run again without EDGESLA_UPDATE_GOLDEN"
        )
    if old is None:
        pytest.fail(f"{path.name} is missing: run with EDGESLA_UPDATE_GOLDEN=1 and review it")
    assert text == old, (
        f"output differs from {path.name}; if the change is intended, regenerate with "
        "EDGESLA_UPDATE_GOLDEN=1 and review the diff"
    )
