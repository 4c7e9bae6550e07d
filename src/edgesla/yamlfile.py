"""Read one YAML file, or a ConfigError that names it and says what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edgesla._errors import ConfigError

__all__ = ["read_yaml"]


def read_yaml(path: Path, what: str) -> Any:
    """The parsed document of ``path``; ``what`` names it in errors ("the PoP config")."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
