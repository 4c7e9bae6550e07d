"""Every file edgesla generates is written atomically: readers (Prometheus re-reading its
rules or file-SD files, Grafana's provisioning, a browser on a report) see the old file or
the new one, never half of one, and a failed write leaves the old one in place.

    write_atomic(path, text)     a temporary file in the same directory, then rename
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from edgesla._errors import ConfigError

__all__ = ["write_atomic"]


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically, mode 0644; ConfigError naming the
    file when it cannot be written (the old file, if any, is left as it was)."""
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
