"""Credentials come only from files or environment variables, and are never printed."""

from __future__ import annotations

import os
from pathlib import Path

from edgesla._errors import ConfigError

__all__ = ["read_password"]


def read_password(password_file: Path | None, password_env: str | None, where: str) -> str | None:
    """The password a target names, or None when it names none.

    ConfigError (naming ``where`` and the file or variable, never the value) when the
    source is missing or unreadable.
    """
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise ConfigError(
                f"{where}: password_file {password_file}: {exc.strerror}; create it, or fix "
                "its permissions so the exporter's user can read it"
            ) from exc
    if password_env is not None:
        value = os.environ.get(password_env)
        if value is None:
            raise ConfigError(
                f"{where}: password_env {password_env} is not set in the exporter's environment"
            )
        return value
    return None
