"""Read one YAML file, or a ConfigError that names it and says what is wrong; check the
version of a versioned document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edgesla._errors import ConfigError

__all__ = ["read_yaml", "read_yaml_documents", "versioned"]


def _text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read {what}: not UTF-8 text ({exc.reason})") from exc


def read_yaml(path: Path, what: str) -> Any:
    """The parsed document of ``path``; ``what`` names it in errors ("the PoP config")."""
    text = _text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


def read_yaml_documents(path: Path, what: str) -> list[Any]:
    """Every document of a multi-document YAML file (``---`` between them), in order."""
    text = _text(path, what)
    try:
        return list(yaml.safe_load_all(text))
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
