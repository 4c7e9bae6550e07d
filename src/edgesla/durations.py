"""Prometheus-style durations ("250ms", "15s", "5m", "1h30m", "30d") as float seconds."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

__all__ = ["Duration", "format_duration", "parse_duration"]

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> float:
    """Return the number of seconds in ``text``; raise ValueError naming the accepted form."""
    cleaned = text.strip()
    pos, total = 0, 0.0
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not cleaned or pos != len(cleaned):
        raise ValueError(
            f"invalid duration {text!r}: use a number with a unit, e.g. 250ms, 15s, 5m, 1h30m, 30d"
        )
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact Prometheus-style spelling of ``seconds`` (``15s``, ``250ms``)."""
    if seconds and seconds < 1:
        return f"{round(seconds * 1000)}ms"
    for unit in ("d", "h", "m"):
        if seconds >= _UNIT_SECONDS[unit] and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{int(seconds // _UNIT_SECONDS[unit])}{unit}"
    return f"{seconds:g}s"


def _coerce(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    return value


#: A config field holding a duration: accepts "15s" or a number of seconds.
Duration = Annotated[float, BeforeValidator(_coerce)]
