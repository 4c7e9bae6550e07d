"""The lag arithmetic of edgesla.probes._pg_lag on synthetic timings: every case of the definition.

Pure functions: the timings here are the ones a beat cycle would measure (monotonic seconds,
wall-clock seconds, round trips); the real-stack tests beside this file check the same cases
against live PostgreSQL.
"""

from __future__ import annotations

import math

import pytest

from edgesla.probes._pg_lag import (
    POLL_MAX,
    POLL_MIN,
    Beat,
    Ledger,
    Offset,
    OffsetFilter,
    Stamp,
    apply_delay,
    estimate,
    poll_step,
)

WALL = 1_800_000_000.0  # wall clock = WALL + monotonic, in these tests
RTT = 0.002


def stamp(at: float, rtt: float = RTT) -> Stamp:
    """A round trip sent at monotonic ``at``."""
    return Stamp.of(at, WALL + at, at + rtt)


def own(seq: int, at: float, origin_ahead: float = 0.0) -> Beat:
    """A beat this exporter wrote at ``at``; the origin's clock is ``origin_ahead`` ahead."""
    written = stamp(at)
    return Beat(seq, written.wall + origin_ahead, written.received, written)


def learned(seq: int, at: float, known_at: float, origin_ahead: float = 0.0) -> Beat:
    """Another writer's beat written at ``at``, returned by one of ours at ``known_at``."""
    return Beat(seq, WALL + at + origin_ahead, known_at)


def ledger(*beats: Beat) -> Ledger:
    book = Ledger()
    for beat in beats:
        book.record(beat)
    return book


NO_OFFSET = Offset(0.0, 0.0001)


def test_a_missing_beat_of_ours_is_aged_on_the_exporters_clock_whatever_the_origin_clock() -> None:
    """Origin 30 s ahead, no offset known: our own beat needs no host clock at all."""
    book = ledger(own(10, 0.0, origin_ahead=30), own(11, 1.0, origin_ahead=30))
    lag = estimate(book, 10, WALL + 30, stamp(3.5), offset=None)
    assert lag is not None
    assert lag.how == "exporter clock"
    assert lag.seconds == pytest.approx(2.5)
    assert lag.error == pytest.approx(RTT)  # half of each round trip


def test_another_writers_beat_is_aged_on_the_origins_clock_corrected_by_its_offset() -> None:
    """HA pair: seq 11 is the other exporter's, learned when our write of 12 replaced it."""
    book = ledger(
        own(10, 0.0, 5.0), learned(11, 0.6, known_at=1.002, origin_ahead=5.0), own(12, 1.0, 5.0)
    )
    offset = Offset(5.0, 0.0003)
    lag = estimate(book, 10, WALL + 5.0, stamp(4.0), offset)
    assert lag is not None
    assert lag.how == "origin clock"
    assert lag.seconds == pytest.approx(4.0 + RTT / 2 - 0.6)
    assert lag.error == pytest.approx(0.0003 + RTT / 2)


def test_gaps_in_the_sequence_are_not_missing_beats() -> None:
    """Seqs written by others that this exporter never saw do not count as missing."""
    book = ledger(own(10, 0.0), own(14, 1.0))
    lag = estimate(book, 13, WALL + 0.9, stamp(1.5), NO_OFFSET)  # 14 is the oldest missing
    assert lag is not None
    assert lag.how == "exporter clock"
    assert lag.seconds == pytest.approx(0.5)


def test_after_a_restart_the_unknown_oldest_beat_is_bounded_by_the_newest_applied() -> None:
    """Beats 41..100 were written by the exporter before its restart: only the peer's copy of
    beat 40's beat_at says how old the stall is (an upper bound)."""
    book = ledger(learned(100, 9.5, known_at=10.002), own(101, 10.0))
    offset = Offset(0.25, 0.001)  # origin 250 ms ahead
    stall_began = 2.0  # monotonic time of beat 40, on the exporter's clock
    lag = estimate(book, 40, WALL + stall_began + 0.25, stamp(11.0), offset)
    assert lag is not None
    assert lag.how == "bound"
    assert lag.seconds == pytest.approx(11.0 + RTT / 2 - stall_began)
    assert lag.error == pytest.approx(0.001 + RTT / 2)


def test_the_bound_is_never_below_a_beat_known_to_be_missing() -> None:
    """A badly wrong offset cannot make the bound smaller than what is known for sure."""
    book = ledger(own(101, 10.0))
    lag = estimate(book, 40, WALL + 10.9, stamp(12.0), Offset(0.0, 0.001))  # beat_at says 1.1 s
    assert lag is not None
    assert lag.seconds == pytest.approx(2.0)  # our beat 101 has been missing for 2 s


def test_a_peer_ahead_of_what_this_exporter_knows_is_bounded_by_the_newer_beat() -> None:
    """This exporter could not write this cycle; the other exporter's newer beat (seq 15,
    never seen here) has arrived: the peer is current up to that beat's age."""
    book = ledger(own(12, 0.0))
    lag = estimate(book, 15, WALL + 1.8, stamp(2.0), NO_OFFSET)
    assert lag is not None
    assert lag.how == "bound"
    assert lag.seconds == pytest.approx(0.2 + RTT / 2)


def test_when_this_exporter_could_not_write_the_lag_grows_from_its_last_applied_beat() -> None:
    book = ledger(own(12, 0.0))
    lag = estimate(book, 12, WALL + 0.0, stamp(7.0), NO_OFFSET)
    assert lag is not None
    assert lag.how == "bound"
    assert lag.seconds == pytest.approx(7.0)


def test_a_missing_row_gives_a_lower_bound_with_an_infinite_error() -> None:
    book = ledger(own(1, 0.0), own(2, 0.5))
    lag = estimate(book, None, None, stamp(3.0), NO_OFFSET)
    assert lag is not None
    assert lag.how == "lower bound"
    assert lag.seconds == pytest.approx(3.0)
    assert lag.error == math.inf
    assert estimate(Ledger(), None, None, stamp(3.0), NO_OFFSET) is None  # nothing to say


def test_beats_written_after_the_peer_was_asked_are_not_missing() -> None:
    """A concurrent cycle's newer beat (answered after this read was sent) does not count."""
    book = ledger(own(10, 0.0), own(11, 2.0))
    lag = estimate(book, 10, WALL, stamp(1.0), NO_OFFSET)
    assert lag is not None
    assert lag.how == "bound"  # 11 did not exist yet for this read: nothing of ours missing
    assert lag.seconds == pytest.approx(1.0)


def test_an_unknown_offset_gives_an_infinite_error_on_the_origins_clock() -> None:
    lag = estimate(Ledger(), 40, WALL + 1.0, stamp(3.0), offset=None)
    assert lag is not None
    assert lag.error == math.inf


def test_apply_delay_is_the_middle_of_the_window_between_two_polls() -> None:
    written = stamp(0.0)  # mid 0.001
    missing_at = 0.100  # a poll sent then did not show it
    seen = stamp(0.120)  # the next poll (answered at 0.122) did
    lag = apply_delay(written, missing_at, seen)
    assert lag.how == "exporter clock"
    assert lag.seconds == pytest.approx((0.100 + 0.122) / 2 - 0.001)
    assert lag.error == pytest.approx((0.122 - 0.100) / 2 + RTT / 2)


def test_apply_delay_seen_at_the_first_poll_is_bounded_by_the_write() -> None:
    written = stamp(0.0)
    lag = apply_delay(written, written.sent, stamp(0.003))
    assert 0 <= lag.seconds <= 0.005
    assert lag.error <= 0.005


def test_the_poll_step_is_a_tenth_of_the_age_within_bounds() -> None:
    assert poll_step(0.0) == POLL_MIN
    assert poll_step(0.5) == pytest.approx(0.05)
    assert poll_step(60.0) == POLL_MAX


def test_the_offset_filter_keeps_the_shortest_round_trip() -> None:
    clocks = OffsetFilter(size=3)
    assert clocks.best() is None
    clocks.add(Stamp.of(0.0, WALL, 0.040), WALL + 0.020 + 0.5)  # slow: offset 0.5 ± 20 ms
    clocks.add(Stamp.of(1.0, WALL + 1, 1.002), WALL + 1 + 0.001 + 0.503)  # fast
    best = clocks.best()
    assert best is not None
    assert best.seconds == pytest.approx(0.503)
    assert best.error == pytest.approx(0.001)
    for at in (2.0, 3.0, 4.0):  # the fast one ages out of the window
        clocks.add(Stamp.of(at, WALL + at, at + 0.010), WALL + at + 0.005 + 0.5)
    best = clocks.best()
    assert best is not None
    assert best.error == pytest.approx(0.005)


def test_the_ledger_forgets_what_every_peer_applied_and_a_reset_row() -> None:
    book = ledger(own(10, 0.0), own(11, 0.5), own(12, 1.0))
    book.prune(11)
    assert len(book) == 2  # 11 (the newest applied: its age may be needed) and 12
    assert book.get(10, before=99) is None
    book.record(own(1, 2.0))  # the row was deleted and inserted again
    assert len(book) == 1
    assert book.get(1, before=99) is not None


def test_the_ledger_is_bounded() -> None:
    book = Ledger(limit=3)
    for seq in range(10):
        book.record(own(seq, float(seq)))
    assert len(book) == 3
    assert book.get(6, before=99) is None
    assert book.get(9, before=99) is not None
