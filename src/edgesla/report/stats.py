"""How much a count of good events proves: one-sided Clopper-Pearson bounds and error budgets.

The one place for the report's statistics (as sloth keeps its error-budget maths in one place).

Why bounds at all: 172,800 good probes out of 172,800 (30 days at one probe per 15 s) *measure*
100 %, but a service that truly fails once in 100,000 events would produce such a run in about
18 % of 30-day windows. At 95 % confidence the data only supports "at least 99.9982 %", so it
cannot prove five nines. The bounds say what the data can prove:

* ``lower_bound(good, total, c)`` is the smallest true success probability that is still
  consistent with the data at confidence ``c`` (one-sided): with probability ``c`` the true
  ratio is at least this. A PASS needs ``lower_bound >= objective``.
* ``upper_bound(good, total, c)`` likewise from above. A FAIL needs ``upper_bound < objective``:
  the data shows the objective broken, not merely unproven.

Clopper-Pearson is *exact*: it inverts the binomial distribution itself (through the quantile
of the beta distribution, ``scipy.special.betaincinv``: what ``scipy.stats.beta.ppf`` computes,
without the half second that importing ``scipy.stats`` takes), so it never claims more
confidence than it has, even with zero failures, where the normal approximation breaks down.
With zero failures the lower bound has a closed form, ``(1 - c) ** (1 / n)``, so proving an
objective ``p`` takes ``n >= ln(1 - c) / ln(p)`` events: 299,572 for 99.999 % at 95 %.

Every bound treats events as independent trials with one success probability. Failures that
come in bursts (an outage fails many probes in a row) make the data less informative than
the count suggests; the bounds are then too narrow, which is why a verdict also names its
error budget and downtime, not only the bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import betaincinv  # type: ignore[import-untyped]

__all__ = [
    "Budget",
    "budget",
    "events_needed",
    "events_needed_zero_failures",
    "lower_bound",
    "upper_bound",
]


def _check(good: int, total: int, confidence: float) -> None:
    if total < 0 or not 0 <= good <= total:
        raise ValueError(f"need 0 <= good <= total, got good={good}, total={total}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def lower_bound(good: int, total: int, confidence: float) -> float:
    """One-sided lower Clopper-Pearson bound on the success probability.

    The ``1 - confidence`` quantile of Beta(good, total - good + 1); 0.0 when nothing was
    good or nothing was counted (no data proves nothing).
    """
    _check(good, total, confidence)
    if good == 0:
        return 0.0
    if good == total:  # closed form, exact and cheaper: (1 - c) ** (1 / n)
        return float(math.exp(math.log1p(-confidence) / total))
    return float(betaincinv(good, total - good + 1, 1 - confidence))


def upper_bound(good: int, total: int, confidence: float) -> float:
    """One-sided upper Clopper-Pearson bound: the ``confidence`` quantile of
    Beta(good + 1, total - good); 1.0 when nothing failed or nothing was counted."""
    _check(good, total, confidence)
    if good == total:
        return 1.0
    if good == 0:  # closed form: 1 - (1 - c) ** (1 / n)
        return float(-math.expm1(math.log1p(-confidence) / total))
    return float(betaincinv(good + 1, total - good, confidence))


def events_needed_zero_failures(objective: float, confidence: float) -> int:
    """Events, all good, that prove ``objective`` at ``confidence``: ⌈ln(1 - c) / ln(p)⌉.

    299,572 for 99.999 % at 95 %; 29,956 for 99.99 %; 2,995,731 for 99.9999 %.
    """
    if not 0 < objective < 1:
        raise ValueError(f"objective must be a fraction in (0, 1), got {objective}")
    n = math.ceil(math.log1p(-confidence) / math.log(objective))
    # guard the last float ulp: the closed form and lower_bound() must agree
    while lower_bound(n, n, confidence) < objective:
        n += 1
    while n > 1 and lower_bound(n - 1, n - 1, confidence) >= objective:
        n -= 1
    return n


def events_needed(objective: float, confidence: float, good: int, total: int) -> int:
    """How many more events, all good, would lift the lower bound to ``objective``.

    0 when the data already proves it. Found by doubling then bisecting on
    ``lower_bound(good + m, total + m) >= objective`` (the bound grows with every good event,
    so the search is exact). Always finite: with a fixed number of failures the bound tends
    to 1 as good events accumulate.
    """
    _check(good, total, 0.5)
    if not 0 < objective < 1:
        raise ValueError(f"objective must be a fraction in (0, 1), got {objective}")
    if good == total:
        return max(0, events_needed_zero_failures(objective, confidence) - total)

    def proves(m: int) -> bool:
        return lower_bound(good + m, total + m, confidence) >= objective

    if proves(0):
        return 0
    low, high = 0, 1  # invariant: not proves(low), proves(high) once found
    while not proves(high):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        if proves(mid):
            high = mid
        else:
            low = mid
    return high


@dataclass(frozen=True)
class Budget:
    """The error budget of a window: ``allowed`` bad events, and the ``consumed`` share.

    ``consumed`` is ``bad / allowed`` (1.0 = used up, above 1 = overspent); None when the
    window has no events, so there is no budget to speak of. ``remaining`` is ``1 - consumed``.
    """

    allowed: float
    consumed: float | None

    @property
    def remaining(self) -> float | None:
        return None if self.consumed is None else 1.0 - self.consumed


def budget(objective: float, total: int, bad: int) -> Budget:
    """The error budget: ``(1 - objective) * total`` bad events are allowed.

    ``allowed`` is rounded to 6 decimals so reports and golden files show ``10.0`` rather
    than the float noise of ``1 - 0.99999``.
    """
    if not 0 <= bad <= total:
        raise ValueError(f"need 0 <= bad <= total, got bad={bad}, total={total}")
    allowed = round((1 - objective) * total, 6)
    if total == 0:
        return Budget(allowed=0.0, consumed=None)
    consumed = bad / allowed if allowed > 0 else (0.0 if bad == 0 else math.inf)
    return Budget(allowed=allowed, consumed=round(consumed, 9))
