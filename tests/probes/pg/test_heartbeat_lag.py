"""The lag's harder cases on the real pair pg-a <-> pg-b, each Heartbeat instance one exporter.

Two instances beating the same rows are an HA pair of exporters; a new instance is an
exporter restarted. Every test beats as private origin names (targets.private_names), so
it owns every seq of the rows it reads, and re-enables what it disabled in a ``finally``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from edgesla.config import PostgresReplicationTarget
from edgesla.probes._result import ProbeResult, Reason
from edgesla.probes.postgres_replication import Heartbeat, beat, probe
from edgesla.stack.layout import Layout
from tests.helpers import eventually
from tests.probes.pg.targets import (
    SUB_ON_B,
    drop_private_rows,
    lag,
    lag_error,
    private_names,
    replication_target,
)

pytestmark = pytest.mark.stack

BUDGET = 0.5  # what the exporter gives a beat cycle at the default heartbeat_interval


@pytest.fixture
def private(stack: Layout, request: pytest.FixtureRequest) -> Iterator[PostgresReplicationTarget]:
    tag = request.node.name.removeprefix("test_")[:20].rstrip("_").replace("_", "-")
    try:
        yield replication_target(stack, names=private_names(tag))
    finally:
        drop_private_rows(stack)


@contextmanager
def stalled(pg_b: psycopg.Connection) -> Iterator[float]:
    """pg-a -> pg-b held back (the apply worker on pg-b stopped); yields when it began."""
    pg_b.execute(f"ALTER SUBSCRIPTION {SUB_ON_B} DISABLE")
    try:
        yield time.monotonic()
    finally:
        pg_b.execute(f"ALTER SUBSCRIPTION {SUB_ON_B} ENABLE")


def names(target: PostgresReplicationTarget) -> tuple[str, str]:
    a, b = (node.name for node in target.nodes)
    return a, b


def healthy(heartbeat: Heartbeat, target: PostgresReplicationTarget) -> ProbeResult | None:
    result = heartbeat(target, BUDGET)
    a, b = names(target)
    lags = [lag(result, a, b), lag(result, b, a)]
    return result if result.success and all(x is not None and x < 1.0 for x in lags) else None


def a_to_b(result: ProbeResult, target: PostgresReplicationTarget) -> float:
    a, b = names(target)
    value = lag(result, a, b)
    assert value is not None, result.detail
    return value


def test_an_ha_pair_of_exporters_each_measure_the_same_truth(
    pg_b: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    """Two exporters write the same rows: each sees seqs it did not write, neither mistakes
    them for missing beats, and in a stall both report the age of the same oldest beat."""
    first, second = Heartbeat(), Heartbeat()
    a, b = names(private)
    eventually(lambda: healthy(first, private), timeout=20, interval=0.1)
    for _ in range(10):  # interleaved, as two exporters at different phases
        for heartbeat in (first, second):
            result = heartbeat(private, BUDGET)
            assert result.success, result.detail
            assert a_to_b(result, private) < 1.0
            assert (lag(result, b, a) or 0.0) < 1.0
    with stalled(pg_b) as began:
        results: list[tuple[float, ProbeResult]] = []
        while time.monotonic() - began < 3.0:
            for heartbeat in (first, second):
                results.append((time.monotonic(), heartbeat(private, BUDGET)))
    # the beat right after the stall began was written by one and learned by the other
    assert any("by the origin's clock" in r.detail for _, r in results[-4:]), results[-1][1].detail
    (t1, r1), (t2, r2) = results[-2:]
    assert a_to_b(r2, private) - a_to_b(r1, private) == pytest.approx(t2 - t1, abs=0.15)
    assert a_to_b(r2, private) == pytest.approx(t2 - began, abs=0.6)
    eventually(lambda: healthy(first, private) and healthy(second, private), timeout=30)


def test_an_exporter_restarted_mid_stall_bounds_it_by_the_rows_beat_at(
    pg_b: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    before = Heartbeat()
    eventually(lambda: healthy(before, private), timeout=20, interval=0.1)
    with stalled(pg_b) as began:
        for _ in range(4):
            assert a_to_b(before(private, BUDGET), private) < time.monotonic() - began
        restarted = Heartbeat()  # knows none of the beats the peer is missing
        readings = []
        for _ in range(4):
            result = restarted(private, BUDGET)
            readings.append((time.monotonic(), a_to_b(result, private)))
            assert "upper bound, from the newest applied beat" in result.detail
            error = lag_error(result, *names(private))
            assert error is not None
            assert error < 0.01  # the offset's error on loopback, not a guess
    for at, value in readings:
        # an upper bound: the newest applied beat is at most one beat older than the stall
        assert at - began - 0.2 < value < at - began + BUDGET + 0.2
    (t1, v1), (t2, v2) = readings[0], readings[-1]
    assert (v2 - v1) / (t2 - t1) == pytest.approx(1.0, abs=0.15)
    result = eventually(lambda: healthy(restarted, private), timeout=30, interval=0.1)
    assert "upper bound" not in result.detail


def test_a_peer_ahead_of_what_this_exporter_knows_when_it_cannot_write(
    pg_a: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    """Another writer moves pg-a's row on by seqs this exporter never saw, stamped an hour
    ahead, so the last-write-wins trigger refuses this exporter's writes: the lag is bounded
    by the newest beat pg-b applied, not by this exporter's old beats."""
    heartbeat = Heartbeat()
    a, _ = names(private)
    eventually(lambda: healthy(heartbeat, private), timeout=20, interval=0.1)
    time.sleep(2.0)  # this exporter's newest beat is now 2 s old
    pg_a.execute(
        "UPDATE public.repl_heartbeat SET seq = seq + 5, beat_at = clock_timestamp(), "
        "modified_at = clock_timestamp() + interval '1 hour' WHERE origin = %s",
        (a,),
    )
    result = heartbeat(private, BUDGET)
    assert result.reason is Reason.UNHEALTHY
    assert "heartbeat refused as older than the stored one" in result.detail
    value = eventually(
        lambda: (x := a_to_b(heartbeat(private, BUDGET), private)) < 1.0 and x,
        timeout=10,
        interval=0.1,
    )
    assert value < 1.0  # not the 2 s of its own last beat


def test_a_missing_row_is_a_growing_lower_bound_and_unhealthy(
    pg_b: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    heartbeat = Heartbeat()
    a, b = names(private)
    with stalled(pg_b):  # the very first beat of these origins never reaches pg-b
        first = heartbeat(private, BUDGET)
        time.sleep(1.0)
        later = heartbeat(private, BUDGET)
    for result in (first, later):
        assert result.reason is Reason.UNHEALTHY
        assert f"no heartbeat row from {a} on {b}" in result.detail
        assert lag_error(result, a, b) == math.inf
        assert "no row yet" in result.detail
    assert a_to_b(later, private) - a_to_b(first, private) > 0.9
    assert lag(later, b, a) is not None  # the other direction is measured as usual
    recovered = eventually(lambda: healthy(heartbeat, private), timeout=30, interval=0.1)
    assert math.isfinite(lag_error(recovered, a, b) or math.inf)


def test_a_stall_past_max_lag_fails_the_probe_while_the_apply_workers_run(
    pg_b: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    """A cut or blocked link keeps every apply worker running (a PID set, reconnecting): only
    the lag shows it. Past ``max_lag`` the probe fails, so the target's availability shows the
    outage. Here pg-b's apply of the heartbeat rows is blocked by a lock that still lets the
    probe read them."""
    target = private.model_copy(update={"max_lag": 1.0})
    eventually(lambda: healthy(beat, target), timeout=20, interval=0.1)
    assert probe(target, 2.0).success
    with pg_b.transaction():
        pg_b.execute("LOCK TABLE public.repl_heartbeat IN EXCLUSIVE MODE")
        eventually(lambda: a_to_b(beat(target, BUDGET), target) > 1.5, timeout=20, interval=0.2)
        result = probe(target, 2.0)
    assert not result.success
    assert result.reason is Reason.UNHEALTHY, result.detail
    assert "replication stalled" in result.detail
    assert "not running" not in result.detail  # the workers run: only the lag tells
    eventually(lambda: healthy(beat, target), timeout=20, interval=0.2)
    assert probe(target, 2.0).success
