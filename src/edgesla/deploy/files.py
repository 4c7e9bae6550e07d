"""Atomic file writes for generated artefacts: readers (Prometheus re-reading its file-SD
files, for one) see the old file or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path

from edgesla._errors import ConfigError
from edgesla.atomic import write_atomic

__all__ = ["ensure_dir", "write_atomic"]


def ensure_dir(path: Path, option: str) -> None:
    """Create ``path`` (and parents); ConfigError naming ``option`` when that is impossible."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{option} {path}: cannot create the directory ({exc.strerror or exc}); "
            f"choose a directory you can write to"
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{option} {path}: the directory is not writable by this user; "
            f"choose a directory you can write to or fix its permissions"
        )
