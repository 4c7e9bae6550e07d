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

    Times are seconds into the schedule (``Arrival.at``). The user calls ``next()`` for its
    next arrival, ``begin(now)`` right before it sends the request (False: it may not start
    any more, and is counted not started), and ``end()`` when the request returned (False:
    the share was closed meanwhile and the request already counted as ``unfinished``).
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
        #: drawn from the schedule, not started yet (the user is waiting for its slot)
        self.pending: Arrival | None = None
        #: started, not returned; with the perf_counter() of its actual start
        self.in_flight: tuple[Arrival, float] | None = None
        #: no request starts after this; later slots are "stopped" when it is before the end
        self.stop_at = duration + LATE_AFTER_SECONDS
        #: why the share stopped early (None: it ran to the schedule's end)
        self.note: str | None = None
        self.closed = False

    def next(self) -> Arrival | None:
        """The arrival to start next, or None once the schedule is over or the share closed."""
        if self.closed:
            return None
        if self.pending is None:
            arrival = self._schedule.next()
            if arrival is None:
                return None
            self.planned[arrival.operation] = self.planned.get(arrival.operation, 0) + 1
            self.pending = arrival
        return self.pending

    def begin(self, now: float, actual: float) -> bool:
        """Start the pending arrival at ``now`` (``actual``: its perf_counter()); False when
        it is past ``stop_at`` (it is then counted as not started)."""
        arrival = self.pending
        if self.closed:
            return False  # closed while the user waited for the slot: counted at close
        if arrival is None:
            raise RuntimeError(f"share {self.key}: no arrival to begin")
        self.pending = None
        if now > self.stop_at:
            self._not_started(arrival)
            return False
        self.in_flight = (arrival, actual)
        return True

    def end(self) -> bool:
        """The in-flight request returned; True when the caller is to record it."""
        if self.closed:
            return False
        self.in_flight = None
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

    def close(self, now: float, note: str) -> tuple[Arrival, float] | None:
        """Freeze the ledger at ``now``: every arrival not started yet is counted not started.

        Returns the request still in flight, if any, for the caller to record as failed
        (``UNFINISHED``): it is no longer this share's to record when it returns.
        """
        if self.closed:
            return None
        self.stop(now, note)
        if self.pending is not None:
            self._not_started(self.pending)
            self.pending = None
        while (arrival := self._schedule.next()) is not None:
            self.planned[arrival.operation] = self.planned.get(arrival.operation, 0) + 1
            self._not_started(arrival)
        in_flight, self.in_flight = self.in_flight, None
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
