"""Every arrival of a share's schedule ends in exactly one place (edgesla.loadtests.ledger)."""

from __future__ import annotations

import pytest

from edgesla.loadtests.ledger import (
    LATE,
    STOPPED,
    Share,
    ShareKey,
    planned_requests,
    share_seed,
)
from edgesla.loadtests.openmodel import LATE_AFTER_SECONDS

RATES = {"care_lookup": 40.0, "session_start": 10.0}
OPS = tuple(RATES)


def _rates(t: float) -> dict[str, float]:
    return dict(RATES)


def _share(seed: int = 1, duration: float = 10.0, users: int = 4) -> Share:
    return Share(ShareKey("CareUser", 0, 0), seed, _rates, OPS, users, duration, "poisson")


def _run_until(share: Share, until: float) -> dict[str, int]:
    """Start (and at once end) every arrival due before ``until``; the started ones."""
    started: dict[str, int] = {}
    while (taken := share.take()) is not None and taken[1].at < until:
        token, arrival = taken
        assert share.start(token, arrival.at, actual=arrival.at)
        assert share.finish(token)
        started[arrival.operation] = started.get(arrival.operation, 0) + 1
    return started


def _not_started(share: Share, reason: str) -> int:
    return sum(r.get(reason, 0) for r in share.not_started.values())


def test_a_share_run_to_its_end_has_planned_what_its_seed_regenerates() -> None:
    share = _share(seed=42)
    started = _run_until(share, until=1e9)
    assert share.close(10.0 + LATE_AFTER_SECONDS, "unused") == []
    regenerated = planned_requests(_rates, OPS, 4, 10.0, "poisson", 42)
    assert share.planned == regenerated == started
    assert share.not_started == {}
    assert share.note is None
    # 1/4 of 50 requests/s for 10 s: 125 ± 45 (4 sigma)
    assert abs(sum(regenerated.values()) - 125) < 45


def test_slots_the_generator_did_not_reach_are_late() -> None:
    share = _share()
    started = _run_until(share, until=6.0)  # the generator fell behind at 6 s ...
    share.close(10.0 + LATE_AFTER_SECONDS, "unused")  # ... and never caught up
    for op in OPS:
        assert share.planned[op] == started.get(op, 0) + share.not_started[op][LATE]
    assert _not_started(share, STOPPED) == 0
    assert share.note is None  # it ran to the schedule's end: nothing stopped it


def test_a_start_past_the_schedules_end_is_refused_and_counted_late() -> None:
    share = _share(duration=10.0)
    taken = share.take()
    assert taken is not None
    token, arrival = taken
    assert not share.start(token, 10.0 + 2 * LATE_AFTER_SECONDS, actual=0.0)
    assert share.not_started[arrival.operation] == {LATE: 1}
    assert share.in_flight == {}


def test_a_share_stopped_early_counts_later_slots_as_stopped() -> None:
    share = _share()
    started = _run_until(share, until=4.0)  # behind from 4 s, stopped at 5 s
    share.stop(5.0, "the master stopped the run before the schedule's end")
    share.close(5.5, "unused: the first note stays")
    assert share.note == "the master stopped the run before the schedule's end"
    assert share.stopped_early
    total = sum(share.planned.values())
    assert total == sum(started.values()) + _not_started(share, LATE) + _not_started(share, STOPPED)
    # slots due before the stop but not reached are late; those after it, stopped
    assert _not_started(share, LATE) > 0
    assert _not_started(share, STOPPED) > 0


def test_a_request_in_flight_at_close_is_handed_back_and_never_recorded_twice() -> None:
    share = _share()
    taken = share.take()
    assert taken is not None
    token, arrival = taken
    assert share.start(token, arrival.at, actual=123.0)
    assert share.close(10.0 + LATE_AFTER_SECONDS, "unused") == [(arrival, 123.0)]
    assert not share.finish(token)  # returned after the close: already counted (unfinished)
    assert share.take() is None
    assert share.close(11.0, "x") == []  # closing twice changes nothing


def test_a_user_waiting_for_its_slot_when_the_ledger_closes_starts_nothing() -> None:
    share = _share()
    taken = share.take()
    assert taken is not None
    token, arrival = taken
    share.close(-1.0, "the process was shut down before the schedule's end")
    assert not share.start(token, arrival.at, actual=0.0)
    assert _not_started(share, STOPPED) == sum(share.planned.values())


def test_share_seeds_are_the_same_everywhere_and_differ_per_share() -> None:
    keys = [ShareKey("CareUser", w, o) for w in range(3) for o in range(3)]
    seeds = [share_seed(7, k) for k in keys]
    assert seeds == [share_seed(7, k) for k in keys]
    assert len(set(seeds)) == len(seeds)
    assert share_seed(8, keys[0]) != seeds[0]
    assert str(keys[5]) == "CareUser/1/2"


@pytest.mark.parametrize("kind", ["poisson", "uniform"])
def test_regeneration_is_deterministic(kind: str) -> None:
    counts = [planned_requests(_rates, OPS, 3, 20.0, kind, 99) for _ in range(2)]  # type: ignore[arg-type]
    assert counts[0] == counts[1]
    assert sum(counts[0].values()) > 0


def test_several_arrivals_out_at_once_each_end_in_one_place() -> None:
    """Served by a pool (edgesla.loadtests.dispatch), a share has several arrivals out at
    once: waiting for their slot, in flight; each is counted exactly once at close."""
    share = _share()
    taken = [share.take() for _ in range(4)]
    tokens = [t[0] for t in taken if t is not None]
    arrivals = [t[1] for t in taken if t is not None]
    assert len(tokens) == 4
    assert share.start(tokens[0], arrivals[0].at, actual=1.0)
    assert share.finish(tokens[0])  # returned: the caller records it
    assert share.start(tokens[1], arrivals[1].at, actual=2.0)  # still in flight at close
    assert share.start(tokens[2], arrivals[2].at, actual=3.0)
    left = share.close(arrivals[2].at + 0.001, "the run was stopped")
    assert left == [(arrivals[1], 2.0), (arrivals[2], 3.0)]
    assert not share.finish(tokens[1])  # already counted (unfinished)
    assert not share.start(tokens[3], arrivals[3].at, actual=4.0)  # was waiting: not started
    planned = sum(share.planned.values())
    not_started = _not_started(share, LATE) + _not_started(share, STOPPED)
    assert planned == 1 + 2 + not_started  # one recorded, two unfinished, the rest not started
    with pytest.raises(RuntimeError, match="no arrival 99 to start"):
        _share().start(99, 0.0, actual=0.0)
