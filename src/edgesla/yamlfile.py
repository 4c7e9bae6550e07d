"""Read one YAML file, or a ConfigError that names it and says what is wrong; check the
version of a versioned document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edgesla._errors import ConfigError

__all__ = ["read_yaml", "versioned"]


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


def versioned(data: object, version: int, source: str) -> dict[str, Any]:
    """``data`` as a mapping that says ``version: <version>``, else a ConfigError saying so."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    if data.get("version") != version:
        raise ConfigError(
            f"{source}: version: expected {version}, got {data.get('version')!r}; "
            f"add 'version: {version}' at the top of the file"
        )
    return data
