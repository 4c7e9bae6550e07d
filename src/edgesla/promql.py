"""PromQL spelling, once for the rules, the report and the dashboards: string literals,
label matchers, regex alternations, selectors, ``le`` label values and range durations."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.utils import floatToGoString

__all__ = [
    "alternation",
    "equals",
    "le",
    "matchers",
    "none_of",
    "one_of",
    "quote",
    "range_ms",
    "selector",
]

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


def selector(metric: str, *parts: str) -> str:
    """``metric{a="1", b=~"x"}`` from the non-empty matcher texts given; ``metric`` alone
    without any."""
    return metric + matchers(*parts)


def le(bound: float) -> str:
    """A bucket bound as the exporters' client library spells the ``le`` label (``0.01``,
    ``1.0``, ``+Inf``): Prometheus 2 compares ``le`` as a string."""
    if math.isinf(bound):
        return "+Inf"
    spelled: str = floatToGoString(bound)  # type: ignore[no-untyped-call]  # untyped library
    return spelled


def range_ms(seconds: float) -> str:
    """A PromQL range duration in whole milliseconds (``[123456ms]``), at least 1 ms."""
    return f"{max(1, round(seconds * 1000))}ms"
