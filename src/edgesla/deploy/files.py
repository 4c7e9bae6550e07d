"""Atomic file writes for generated artefacts: readers (Prometheus re-reading its file-SD
files, for one) see the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from edgesla._errors import ConfigError

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


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temporary file in the same directory,
    then rename); ConfigError naming the file when it cannot be written."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot write ({exc.strerror or exc}); choose a directory you can write to"
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        Path(tmp).chmod(0o644)  # mkstemp makes 0600; Prometheus often runs as another user
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from exc
