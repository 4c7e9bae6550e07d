"""Words and numbers every output shares (report, rules' annotations, dashboards, CLI).

seconds(0.01) -> "10 ms"      a threshold or a latency
span(7200)    -> "2 h"        a budget, a downtime, a span of the period
within(0.2)   -> "≤ 200 ms"   the threshold convention: a request at exactly the
                              threshold counts as within (Prometheus ``le`` is inclusive)
"""

from __future__ import annotations

import math

__all__ = ["THRESHOLD_CONVENTION", "seconds", "span", "within"]

#: Said once in every output.
THRESHOLD_CONVENTION = (
    "A request (or a lag) at exactly the threshold counts as within it: ≤, as Prometheus "
    "histogram buckets (le) count."
)


def seconds(value: float) -> str:
    """A latency or lag threshold: ``0.01`` -> ``"10 ms"``, ``1.5`` -> ``"1.5 s"``."""
    return _in_ms_or_s(value, "g")


def measured_seconds(value: float) -> str:
    """A measured latency or lag, to three significant digits: ``2.39892`` -> ``"2.4 s"``,
    ``0.08093`` -> ``"80.9 ms"`` (a threshold keeps every digit: ``seconds``)."""
    return _in_ms_or_s(value, ".3g")


def _in_ms_or_s(value: float, spec: str) -> str:
    if math.isinf(value):
        return "+Inf"
    if value < 1:
        return f"{value * 1000:{spec}} ms"
    return f"{value:{spec}} s"


def span(seconds: float) -> str:
    """0.2 -> "200 ms"; 25.9 -> "25.9 s"; 7200 -> "2 h"; 2592000 -> "30 days"."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.3g} s"
    return f"{seconds * 1000:.3g} ms"


def within(threshold: float) -> str:
    """``≤ 200 ms``: at or under the threshold, the one convention of every output."""
    return f"≤ {seconds(threshold)}"
