"""Small PromQL spelling helpers: label matchers and regex alternations."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["alternation", "equals", "matchers", "none_of", "one_of", "quote"]

_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alternation(values: Iterable[str]) -> str:
    """``a|b.c`` -> a regex matching exactly these values (RE2, anchored by Prometheus)."""
    return "|".join("".join("\\" + c if c in _REGEX_SPECIAL else c for c in v) for v in values)


def matchers(*parts: str) -> str:
    """``{a="1", b=~"x"}`` from the non-empty matcher texts given (``""`` without any)."""
    kept = [p for p in parts if p]
    return "{" + ", ".join(kept) + "}" if kept else ""


def equals(label: str, value: str) -> str:
    return f"{label}={quote(value)}"


def one_of(label: str, values: Iterable[str]) -> str:
    """``label=~"a|b"``, or ``""`` (no constraint) without values."""
    listed = list(values)
    return f"{label}=~{quote(alternation(listed))}" if listed else ""


def none_of(label: str, values: Iterable[str]) -> str:
    """``label!~"a|b"``, or ``""`` (no constraint) without values."""
    listed = list(values)
    return f"{label}!~{quote(alternation(listed))}" if listed else ""
