"""The open workload model on top of Locust: requests start at *scheduled* times.

Locust's own model is closed: a user sends its next request when the previous one has
returned (plus a wait). When the target stalls, a closed model simply sends less, and the
stall vanishes from the statistics (coordinated omission). Here every user instead follows
an **arrival schedule** — the intended start time of each of its requests — and

* **latency** (response time) is measured from the *intended* start, so a request that had to
  wait because the target (or the generator) was stuck is charged for the wait;
* **service time** is measured from the *actual* start, what the target itself took;
* a request that starts more than ``LATE_AFTER_SECONDS`` after its intended time is counted
  as a **late start**: the generator could not keep up with the schedule.

Each user carries an equal share of its operations' total rate, so with ``U`` users the
superposition of their schedules is the target arrival process, whatever the number of
processes or hosts they run on (Poisson processes add up to a Poisson process), and no
coordination between Locust workers is needed.

Arrivals are Poisson by default (independent requests from many subscribers); ``uniform``
spaces them evenly (for exact rate checks). Time-varying rates (``diurnal``, ``spike``) are
drawn by thinning: candidates at the peak rate, each kept with probability rate(t) / peak.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["LATE_AFTER_SECONDS", "Arrival", "ArrivalSchedule", "RateFn", "peak_rates"]

#: A request that starts later than this after its intended time counts as a late start.
LATE_AFTER_SECONDS = 0.005

#: Requests per second of each operation at second ``t`` of the run.
RateFn = Callable[[float], Mapping[str, float]]


@dataclass(frozen=True)
class Arrival:
    #: seconds since the run's start at which the request is meant to start
    at: float
    operation: str


@functools.lru_cache(maxsize=64)
def _peak(rates: RateFn, duration: float, operations: tuple[str, ...], steps: int) -> float:
    peak = 0.0
    for i in range(steps + 1):
        at = rates(duration * i / steps)
        peak = max(peak, sum(at.get(op, 0.0) for op in operations))
    return peak


def peak_rates(
    rates: RateFn, duration: float, operations: Sequence[str], steps: int = 2000
) -> float:
    """The highest total rate of ``operations`` over the run (sampled finely), for thinning.

    Computed once per rate function (every user's schedule of a run asks the same): the
    2,001 samples take ~7 ms, and a run of 100 users asked for them 100 times at start-up,
    0.7 s of CPU while the first requests were due.
    """
    return _peak(rates, duration, tuple(operations), steps)


class ArrivalSchedule:
    """One user's intended request times and operations, a ``share`` of the total rate.

    ``next()`` returns the next arrival, or None once the run's ``duration`` is over.
    """

    def __init__(
        self,
        rates: RateFn,
        operations: Sequence[str],
        share: float,
        duration: float,
        kind: Literal["poisson", "uniform"] = "poisson",
        seed: int | None = None,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self._rates = rates
        self._ops = tuple(operations)
        self._share = share
        self._duration = duration
        self._kind = kind
        self._rng = random.Random(seed)
        self._peak = peak_rates(rates, duration, self._ops) * share
        # uniform: start at a random phase, so U users do not fire in lockstep
        self._t = self._rng.random() / self._peak if kind == "uniform" and self._peak else 0.0

    @property
    def mean_interval(self) -> float:
        return math.inf if self._peak == 0 else 1 / self._peak

    def _pick(self, at: Mapping[str, float], total: float) -> str:
        x = self._rng.random() * total
        for op in self._ops:
            x -= at.get(op, 0.0)
            if x < 0:
                return op
        return self._ops[-1]

    def next(self) -> Arrival | None:
        if self._peak == 0:
            return None
        while True:
            if self._kind == "poisson":
                self._t += self._rng.expovariate(self._peak)
            if self._t >= self._duration:
                return None
            at = self._rates(self._t)
            total = sum(at.get(op, 0.0) for op in self._ops) * self._share
            if self._kind == "uniform":
                arrival_t = self._t
                self._t += 1 / total if total > 0 else 1 / self._peak
                if total > 0:
                    return Arrival(arrival_t, self._pick(at, total / self._share))
                continue
            if total > 0 and self._rng.random() * self._peak < total:
                return Arrival(self._t, self._pick(at, total / self._share))
