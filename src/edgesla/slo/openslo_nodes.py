"""Walking an OpenSLO document: each field read by its path, each refusal naming it.

A ``Refusal`` is one thing the importer cannot map: the field's path in its document
(``spec.objectives[0].target``) and what edgesla supports instead. ``openslo`` adds the
document (``SLO probe-availability``) and lists every refusal at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from edgesla.locations import printable

__all__ = ["Refusal", "fields", "optional", "required"]


class Refusal(Exception):
    """``path``: ``message`` (what is wrong and what edgesla supports)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def fields(
    node: object,
    path: str,
    known: Collection[str],
    refused: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``node`` as a mapping whose keys are all ``known``; a key of ``refused`` (a valid
    OpenSLO key edgesla cannot map) is refused with its reason, any other as unknown."""
    if node is None:
        raise Refusal(path, "missing (or empty); see the OpenSLO v1 specification")
    if not isinstance(node, dict):
        raise Refusal(path, f"expected a mapping, got {type(node).__name__}")
    top = path in ("", "(top level)")
    for key in node:
        where = printable(key) if top else f"{path}.{printable(key)}"
        if refused and key in refused:
            raise Refusal(where, refused[key])
        if key not in known:
            raise Refusal(
                where, "unknown key (not in OpenSLO v1); known here: " + ", ".join(sorted(known))
            )
    return node


def required(node: Mapping[str, Any], key: str, path: str, hint: str) -> Any:
    """``node[key]``, or a Refusal saying it is missing and ``hint`` (what to write)."""
    if node.get(key) is None:
        raise Refusal(f"{path}.{key}" if path else key, f"missing; {hint}")
    return node[key]


def optional(node: Mapping[str, Any], key: str, path: str, kind: type, what: str) -> Any:
    """``node[key]`` when present (of type ``kind``, described as ``what``), else None."""
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise Refusal(f"{path}.{key}" if path else key, f"expected {what}, got {value!r}")
    return value
