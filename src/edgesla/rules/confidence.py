"""The lower confidence bound of an error ratio, in Python and as PromQL: one formula, two
spellings, so the guarded alerts and their tests cannot disagree.

The report bounds its ratios exactly (Clopper-Pearson, a beta quantile); PromQL has no beta
quantile, so a guarded alert uses Wilson's score interval *with continuity correction*
(Newcombe 1998, method 4). For ``x`` bad events of ``n`` (p = x / n) and z the standard
normal quantile of the confidence level, the one-sided lower bound is::

    L = (2np + z² - 1 - z·sqrt(z² - 2 - 1/n + 4p(n(1 - p) + 1))) / (2(n + z²)),  L = 0 if p = 0

Why the correction: with few bad events the plain Wilson bound is far above the exact one.
One failure in 1,440 probes (six targets every 15 s, one hour) at 95 %: plain Wilson
0.000155, which still clears the five-nines page threshold (14.4 x 0.00001 = 0.000144) and
would page; corrected 0.0000477; exact 0.0000356. At 90-95 % the corrected bound stays
within 0.93-1.37x of the exact one for 1-50 bad events (at 99 % one bad event's bound is
3.9x the exact one): tests/rules/test_confidence.py checks this against the report's
``lower_bound``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["wilson_lower", "wilson_lower_promql", "z_score"]


def z_score(confidence: float) -> float:
    """The one-sided standard normal quantile, to 6 decimals (as written into the rules)."""
    return round(NormalDist().inv_cdf(confidence), 6)


def _z_squared(confidence: float) -> float:
    """z², to 6 decimals: the same number in the rules and in Python."""
    z = z_score(confidence)
    return round(z * z, 6)


def wilson_lower(bad: float, total: float, confidence: float) -> float:
    """The continuity-corrected Wilson lower bound of ``bad / total``; 0 without bad events,
    NaN without events (as PromQL's 0/0)."""
    if total <= 0:
        return math.nan
    if bad <= 0:
        return 0.0
    z, z2 = z_score(confidence), _z_squared(confidence)
    p = bad / total
    root = math.sqrt(z2 - 2 - 1 / total + 4 * p * (total * (1 - p) + 1))
    return (2 * total * p + z2 - 1 - z * root) / (2 * (total + z2))


def wilson_lower_promql(ratio: str, events: str, confidence: float) -> str:
    """The same bound over two instant vectors with equal labels: ``ratio`` (bad / all) and
    ``events`` (all). Where the ratio is 0 (or NaN: no events) it is passed through."""
    z, z2 = f"{z_score(confidence):.6f}", f"{_z_squared(confidence):.6f}"
    root = f"sqrt({z2} - 2 - 1 / {events} + 4 * {ratio} * ({events} * (1 - {ratio}) + 1))"
    bound = (
        f"(\n    2 * {events} * {ratio} + {z2} - 1\n    - {z} * {root}\n  )\n"
        f"  / (2 * ({events} + {z2}))"
    )
    return f"(\n  {bound}\n  and {ratio} > 0\n)\nor\n{ratio}"
