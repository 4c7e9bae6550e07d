"""The time shapes of the traffic model, as pure functions of plain floats.

Two shapes live here, each with its exact integral so that "how many requests should
have arrived by second t" never needs numerical integration:

**The diurnal curve** — 24 hourly weights (any positive scale; percentages are usual)
say *when* in the day traffic happens. The busy-hour factor says *how peaky* the day is
(ITU-T E.500 busy hour / daily average; 1.6 to 1.7 in Cisco VNI). ``stretch_curve`` reconciles
the two with a mean-preserving affine stretch::

    share[h] = 1/24 + (w[h]/sum(w) - 1/24) * k,    k = (factor - 1) / (24*max(w)/sum(w) - 1)

so the shares still sum to 1 (the daily total is unchanged), the hour order is unchanged,
and ``max(share) * 24 == factor`` exactly. Traffic is constant within each hour (a step
function), because E.500 defines the busy hour on hourly averages: the peak hour of the
curve then has exactly the busy-hour rate.

**The reconnect storm** (``spike`` profile) — after an outage, routers re-authenticate:
a linear ramp over ``ramp`` seconds while the access network comes back, then an
exponential decay as the routers' retry back-off spreads the rest, truncated at the end
of the window. The decay constant is ``(window - ramp) / 3``, so the tail has fallen to
e^-3 ≈ 5 % of the peak when the window closes. The shape is normalised so that its
integral over the window is exactly 1; multiply by the number of reconnects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "HOURS",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "day_fraction_elapsed",
    "is_flat",
    "max_factor",
    "reconnect_cumulative",
    "reconnect_density",
    "stretch_curve",
]

HOURS = 24
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = HOURS * SECONDS_PER_HOUR
_DECAY_CONSTANTS = 3.0  # the window holds three decay time constants after the ramp


def is_flat(weights: Sequence[float]) -> bool:
    """Every hour (nearly) equal: no busy hour to stretch."""
    return math.isclose(min(weights), max(weights), rel_tol=1e-9)


def max_factor(weights: Sequence[float]) -> float:
    """The highest busy-hour factor the stretch can give ``weights`` before the quietest
    hour goes negative: ``1 + (max - mean) / (mean - min)``; 1 for a flat curve."""
    mean = sum(weights) / len(weights)
    low, high = min(weights), max(weights)
    if is_flat(weights):
        return 1.0
    return 1 + (high - mean) / (mean - low)


def stretch_curve(weights: Sequence[float], factor: float) -> tuple[float, ...]:
    """Hourly shares of daily traffic (sum 1) with ``max * 24 == factor``.

    The caller has checked that the weights are 24 non-negative numbers with a positive
    sum and that ``factor <= max_factor(weights)`` (tiny float negatives are clipped).
    """
    total = sum(weights)
    mean = 1 / len(weights)
    shares = [w / total for w in weights]
    if is_flat(shares):  # a flat curve can only have factor 1
        return tuple(shares)
    natural = max(shares) / mean
    k = (factor - 1) / (natural - 1)
    return tuple(max(0.0, mean + (s - mean) * k) for s in shares)


def day_fraction_elapsed(shares: Sequence[float], day_seconds: float) -> float:
    """Share of a day's traffic that has arrived ``day_seconds`` after midnight; counts
    whole days past the first, so ``day_fraction_elapsed(s, 1.5 * 86400) == 1.5``.

    Any hourly step curve works: for weights that do not sum to 1 (e.g. the share of
    subscribers online per hour) it is the curve's area in weight-hours since midnight."""
    days, rest = divmod(day_seconds, SECONDS_PER_DAY)
    hour = min(int(rest // SECONDS_PER_HOUR), HOURS - 1)
    within = (rest - hour * SECONDS_PER_HOUR) / SECONDS_PER_HOUR
    return days * sum(shares) + sum(shares[:hour]) + shares[hour] * within


def _decay_constant(window: float, ramp: float) -> float:
    return (window - ramp) / _DECAY_CONSTANTS


def _area(window: float, ramp: float) -> float:
    """Integral of the unnormalised shape (peak 1) over the window."""
    return ramp / 2 + _decay_constant(window, ramp) * (1 - math.exp(-_DECAY_CONSTANTS))


def reconnect_density(u: float, window: float, ramp: float) -> float:
    """Share of all reconnects per second at ``u`` seconds after the outage ended."""
    if u < 0 or u > window:
        return 0.0
    area = _area(window, ramp)
    if u < ramp:
        return u / ramp / area
    return math.exp(-(u - ramp) / _decay_constant(window, ramp)) / area


def reconnect_cumulative(u: float, window: float, ramp: float) -> float:
    """Share of all reconnects done by ``u`` seconds after the outage ended (0 … 1)."""
    if u <= 0:
        return 0.0
    if u >= window:
        return 1.0
    if u < ramp:
        raw = u * u / (2 * ramp)
    else:
        tau = _decay_constant(window, ramp)
        raw = ramp / 2 + tau * (1 - math.exp(-(u - ramp) / tau))
    return raw / _area(window, ramp)
