"""The arithmetic of the heartbeat lag: pure, no I/O (postgres_replication does the I/O).

    Stamp          when a round trip to a node happened, on the exporter's own clocks
    OffsetFilter   a node's clock offset from timed ``clock_timestamp()`` round trips
    Ledger         the beats of one origin this exporter knows, by sequence number
    apply_delay    how long the peer took to apply a beat, from polls of the peer
    estimate       the age of the oldest beat a peer is missing

**Definition.** Every beat cycle (every ``heartbeat_interval``) the exporter writes a beat on
every node, then polls every peer, a step of a tenth of the beat's age (20 ms to 100 ms),
until the peer shows it or 80 % of the cycle's budget has passed. The lag of origin O to
peer P is then:

1. the beat arrived: the time P took to apply the beat this exporter wrote on O in this cycle
   (``apply_delay``): from the write's round trip to the window between the last poll that
   did not show it and the first that did, all on the exporter's monotonic clock, so no host's
   clock is in it; the error is half that window plus half the write's round trip. This is
   the true apply delay, once per beat.
2. still missing at the end of the cycle (a stall), or no beat written on O in this cycle:
   the age of the oldest beat P is missing (``estimate``), which grows second by second
   while P stands still. Every write of O's row adds 1 to its ``seq``, whoever writes, and P
   applies O's transactions in commit order, so showing ``seq = a`` P misses the beats from
   ``a + 1`` on. How old beat ``a + 1`` is depends on who wrote it:

   - this exporter: on its monotonic clock (half of each round trip as the error);
   - another writer (the other exporter of an HA pair), just before one of this exporter's
     writes: every write returns the beat it replaced (``seq - 1``, its ``beat_at``), so its
     age is known by O's clock, corrected by O's measured offset (offset error added);
   - unknown (written before this exporter started, i.e. it restarted during a stall, or
     this exporter could not write on O in this cycle): bounded by the age of the newest
     beat P applied (``a``), on the exporter's clock if it wrote it, else from P's copy of
     ``beat_at`` corrected by O's offset. That is an upper bound, above the truth by at most
     the spacing of two beats on O;
   - P has no row of O at all: the age of the oldest beat this exporter knows, a lower bound
     (error +Inf: the upper bound is unknown).

After a stall, the first cycle whose beat arrives reports that beat's delay (at most one
heartbeat interval, as the backlog arrived), the next one the normal apply delay again.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Beat",
    "Lag",
    "Ledger",
    "Offset",
    "OffsetFilter",
    "Stamp",
    "apply_delay",
    "estimate",
    "poll_step",
]

#: Beats kept per origin while a peer is behind (at 2 beats a second, about 7 hours of
#: stall); older ones are dropped and their age falls back to the bound.
MAX_BEATS = 50_000
#: Round trips kept for the offset filter (NTP keeps 8).
OFFSET_SAMPLES = 8
#: Bounds of the step between two polls of a peer waiting for a beat, seconds.
POLL_MIN = 0.02
POLL_MAX = 0.1


@dataclass(frozen=True)
class Stamp:
    """A round trip, on the exporter's clocks: ``sent`` and ``received`` monotonic, ``wall``
    the wall-clock time (``time.time()``) at its midpoint."""

    sent: float
    received: float
    wall: float

    @classmethod
    def of(cls, sent: float, wall_sent: float, received: float) -> Stamp:
        return cls(sent, received, wall_sent + (received - sent) / 2)

    @property
    def mid(self) -> float:
        return (self.sent + self.received) / 2

    @property
    def half_rtt(self) -> float:
        return (self.received - self.sent) / 2


@dataclass(frozen=True)
class Offset:
    """A node's clock minus the exporter's clock, within ``± error`` seconds."""

    seconds: float
    error: float


class OffsetFilter:
    """The offset from the round trip with the shortest time of the last few.

    ``offset = server time - midpoint of the round trip``: the server read its clock at some
    moment of the round trip, so the error is at most half of it. Short round trips give the
    tightest bound (NTP's clock filter); a round trip slowed by a busy host only widens it.
    """

    def __init__(self, size: int = OFFSET_SAMPLES) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=size)  # (half rtt, offset)

    def add(self, stamp: Stamp, server_epoch: float) -> None:
        self._samples.append((stamp.half_rtt, server_epoch - stamp.wall))

    def best(self) -> Offset | None:
        if not self._samples:
            return None
        error, seconds = min(self._samples)
        return Offset(seconds, error)


@dataclass(frozen=True)
class Beat:
    """One beat of an origin: written by this exporter (``stamp`` set) or learned from the
    origin as the beat one of this exporter's writes replaced (``stamp`` None).

    ``origin_epoch`` is its ``beat_at`` on the origin's clock; ``known_at`` the monotonic time
    this exporter knew it was committed (the answer to the write that wrote or replaced it).
    """

    seq: int
    origin_epoch: float
    known_at: float
    stamp: Stamp | None = None


class Ledger:
    """The beats of one origin that this exporter knows, in ``seq`` order."""

    def __init__(self, limit: int = MAX_BEATS) -> None:
        self._seqs: list[int] = []
        self._beats: dict[int, Beat] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._seqs)

    def record(self, beat: Beat) -> None:
        """Add a beat. A ``seq`` below the newest known, learned after it, means the row was
        reset (deleted and inserted again): what is known no longer applies."""
        known = self._beats.get(beat.seq)
        if known is not None:
            if beat.stamp is not None and known.stamp is None:
                self._beats[beat.seq] = beat  # written here: the exporter's clock knows it
            return
        if self._seqs:
            newest = self._beats[self._seqs[-1]]
            if beat.seq < newest.seq and beat.known_at >= newest.known_at:
                self.clear()
        bisect.insort(self._seqs, beat.seq)  # two cycles at once may record out of order
        self._beats[beat.seq] = beat
        if len(self._seqs) > self._limit:
            del self._beats[self._seqs.pop(0)]

    def clear(self) -> None:
        self._seqs.clear()
        self._beats.clear()

    def prune(self, applied: int) -> None:
        """Forget beats older than ``applied`` (the lowest seq every peer has applied)."""
        cut = bisect.bisect_left(self._seqs, applied)
        for seq in self._seqs[:cut]:
            del self._beats[seq]
        del self._seqs[:cut]

    def get(self, seq: int, before: float) -> Beat | None:
        beat = self._beats.get(seq)
        return beat if beat is not None and beat.known_at <= before else None

    def newest(self, before: float) -> Beat | None:
        """The newest beat known committed before monotonic time ``before``."""
        for seq in reversed(self._seqs):
            if self._beats[seq].known_at <= before:
                return self._beats[seq]
        return None

    def oldest_after(self, seq: int, before: float) -> Beat | None:
        """The oldest beat newer than ``seq`` known committed before ``before``."""
        for later in self._seqs[bisect.bisect_right(self._seqs, seq) :]:
            if self._beats[later].known_at <= before:
                return self._beats[later]
        return None


How = Literal["exporter clock", "origin clock", "bound", "lower bound"]


@dataclass(frozen=True)
class Lag:
    """``seconds`` within ``± error``; ``how`` says which case of the definition applied."""

    seconds: float
    error: float
    how: How


def estimate(
    ledger: Ledger,
    applied: int | None,
    applied_epoch: float | None,
    read: Stamp,
    offset: Offset | None,
) -> Lag | None:
    """The age of the oldest beat the peer is missing, from its row of the origin read
    during ``read`` (``applied`` its seq, None when the peer has no row; ``applied_epoch``
    its beat_at, on the origin's clock). For a peer that has not shown this cycle's beat.

    ``offset``: the origin's clock offset, for ages on the origin's clock. None when nothing
    can be said (no row on the peer and no beat known).
    """
    before = read.sent  # only beats committed before the peer was asked can be missing
    if applied is None:
        oldest = ledger.oldest_after(-1, before)
        if oldest is None:
            return None
        return Lag(_age(oldest, read, offset).seconds, math.inf, "lower bound")
    missing = ledger.get(applied + 1, before)
    if missing is not None:
        return _age(missing, read, offset)
    # The oldest missing beat is unknown: the newest applied beat's age bounds it from above.
    last = ledger.get(applied, before)
    if last is not None:
        upper = _age(last, read, offset)
    elif applied_epoch is not None:
        upper = _from_origin_clock(applied_epoch, read, offset)
    else:
        return None
    later = ledger.oldest_after(applied, before)  # missing for sure: a lower bound
    floor = _age(later, read, offset).seconds if later is not None else 0.0
    return Lag(max(upper.seconds, floor), upper.error, "bound")


def apply_delay(written: Stamp, missing_since: float, seen: Stamp) -> Lag:
    """How long a beat took to be applied on a peer: written during ``written``, still
    missing at a poll sent at ``missing_since``, there at the poll ``seen``.

    It was applied after ``missing_since`` (and after it was written) and before ``seen``
    answered: the middle of that window, ± half of it and half the write's round trip.
    """
    low = max(missing_since, written.sent)
    applied = (low + seen.received) / 2
    return Lag(
        max(0.0, applied - written.mid),
        (seen.received - low) / 2 + written.half_rtt,
        "exporter clock",
    )


def poll_step(age: float) -> float:
    """Seconds to the next poll for a beat ``age`` seconds old: a tenth of its age, so the
    apply delay is known within 5 %, and at least POLL_MIN (at most POLL_MAX) seconds."""
    return min(POLL_MAX, max(POLL_MIN, age / 10))


def _age(beat: Beat, read: Stamp, offset: Offset | None) -> Lag:
    if beat.stamp is not None:
        return Lag(
            max(0.0, read.mid - beat.stamp.mid),
            beat.stamp.half_rtt + read.half_rtt,
            "exporter clock",
        )
    return _from_origin_clock(beat.origin_epoch, read, offset)


def _from_origin_clock(epoch: float, read: Stamp, offset: Offset | None) -> Lag:
    """Age of a beat stamped ``epoch`` by the origin's clock, on the exporter's clock."""
    if offset is None:
        return Lag(max(0.0, read.wall - epoch), math.inf, "origin clock")
    age = read.wall - (epoch - offset.seconds)
    return Lag(max(0.0, age), offset.error + read.half_rtt, "origin clock")
