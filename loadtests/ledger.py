"""Where every request of the schedule went: one ledger per user's share of the schedule.

Each open-model user runs one **share** of the arrival schedule (``edgesla.loadtests.openmodel``):
1/U of its user class's rate, for the whole run. Every arrival a share's schedule issues
ends in exactly one place:

    succeeded                 recorded by the Recorder when the request returns
    failed (by cause)         recorded by the Recorder; ``unfinished`` when it was still
                              in flight when the share closed (no reply by the drain's end)
    not started: late         its slot came before the share stopped taking requests, but
                              the generator had not started it by then (it was behind)
    not started: stopped      its slot came after the share stopped early (the run was cut
                              short, or the share's user died)

so per operation ``planned == succeeded + failed + not started`` once every share is closed
(``Share.close``). ``planned`` is counted here, as the schedule issues arrivals; the outcomes
are counted by the Recorder: two independent counters, compared when the run ends.

A share is named by its ``ShareKey`` (user class, worker index, ordinal on that worker) and
its schedule is seeded from the run's schedule seed and that key (``share_seed``), so the
master can regenerate any share's schedule and count its planned requests itself
(``planned_requests``), independently of what the worker reports.

Shares are used from gevent greenlets of one process: no locks (no method yields).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from edgesla.loadtests.openmodel import LATE_AFTER_SECONDS, Arrival, ArrivalSchedule, RateFn

__all__ = [
    "LATE",
    "NOT_STARTED_REASONS",
    "STOPPED",
    "UNFINISHED",
    "Share",
    "ShareKey",
    "planned_requests",
    "share_seed",
    "sum_counts",
]

LATE: Final = "late"
STOPPED: Final = "stopped"
NOT_STARTED_REASONS: Final = (LATE, STOPPED)
#: The failure cause of a request still in flight when its share closed.
UNFINISHED: Final = "unfinished"

Kind = Literal["poisson", "uniform"]


@dataclass(frozen=True, slots=True, order=True)
class ShareKey:
    """One share of the schedule: the ``ordinal``-th user of ``user_class`` on ``worker``."""

    user_class: str
    worker: int
    ordinal: int

    def __str__(self) -> str:
        return f"{self.user_class}/{self.worker}/{self.ordinal}"

    def encode(self) -> list[Any]:
        return [self.user_class, self.worker, self.ordinal]


def share_seed(run_seed: int, key: ShareKey) -> int:
    """The schedule seed of one share: the same on every process that knows the run seed."""
    digest = hashlib.sha256(f"edgesla-share:{run_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _schedule(
    rates: RateFn, operations: Iterable[str], users: int, duration: float, kind: Kind, seed: int
) -> ArrivalSchedule:
    return ArrivalSchedule(rates, tuple(operations), 1 / users, duration, kind=kind, seed=seed)


def planned_requests(
    rates: RateFn, operations: Iterable[str], users: int, duration: float, kind: Kind, seed: int
) -> dict[str, int]:
    """Arrivals per operation of one share's whole schedule, regenerated from its seed."""
    schedule = _schedule(rates, operations, users, duration, kind, seed)
    counts: dict[str, int] = {}
    while (arrival := schedule.next()) is not None:
        counts[arrival.operation] = counts.get(arrival.operation, 0) + 1
    return counts


def sum_counts(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for name, n in part.items():
            total[name] = total.get(name, 0) + n
    return total


class Share:
    """One user's share of the schedule and the ledger of its arrivals.

    Times are seconds into the schedule (``Arrival.at``). Any user of the process may serve a
    share's arrivals (``dispatch.Pool``): ``take()`` hands out the next one with a token,
    ``start(token, now, actual)`` is called right before the request is sent (False: it may
    not start any more, and is counted not started), ``finish(token)`` when it returned
    (False: the share was closed meanwhile and the request already counted as
    ``unfinished``).
    """

    def __init__(
        self,
        key: ShareKey,
        seed: int,
        rates: RateFn,
        operations: Iterable[str],
        users: int,
        duration: float,
        kind: Kind,
    ) -> None:
        self.key = key
        self.seed = seed
        self.duration = duration
        self._schedule = _schedule(rates, operations, users, duration, kind, seed)
        self.planned: dict[str, int] = {}
        self.not_started: dict[str, dict[str, int]] = {}
        #: drawn from the schedule (and counted planned), not handed out yet
        self._ahead: Arrival | None = None
        #: handed out, the user waiting for its slot
        self.waiting: dict[int, Arrival] = {}
        #: started, not returned; with the perf_counter() of its actual start
        self.in_flight: dict[int, tuple[Arrival, float]] = {}
        self._tokens = itertools.count()
        #: no request starts after this; later slots are "stopped" when it is before the end
        self.stop_at = duration + LATE_AFTER_SECONDS
        #: why the share stopped early (None: it ran to the schedule's end)
        self.note: str | None = None
        self.closed = False

    def peek(self) -> float | None:
        """When the next arrival is due, without handing it out; None when there is none."""
        if self.closed:
            return None
        if self._ahead is None:
            arrival = self._schedule.next()
            if arrival is None:
                return None
            self.planned[arrival.operation] = self.planned.get(arrival.operation, 0) + 1
            self._ahead = arrival
        return self._ahead.at

    def take(self) -> tuple[int, Arrival] | None:
        """Hand out the next arrival: (its token, it); None once the schedule is over."""
        if self.peek() is None or self._ahead is None:
            return None
        arrival, self._ahead = self._ahead, None
        token = next(self._tokens)
        self.waiting[token] = arrival
        return token, arrival

    def start(self, token: int, now: float, actual: float) -> bool:
        """Start a handed-out arrival at ``now`` (``actual``: its perf_counter()); False when
        it is past ``stop_at`` (it is then counted as not started) or the share is closed."""
        if self.closed:
            return False  # closed while the user waited for the slot: counted at close
        arrival = self.waiting.pop(token, None)
        if arrival is None:
            raise RuntimeError(f"share {self.key}: no arrival {token} to start")
        if now > self.stop_at:
            self._not_started(arrival)
            return False
        self.in_flight[token] = (arrival, actual)
        return True

    def finish(self, token: int) -> bool:
        """A started request returned; True when the caller is to record it."""
        if self.closed:
            return False
        self.in_flight.pop(token, None)
        return True

    def stop(self, at: float, note: str) -> None:
        """Take no request after ``at``: the run ends early here, or this share's user stopped.

        ``note`` says why; it is kept only when the share stops before the schedule's end.
        """
        if self.closed or at >= self.stop_at:
            return
        self.stop_at = at
        if at < self.duration and self.note is None:
            self.note = note

    def close(self, now: float, note: str) -> list[tuple[Arrival, float]]:
        """Freeze the ledger at ``now``: every arrival not started yet is counted not started.

        Returns the requests still in flight, for the caller to record as failed
        (``UNFINISHED``): they are no longer this share's to record when they return.
        """
        if self.closed:
            return []
        self.stop(now, note)
        for handed_out in sorted(self.waiting.values(), key=lambda a: a.at):
            self._not_started(handed_out)
        if self._ahead is not None:
            self._not_started(self._ahead)
        self._ahead, self.waiting = None, {}
        while (arrival := self._schedule.next()) is not None:
            self.planned[arrival.operation] = self.planned.get(arrival.operation, 0) + 1
            self._not_started(arrival)
        in_flight = sorted(self.in_flight.values(), key=lambda item: item[0].at)
        self.in_flight = {}
        self.closed = True
        return in_flight

    def _not_started(self, arrival: Arrival) -> None:
        reason = LATE if arrival.at < self.stop_at else STOPPED
        counts = self.not_started.setdefault(arrival.operation, {})
        counts[reason] = counts.get(reason, 0) + 1

    @property
    def stopped_early(self) -> bool:
        return self.stop_at < self.duration and not math.isinf(self.stop_at)

    def encode(self) -> dict[str, Any]:
        """The wire form in a final report (``edgesla.loadtests.wire.ShareReport``)."""
        return {
            "key": self.key.encode(),
            "seed": self.seed,
            "planned": dict(sorted(self.planned.items())),
            "not_started": {
                op: dict(sorted(r.items())) for op, r in sorted(self.not_started.items())
            },
            "note": self.note,
        }
