"""postgres_replication on the real bi-directional pair pg-a <-> pg-b.

The stack is shared with other tests: every test that disables a subscription enables it
again in a ``finally`` and waits until both directions are healthy before it returns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from edgesla import conventions as conv
from edgesla.config import PostgresReplicationTarget
from edgesla.stack.layout import HOST, Layout
from probes import postgres_replication
from probes._result import ProbeResult, Reason
from tests.helpers import eventually, exporter_paused
from tests.probes.pg.targets import SUB_ON_A, SUB_ON_B, replication_target, samples, value

pytestmark = pytest.mark.stack

PAIRS = (("pg-a", "pg-b"), ("pg-b", "pg-a"))  # (origin, peer)


def lag(result: ProbeResult, origin: str, peer: str) -> float | None:
    return value(result, conv.PG_REPLICATION_LAG_SECONDS, origin=origin, peer=peer)


def beat_then_probe(target: PostgresReplicationTarget) -> ProbeResult:
    beaten = postgres_replication.beat(target, timeout=2.0)
    assert beaten.success, beaten.detail
    return postgres_replication.probe(target, timeout=2.0)


def fresh(target: PostgresReplicationTarget, below: float = 1.0) -> ProbeResult | None:
    """A successful run whose every origin->peer lag is under ``below`` seconds, else None."""
    result = beat_then_probe(target)
    lags = [lag(result, origin, peer) for origin, peer in PAIRS]
    ok = result.success and all(x is not None and x < below for x in lags)
    return result if ok else None


@contextmanager
def disabled(conn: psycopg.Connection, subscription: str) -> Iterator[None]:
    conn.execute(f"ALTER SUBSCRIPTION {subscription} DISABLE")
    try:
        yield
    finally:
        conn.execute(f"ALTER SUBSCRIPTION {subscription} ENABLE")


def test_beat_writes_every_nodes_own_row(stack: Layout, pg_a: psycopg.Connection) -> None:
    target = replication_target(stack)
    before: dict[str, int] = dict(
        pg_a.execute("SELECT origin, seq FROM public.repl_heartbeat").fetchall()
    )
    result = postgres_replication.beat(target, timeout=2.0)
    assert result.success, result.detail
    assert result.latency_seconds is not None
    assert "pg-a seq " in result.detail
    assert "pg-b seq " in result.detail
    assert pg_a.execute(
        "SELECT seq FROM public.repl_heartbeat WHERE origin = 'pg-a'"
    ).fetchone() == (before["pg-a"] + 1,)


def test_healthy_pair_reports_lag_both_ways_below_one_second(stack: Layout) -> None:
    target = replication_target(stack)
    result: ProbeResult = eventually(lambda: fresh(target), timeout=20, interval=0.2)
    assert result.reason is None
    assert result.latency_seconds is not None
    assert 0 < result.latency_seconds < 1.0
    for origin, peer in PAIRS:
        age = lag(result, origin, peer)
        assert age is not None
        assert -0.1 < age < 1.0
        seq = value(result, conv.PG_HEARTBEAT_SEQ, origin=origin, peer=peer)
        assert seq is not None
        assert seq >= 1
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
            0.0, 1.0,
        }  # fmt: skip
        distance = value(result, conv.PG_WALSENDER_DISTANCE_BYTES, node=other, application_name=sub)
        assert distance is not None
        assert distance >= 0
    assert "pg-a→pg-b " in result.detail
    assert "pg-b→pg-a " in result.detail
    assert "2/2 workers running" in result.detail


def test_lag_grows_while_a_subscription_is_disabled_and_recovers(
    stack: Layout, pg_b: psycopg.Connection
) -> None:
    target = replication_target(stack)
    eventually(lambda: fresh(target), timeout=20, interval=0.2)
    with disabled(pg_b, SUB_ON_B):  # pg-a -> pg-b is held back
        time.sleep(1.5)
        stalled = beat_then_probe(target)  # pg-b -> pg-a keeps flowing
        assert not stalled.success
        assert stalled.reason is Reason.UNHEALTHY
        labels = {"node": "pg-b", "subscription": SUB_ON_B}
        assert value(stalled, conv.PG_SUBSCRIPTION_WORKER_UP, **labels) == 0.0
        assert value(stalled, conv.PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS, **labels) is None
        held_back = lag(stalled, "pg-a", "pg-b")
        assert held_back is not None
        assert held_back > 1.4  # the heartbeat age keeps growing: end-to-end truth
        assert f"apply worker of {SUB_ON_B} on pg-b not running" in stalled.detail
        assert "1/2 workers running" in stalled.detail
        later = postgres_replication.probe(target, timeout=2.0)
        later_lag = lag(later, "pg-a", "pg-b")
        assert later_lag is not None
        assert later_lag > held_back
    recovered: ProbeResult = eventually(lambda: fresh(target), timeout=30, interval=0.2)
    assert value(recovered, conv.PG_SUBSCRIPTION_WORKER_UP, **labels) == 1.0


def test_idle_walsender_is_reported_idle_never_as_zero_lag(stack: Layout) -> None:
    """pg_stat_replication's lag columns are NULL once caught up with nothing in flight."""
    target = replication_target(stack)

    def idle_run() -> ProbeResult | None:
        result = postgres_replication.probe(target, timeout=2.0)
        idle = samples(result, conv.PG_WALSENDER_IDLE)
        return result if any(s.value == 1.0 for s in idle.values()) else None

    with exporter_paused(stack.state_dir):  # the stack's exporter beats every second
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
    assert lag(result, "pg-b", "pg-a") is not None  # measured on the reachable peer
    assert lag(result, "pg-a", "pg-b") is None
    beaten = postgres_replication.beat(target, timeout=2.0)
    assert not beaten.success
    assert beaten.reason is Reason.REFUSED
    assert "pg-a seq " in beaten.detail


def test_garbage_dsn_is_a_failure_not_an_exception(stack: Layout) -> None:
    good = replication_target(stack)
    bad = good.nodes[0].model_copy(update={"dsn": "=== not a dsn '"})
    target = good.model_copy(update={"nodes": (bad, good.nodes[1])})
    for run in (postgres_replication.probe, postgres_replication.beat):
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
