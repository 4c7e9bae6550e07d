"""Target arrival rates: a validated traffic profile as requests/second over a run.

Pure functions of ``(PopProfile, LoadProfile, t, duration)``; the maths of the curve and of
the reconnect storm is in ``edgesla.loadtests.shapes``, the profile itself in
``edgesla.loadtests.profile``.

    daily[op] = subscribers * ((1 - business_share) * residential[op]
                               + business_share * business[op])        # requests/day
    peak[op]  = daily[op] * busy_hour_factor / 86400                    # requests/second

The RADIUS operations follow the sessions, not a per-subscriber daily count:

    auth_lookup(t)  = session_start(t) * access_requests_per_start   # one login per start
    acct_interim(t) = subscribers * online[hour(t)] / interim_interval

``peak`` plays the busy hour (the hour with the most traffic of the stretched diurnal
curve), so its ``acct_interim`` is ``subscribers * online[busy hour] / interim_interval``.

- ``peak``    — ``peak[op]``, constant.
- ``soak``    — ``fraction * peak[op]``, constant.
- ``diurnal`` — second ``t`` plays day-time ``start_hour*3600 + t * 86400/duration`` at that
  hour's real rate ``daily[op] * share[hour] / 3600``; the run issues
  ``daily[op] * duration / 86400`` requests (the day, scaled to the run's length).
- ``spike``   — ``peak[op]`` plus ``share`` of the busy hour's online sessions reconnecting
  over ``[at, at + window]`` (ramp, then decay); each adds one ``session_start`` (the
  accounting start) and ``access_requests_per_start`` ``auth_lookup``.

``expected_counts`` is the exact integral of ``rates_at``: an open-model scheduler can pace
by it, and the rate-accuracy benchmark and the run metadata quote it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from edgesla import ConfigError
from edgesla.durations import format_duration
from edgesla.loadtests import shapes
from edgesla.loadtests.profile import DAILY_OPERATIONS, LoadProfile, PopProfile, SpikeSettings

__all__ = [
    "RateFn",
    "busy_hour",
    "check_run",
    "daily_totals",
    "expected_counts",
    "hourly_shares",
    "max_rates",
    "mean_rates",
    "online_sessions",
    "peak_rates",
    "rate_fn",
    "rates_at",
    "reconnects",
]

#: Requests/second per operation at second ``t`` of a run.
RateFn = Callable[[float], dict[str, float]]


def _daily_per_operation(pop: PopProfile) -> dict[str, float]:
    """Requests per day of the ``DAILY_OPERATIONS`` (residential/business mix-weighted)."""
    res, bus, share = pop.residential, pop.business, pop.business_share
    return {
        op: pop.subscribers * ((1 - share) * getattr(res, op) + share * getattr(bus, op))
        for op in DAILY_OPERATIONS
    }


def _with_radius(usage: dict[str, float], pop: PopProfile, online: float) -> dict[str, float]:
    """``usage`` (the daily operations) plus the RADIUS operations: a login per session
    start, and the interim updates of ``online`` sessions (same unit as ``usage``/``online``)."""
    radius = pop.radius
    return {
        **usage,
        "auth_lookup": usage["session_start"] * radius.access_requests_per_start,
        "acct_interim": online / radius.interim_interval,
    }


def online_sessions(pop: PopProfile, hour: int) -> float:
    """Sessions open at the PoP during ``hour`` (0-23): subscribers * online share."""
    return pop.subscribers * pop.radius.online[hour]


def daily_totals(pop: PopProfile) -> dict[str, float]:
    """Requests per day at the PoP, per operation."""
    session_seconds = sum(online_sessions(pop, h) for h in range(shapes.HOURS))
    return _with_radius(_daily_per_operation(pop), pop, session_seconds * shapes.SECONDS_PER_HOUR)


def peak_rates(pop: PopProfile) -> dict[str, float]:
    """Busy-hour requests per second: the busy hour's rates, i.e. ``daily *
    busy_hour_factor / 86400`` for the daily operations (the stretched curve's busiest hour
    is ``busy_hour_factor / 24`` of the day) and the busy hour's online sessions / interim
    interval for ``acct_interim``."""
    return _hour_rates(pop, busy_hour(pop))


def _hour_rates(pop: PopProfile, hour: int) -> dict[str, float]:
    """Requests per second of every operation during ``hour`` of the day."""
    share = hourly_shares(pop)[hour]
    usage = {op: n * share / shapes.SECONDS_PER_HOUR for op, n in _daily_per_operation(pop).items()}
    return _with_radius(usage, pop, online_sessions(pop, hour))


@functools.lru_cache(maxsize=64)
def _shares(curve: tuple[float, ...], factor: float) -> tuple[float, ...]:
    return shapes.stretch_curve(curve, factor)


def hourly_shares(pop: PopProfile) -> tuple[float, ...]:
    """The stretched diurnal curve: 24 shares of daily traffic, sum 1, max = factor/24."""
    return _shares(pop.diurnal, pop.busy_hour_factor)


def busy_hour(pop: PopProfile) -> int:
    """The hour of day (0-23) with the most traffic; the first of equals."""
    shares = hourly_shares(pop)
    return shares.index(max(shares))


def check_run(load: LoadProfile, duration: float) -> None:
    """ConfigError unless a run of ``duration`` seconds can play ``load``."""
    if not duration > 0:
        raise ConfigError(
            f"run duration must be above 0, got {duration:g}s; pass e.g. --duration 5m"
        )
    spike = load.spike
    if load.kind == "spike" and spike.at + spike.window > duration:
        end = format_duration(spike.at + spike.window)
        raise ConfigError(
            f"load.spike: the reconnect storm (at {format_duration(spike.at)}, window "
            f"{format_duration(spike.window)}) ends at {end}, after the "
            f"{format_duration(duration)} run; run for at least {end} or lower "
            "load.spike.at or load.spike.window"
        )


def _check_time(t: float, duration: float, name: str) -> None:
    if not 0 <= t <= duration:
        raise ValueError(f"{name}={t:g} is outside the run [0, {duration:g}] seconds")


def _day_seconds(load: LoadProfile, t: float, duration: float) -> float:
    """The (unwrapped) time of day that second ``t`` of a ``diurnal`` run plays."""
    start = load.diurnal.start_hour * shapes.SECONDS_PER_HOUR
    return start + t * shapes.SECONDS_PER_DAY / duration


def reconnects(pop: PopProfile, spike: SpikeSettings) -> float:
    """Sessions that reconnect in a spike: ``share`` of the busy hour's online sessions."""
    return online_sessions(pop, busy_hour(pop)) * spike.share


def _plus_storm(
    base: dict[str, float], pop: PopProfile, spike: SpikeSettings, done: float
) -> dict[str, float]:
    """``base`` plus ``done`` (a density, or a cumulative share) of the spike's reconnects:
    each is one accounting start and ``access_requests_per_start`` authentications."""
    n = reconnects(pop, spike) * done
    extra = {"session_start": n, "auth_lookup": n * pop.radius.access_requests_per_start}
    return {op: value + extra.get(op, 0.0) for op, value in base.items()}


class _RunRates:
    """``rates_at`` of one run, with what depends on the profile alone computed once: a
    run's schedule asks for the rates at every arrival (thousands a second)."""

    def __init__(self, pop: PopProfile, load: LoadProfile, duration: float) -> None:
        check_run(load, duration)
        self._pop, self._load, self._duration = pop, load, duration
        self._peak = peak_rates(pop)
        diurnal = load.kind == "diurnal"
        self._hours = tuple(_hour_rates(pop, h) for h in range(shapes.HOURS)) if diurnal else ()

    def __call__(self, t: float) -> dict[str, float]:
        _check_time(t, self._duration, "t")
        load = self._load
        if load.kind == "peak":
            return dict(self._peak)
        if load.kind == "soak":
            return {op: rate * load.soak.fraction for op, rate in self._peak.items()}
        if load.kind == "diurnal":
            seconds = _day_seconds(load, t, self._duration) % shapes.SECONDS_PER_DAY
            hour = min(int(seconds // shapes.SECONDS_PER_HOUR), shapes.HOURS - 1)
            return dict(self._hours[hour])
        spike = load.spike
        density = shapes.reconnect_density(t - spike.at, spike.window, spike.ramp)
        return _plus_storm(self._peak, self._pop, spike, density)


def rates_at(pop: PopProfile, load: LoadProfile, t: float, duration: float) -> dict[str, float]:
    """Target requests per second of each operation at second ``t`` of the run."""
    return _RunRates(pop, load, duration)(t)


def expected_counts(
    pop: PopProfile, load: LoadProfile, duration: float, *, until: float | None = None
) -> dict[str, float]:
    """Expected arrivals per operation in ``[0, until]`` (default: the whole run), the
    exact integral of ``rates_at``."""
    check_run(load, duration)
    end = duration if until is None else until
    _check_time(end, duration, "until")
    peak = peak_rates(pop)
    if load.kind == "peak":
        return {op: rate * end for op, rate in peak.items()}
    if load.kind == "soak":
        return {op: rate * load.soak.fraction * end for op, rate in peak.items()}
    if load.kind == "diurnal":
        return _diurnal_counts(pop, load, duration, end)
    spike = load.spike
    done = shapes.reconnect_cumulative(end - spike.at, spike.window, spike.ramp)
    base = {op: rate * end for op, rate in peak.items()}
    return _plus_storm(base, pop, spike, done)


def _diurnal_counts(
    pop: PopProfile, load: LoadProfile, duration: float, end: float
) -> dict[str, float]:
    """Arrivals in ``[0, end]`` of a ``diurnal`` run: the daily operations follow the
    stretched curve, ``acct_interim`` the online curve (both steps per hour)."""

    def elapsed(curve: tuple[float, ...]) -> float:  # hour-weighted area between 0 and end
        return shapes.day_fraction_elapsed(
            curve, _day_seconds(load, end, duration)
        ) - shapes.day_fraction_elapsed(curve, _day_seconds(load, 0.0, duration))

    scale = duration / shapes.SECONDS_PER_DAY  # run seconds per day-second
    days = elapsed(hourly_shares(pop))
    usage = {op: n * days * scale for op, n in _daily_per_operation(pop).items()}
    session_seconds = pop.subscribers * elapsed(pop.radius.online) * shapes.SECONDS_PER_HOUR
    return _with_radius(usage, pop, session_seconds * scale)


def mean_rates(pop: PopProfile, load: LoadProfile, duration: float) -> dict[str, float]:
    """Average requests per second of each operation over the whole run."""
    return {op: n / duration for op, n in expected_counts(pop, load, duration).items()}


def max_rates(pop: PopProfile, load: LoadProfile, duration: float) -> dict[str, float]:
    """The highest rate of each operation during the run, exactly (a bound for thinning)."""
    check_run(load, duration)
    peak = peak_rates(pop)
    if load.kind == "soak":
        return {op: rate * load.soak.fraction for op, rate in peak.items()}
    if load.kind == "peak":
        return peak
    if load.kind == "diurnal":  # the busiest hour of each operation: it may differ per curve
        hours = [_hour_rates(pop, h) for h in range(shapes.HOURS)]
        return {op: max(rates[op] for rates in hours) for op in peak}
    spike = load.spike
    top = shapes.reconnect_density(spike.ramp, spike.window, spike.ramp)
    return _plus_storm(peak, pop, spike, top)


def rate_fn(pop: PopProfile, load: LoadProfile, duration: float) -> RateFn:
    """``rates_at`` bound to one run, checked once: ``rate_fn(pop, load, 300)(12.5)``."""
    return _RunRates(pop, load, duration)
