"""Error-budget maths, in one place: the multi-window multi-burn-rate alert windows.

SRE Workbook, chapter 5 ("Alerting on SLOs"), for a window W and objective O (budget
1 - O): an alert fires when the error ratio over a long window L *and* over its short
window (L / 12) both exceed ``factor x (1 - O)``, where ``factor = share x W / L`` is the
burn rate that spends ``share`` of the budget in L:

    severity  long  short  budget share  factor for W = 30d
    page      1h    5m     2 %           14.4
    page      6h    30m    5 %           6
    ticket    1d    2h     10 %          3
    ticket    3d    6h     10 %          1

The short window makes the alert stop soon after the burn stops; the long one keeps a
short spike from paging. Decimal arithmetic, so 14.4 x 0.00001 is 0.000144, not
0.00014400000000000001.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from edgesla import conventions as conv
from edgesla.durations import parse_duration

__all__ = [
    "BURN_WINDOWS",
    "BurnWindow",
    "Severity",
    "budget",
    "decimal_text",
    "longest_window_seconds",
]

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class BurnWindow:
    severity: Severity
    long: str
    short: str
    #: share of the whole window's error budget this pair spends in ``long``
    share: Decimal

    def factor(self, window_seconds: float) -> Decimal:
        """Burn rate that spends ``share`` of the budget in ``long``: share x W / L."""
        return self.share * Decimal(repr(window_seconds)) / Decimal(repr(self._long_seconds))

    def threshold(self, window_seconds: float, objective: Decimal) -> Decimal:
        """The error ratio above which this pair fires: factor x (1 - objective)."""
        return self.factor(window_seconds) * budget(objective)

    @property
    def _long_seconds(self) -> float:
        return parse_duration(self.long)


BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("page", "1h", "5m", Decimal("0.02")),
    BurnWindow("page", "6h", "30m", Decimal("0.05")),
    BurnWindow("ticket", "1d", "2h", Decimal("0.10")),
    BurnWindow("ticket", "3d", "6h", Decimal("0.10")),
)
assert {w for b in BURN_WINDOWS for w in (b.long, b.short)} == set(conv.BURN_RATE_WINDOWS)


def budget(objective: Decimal) -> Decimal:
    """The error budget: the share of bad events the objective allows."""
    return Decimal(1) - objective


def longest_window_seconds() -> float:
    return max(parse_duration(b.long) for b in BURN_WINDOWS)


def decimal_text(value: Decimal) -> str:
    """``Decimal("0.000144")`` -> ``"0.000144"``; never exponent notation (PromQL reads both,
    people read this one)."""
    return f"{value.normalize():f}"
