"""postgres_replication on the real bi-directional pair pg-a <-> pg-b.

The stack is shared with other tests: every test that disables a subscription enables it
again in a ``finally`` and waits until both directions are healthy before it returns. Tests
that count seqs beat as private origin names (targets.private_names), so the stack's own
exporter, which beats as pg-a and pg-b, never writes the rows they read.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from edgesla import conventions as conv
from edgesla.config import PostgresReplicationTarget
from edgesla.probes import postgres_replication
from edgesla.probes._result import ProbeResult, Reason
from edgesla.probes.postgres_replication import Heartbeat
from edgesla.stack.layout import HOST, Layout
from tests.helpers import eventually, exporter_paused
from tests.probes.pg.targets import (
    SUB_ON_A,
    SUB_ON_B,
    drop_private_rows,
    lag,
    lag_error,
    private_names,
    replication_target,
    samples,
    value,
)

pytestmark = pytest.mark.stack

PAIRS = (("pg-a", "pg-b"), ("pg-b", "pg-a"))  # (origin, peer)


def fresh(
    heartbeat: Heartbeat, target: PostgresReplicationTarget, below: float = 1.0
) -> ProbeResult | None:
    """A successful beat cycle whose every origin->peer lag is under ``below`` s, else None."""
    result = heartbeat(target, 2.0)
    names = [node.name for node in target.nodes]
    lags = [lag(result, origin, peer) for origin in names for peer in names if origin != peer]
    ok = result.success and all(x is not None and x < below for x in lags)
    return result if ok else None


@contextmanager
def disabled(conn: psycopg.Connection, subscription: str) -> Iterator[None]:
    conn.execute(f"ALTER SUBSCRIPTION {subscription} DISABLE")
    try:
        yield
    finally:
        conn.execute(f"ALTER SUBSCRIPTION {subscription} ENABLE")


@pytest.fixture
def private(stack: Layout) -> Iterator[PostgresReplicationTarget]:
    """A target beating as origins of its own; their rows are deleted afterwards."""
    try:
        yield replication_target(stack, names=private_names("probe"))
    finally:
        drop_private_rows(stack)


def test_beat_writes_every_nodes_own_row(
    pg_a: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    heartbeat = Heartbeat()
    first = heartbeat(private, 2.0)
    assert first.latency_seconds is not None
    a, b = (node.name for node in private.nodes)
    assert f"{a} seq 1" in first.detail  # a new row starts at 1
    assert f"{b} seq 1" in first.detail
    second = heartbeat(private, 2.0)
    assert f"{a} seq 2" in second.detail
    assert pg_a.execute(
        "SELECT seq FROM public.repl_heartbeat WHERE origin = %s", (a,)
    ).fetchone() == (2,)
    assert value(second, conv.PG_HEARTBEAT_INTERVAL_SECONDS) == private.heartbeat_interval


def test_healthy_pair_reports_lag_both_ways_and_the_probe_the_views(stack: Layout) -> None:
    target = replication_target(stack)
    heartbeat = Heartbeat()
    beaten: ProbeResult = eventually(lambda: fresh(heartbeat, target), timeout=20, interval=0.2)
    assert beaten.reason is None
    for origin, peer in PAIRS:
        age, error = lag(beaten, origin, peer), lag_error(beaten, origin, peer)
        assert age is not None
        assert error is not None
        assert 0 <= age < 1.0
        assert 0 < error < 0.1  # half a polling window and round trips, on loopback
        seq = value(beaten, conv.PG_HEARTBEAT_SEQ, origin=origin, peer=peer)
        assert seq is not None
        assert seq >= 1
    for node in ("pg-a", "pg-b"):
        offset = value(beaten, conv.PG_CLOCK_OFFSET_SECONDS, node=node)
        bound = value(beaten, conv.PG_CLOCK_OFFSET_ERROR_SECONDS, node=node)
        assert offset is not None
        assert bound is not None
        assert abs(offset) <= bound + 0.001  # one clock on loopback: 0 within the bound
    assert "pg-a→pg-b " in beaten.detail
    assert "pg-b→pg-a " in beaten.detail

    result = postgres_replication.probe(target, timeout=2.0)
    assert result.success, result.detail
    assert result.latency_seconds is not None
    assert 0 < result.latency_seconds < 1.0
    names = {s.name for s in result.samples}
    assert conv.PG_REPLICATION_LAG_SECONDS not in names  # one writer per series: the beat
    assert conv.PG_HEARTBEAT_SEQ not in names
    for node, sub in (("pg-a", SUB_ON_A), ("pg-b", SUB_ON_B)):
        labels = {"node": node, "subscription": sub}
        assert value(result, conv.PG_SUBSCRIPTION_WORKER_UP, **labels) == 1.0
        assert value(result, conv.PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL, **labels) is not None
        assert value(result, conv.PG_SUBSCRIPTION_SYNC_ERRORS_TOTAL, **labels) is not None
        # PostgreSQL 18 (the stack's version) has conflict counters; detected by column
        conflicts = samples(result, conv.PG_SUBSCRIPTION_CONFLICTS_TOTAL)
        types = {dict(key)["type"] for key in conflicts if dict(key)["node"] == node}
        assert {"insert_exists", "update_origin_differs"} <= types
        assert all(s.kind == "counter" for s in conflicts.values())
        # the slot on the other node that feeds this subscription is active
        other = "pg-b" if node == "pg-a" else "pg-a"
        assert value(result, conv.PG_SLOT_ACTIVE, node=other, slot=sub) == 1.0
        assert value(result, conv.PG_WALSENDER_IDLE, node=other, application_name=sub) in {
            0.0,
            1.0,
        }
        distance = value(result, conv.PG_WALSENDER_DISTANCE_BYTES, node=other, application_name=sub)
        assert distance is not None
        assert distance >= 0
    assert "pg-a→pg-b seq " in result.detail
    assert "2/2 workers running" in result.detail


def test_lag_grows_while_a_subscription_is_disabled_and_recovers(
    stack: Layout, pg_b: psycopg.Connection, private: PostgresReplicationTarget
) -> None:
    target = replication_target(stack)
    heartbeat = Heartbeat()
    a, b = (node.name for node in private.nodes)  # every seq of these rows is ours
    eventually(lambda: fresh(heartbeat, private), timeout=20, interval=0.2)
    labels = {"node": "pg-b", "subscription": SUB_ON_B}
    with disabled(pg_b, SUB_ON_B):  # pg-a -> pg-b is held back
        stalled_at = time.monotonic()
        time.sleep(1.5)
        stalled = heartbeat(private, 2.0)  # pg-b -> pg-a keeps flowing
        held_back = lag(stalled, a, b)
        assert held_back is not None
        assert 1.4 < held_back < time.monotonic() - stalled_at  # our beat: never ahead
        flowing = lag(stalled, b, a)
        assert flowing is not None
        assert flowing < 1.0
        probed = postgres_replication.probe(target, timeout=2.0)
        assert not probed.success
        assert probed.reason is Reason.UNHEALTHY
        assert value(probed, conv.PG_SUBSCRIPTION_WORKER_UP, **labels) == 0.0
        assert value(probed, conv.PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS, **labels) is None
        assert f"apply worker of {SUB_ON_B} on pg-b not running" in probed.detail
        assert "1/2 workers running" in probed.detail
        later = lag(heartbeat(private, 2.0), a, b)
        assert later is not None
        assert later > held_back
    recovered: ProbeResult = eventually(lambda: fresh(heartbeat, private), timeout=30, interval=0.2)
    assert lag(recovered, a, b) is not None
    probed = eventually(
        lambda: (r := postgres_replication.probe(target, timeout=2.0)).success and r,
        timeout=30,
        interval=0.2,
    )
    assert value(probed, conv.PG_SUBSCRIPTION_WORKER_UP, **labels) == 1.0


def test_idle_walsender_is_reported_idle_never_as_zero_lag(stack: Layout) -> None:
    """pg_stat_replication's lag columns are NULL once caught up with nothing in flight."""
    target = replication_target(stack)

    def idle_run() -> ProbeResult | None:
        result = postgres_replication.probe(target, timeout=2.0)
        idle = samples(result, conv.PG_WALSENDER_IDLE)
        return result if any(s.value == 1.0 for s in idle.values()) else None

    with exporter_paused(stack.state_dir):  # the stack's exporter beats twice a second
        result: ProbeResult = eventually(idle_run, timeout=30, interval=0.5)
    lags = samples(result, conv.PG_WALSENDER_LAG_SECONDS)
    for key, idle in samples(result, conv.PG_WALSENDER_IDLE).items():
        kinds = {dict(k)["kind"] for k in lags if set(key) <= set(k)}
        if idle.value == 1.0:
            assert kinds == set(), f"idle walsender {dict(key)} must have no lag sample"
        else:
            assert kinds, f"busy walsender {dict(key)} must have a lag sample"
    assert result.success, result.detail  # idle is healthy


def test_unreachable_node_gives_its_reason_and_keeps_the_other_samples(stack: Layout) -> None:
    good = replication_target(stack)
    dead = good.nodes[1].model_copy(update={"dsn": f"host={HOST} port=1 dbname=edgesla"})
    target = good.model_copy(update={"nodes": (good.nodes[0], dead)})
    result = postgres_replication.probe(target, timeout=2.0)
    assert not result.success
    assert result.reason is Reason.REFUSED, result.detail
    assert value(result, conv.PG_SUBSCRIPTION_WORKER_UP, node="pg-a", subscription=SUB_ON_A) == 1
    beaten = Heartbeat()(target, 2.0)
    assert not beaten.success
    assert beaten.reason is Reason.REFUSED
    assert "pg-a seq " in beaten.detail
    assert lag(beaten, "pg-b", "pg-a") is not None  # measured on the reachable peer
    assert lag(beaten, "pg-a", "pg-b") is None  # the dead peer cannot be read
    assert value(beaten, conv.PG_CLOCK_OFFSET_SECONDS, node="pg-a") is not None
    assert value(beaten, conv.PG_CLOCK_OFFSET_SECONDS, node="pg-b") is None


def test_garbage_dsn_is_a_failure_not_an_exception(stack: Layout) -> None:
    good = replication_target(stack)
    bad = good.nodes[0].model_copy(update={"dsn": "=== not a dsn '"})
    target = good.model_copy(update={"nodes": (bad, good.nodes[1])})
    for run in (postgres_replication.probe, Heartbeat()):
        result = run(target, 1.0)
        assert not result.success
        assert result.reason is Reason.CONFIG, result.detail


def test_missing_heartbeat_table_is_a_query_error_with_other_samples(stack: Layout) -> None:
    target = replication_target(stack).model_copy(
        update={"heartbeat_table": "public.no_such_heartbeat"}
    )
    result = postgres_replication.probe(target, timeout=2.0)
    assert not result.success
    assert result.reason is Reason.QUERY_ERROR, result.detail
    assert value(result, conv.PG_SUBSCRIPTION_WORKER_UP, node="pg-a", subscription=SUB_ON_A) == 1
    beaten = Heartbeat()(target, 1.0)
    assert beaten.reason is Reason.QUERY_ERROR, beaten.detail
    assert value(beaten, conv.PG_CLOCK_OFFSET_SECONDS, node="pg-a") is not None  # measured first
    assert math.isfinite(value(beaten, conv.PG_HEARTBEAT_INTERVAL_SECONDS) or math.nan)
