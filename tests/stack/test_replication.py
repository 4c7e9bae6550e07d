"""Bi-directional logical replication and last-write-wins, on the real PostgreSQL masters."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.helpers import eventually

pytestmark = pytest.mark.stack

SUB_ON_A = "sub_pg_a_from_pg_b"  # applies pg-b's changes on pg-a
SUB_ON_B = "sub_pg_b_from_pg_a"  # applies pg-a's changes on pg-b


def _new_subscriber(conn: psycopg.Connection, sid: str | None = None) -> str:
    sid = sid or f"t-{uuid.uuid4().hex[:12]}"
    conn.execute(
        "INSERT INTO public.subscriber (subscriber_id, account_type, service_level, full_name) "
        "VALUES (%s, 'residential', 'fiber_300', 'Test Person')",
        (sid,),
    )
    return sid


def _status(conn: psycopg.Connection, sid: str) -> str | None:
    row = conn.execute(
        "SELECT status FROM public.subscriber WHERE subscriber_id = %s", (sid,)
    ).fetchone()
    return None if row is None else str(row[0])


def _row(conn: psycopg.Connection, sid: str) -> tuple[object, ...] | None:
    return conn.execute(
        "SELECT status, modified_at, modified_by FROM public.subscriber WHERE subscriber_id = %s",
        (sid,),
    ).fetchone()


@contextmanager
def paused(conn: psycopg.Connection, subscription: str) -> Iterator[None]:
    """Hold back one direction of replication; changes queue up and arrive on resume."""
    conn.execute(f"ALTER SUBSCRIPTION {subscription} DISABLE")
    try:
        yield
    finally:
        conn.execute(f"ALTER SUBSCRIPTION {subscription} ENABLE")


def _flush(origin: psycopg.Connection, peer: psycopg.Connection) -> None:
    """Wait until everything written on ``origin`` so far has been applied on ``peer``."""
    marker = _new_subscriber(origin)
    eventually(lambda: _status(peer, marker) == "active", timeout=30)


def test_insert_on_a_replicates_to_b(pg_a: psycopg.Connection, pg_b: psycopg.Connection) -> None:
    sid = _new_subscriber(pg_a)
    assert eventually(lambda: _status(pg_b, sid)) == "active"


def test_update_on_b_replicates_to_a(pg_a: psycopg.Connection, pg_b: psycopg.Connection) -> None:
    sid = _new_subscriber(pg_a)
    eventually(lambda: _status(pg_b, sid))
    pg_b.execute(
        "UPDATE public.subscriber SET status = 'suspended' WHERE subscriber_id = %s", (sid,)
    )
    assert eventually(lambda: _status(pg_a, sid) == "suspended")
    # one UPDATE is one row change on each node: origin = none keeps it from looping back
    assert _row(pg_a, sid) == _row(pg_b, sid)


def test_seeded_billing_accounts_are_on_both_masters(
    pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    query = "SELECT count(*), sum(monthly_fee_cents) FROM public.billing_account"
    assert pg_a.execute(query).fetchone() == pg_b.execute(query).fetchone()
    count = pg_a.execute(query).fetchone()
    assert count is not None
    assert count[0] >= 2_000


def test_heartbeat_rows_replicate_both_ways(
    pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    for origin, peer, name in ((pg_a, pg_b, "pg-a"), (pg_b, pg_a, "pg-b")):
        row = origin.execute(
            "UPDATE public.repl_heartbeat SET beat_at = clock_timestamp(), seq = seq + 1 "
            "WHERE origin = %s RETURNING beat_at, seq",
            (name,),
        ).fetchone()
        assert row is not None
        # this beat, or a newer one (the stack's exporter also beats every second), arrives
        query = "SELECT beat_at >= %s AND seq >= %s FROM public.repl_heartbeat WHERE origin = %s"
        assert eventually(
            lambda q=query, n=name, r=row, p=peer: (
                p.execute(q, (r[0], r[1], n)).fetchone() == (True,)
            )
        )


def test_local_update_older_than_stored_row_is_refused(pg_a: psycopg.Connection) -> None:
    sid = _new_subscriber(pg_a)
    old = datetime.now(UTC) - timedelta(hours=1)
    cur = pg_a.execute(
        "UPDATE public.subscriber SET status = 'stale', modified_at = %s WHERE subscriber_id = %s",
        (old, sid),
    )
    assert cur.rowcount == 0
    assert _status(pg_a, sid) == "active"


def test_local_update_is_stamped_with_time_and_node(pg_b: psycopg.Connection) -> None:
    sid = _new_subscriber(pg_b)
    before = _row(pg_b, sid)
    pg_b.execute(
        "UPDATE public.subscriber SET email = 'x@example.net' WHERE subscriber_id = %s", (sid,)
    )
    after = _row(pg_b, sid)
    assert before is not None
    assert after is not None
    assert after[1] > before[1]  # type: ignore[operator]
    assert after[2] == "pg-b"


def test_stale_update_arriving_from_other_master_does_not_overwrite_newer_row(
    pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    sid = _new_subscriber(pg_a)
    eventually(lambda: _status(pg_b, sid))
    t0 = datetime.now(UTC) + timedelta(seconds=10)
    with paused(pg_b, SUB_ON_B):  # pg-a's change is held back on its way to pg-b
        pg_a.execute(
            "UPDATE public.subscriber SET status = 'stale', modified_at = %s "
            "WHERE subscriber_id = %s",
            (t0, sid),
        )
        pg_b.execute(
            "UPDATE public.subscriber SET status = 'newer', modified_at = %s "
            "WHERE subscriber_id = %s",
            (t0 + timedelta(seconds=1), sid),
        )
        # pg-b's newer change reaches pg-a and wins there
        assert eventually(lambda: _status(pg_a, sid) == "newer")
    _flush(pg_a, pg_b)  # the stale change has now arrived on pg-b ...
    assert _status(pg_b, sid) == "newer"  # ... and was refused
    assert _row(pg_a, sid) == _row(pg_b, sid)


@pytest.mark.parametrize("newest", ["pg-a", "pg-b"])
def test_concurrent_conflicting_updates_converge_to_newest_on_both(
    pg_a: psycopg.Connection, pg_b: psycopg.Connection, newest: str
) -> None:
    sid = _new_subscriber(pg_a)
    eventually(lambda: _status(pg_b, sid))
    t0 = datetime.now(UTC) + timedelta(seconds=10)
    stamps = {"pg-a": t0, "pg-b": t0} | {newest: t0 + timedelta(milliseconds=5)}
    with paused(pg_a, SUB_ON_A), paused(pg_b, SUB_ON_B):  # both directions held back
        for conn, node in ((pg_a, "pg-a"), (pg_b, "pg-b")):
            conn.execute(
                "UPDATE public.subscriber SET status = %s, modified_at = %s "
                "WHERE subscriber_id = %s",
                (f"set-on-{node}", stamps[node], sid),
            )
    _flush(pg_a, pg_b)
    _flush(pg_b, pg_a)
    assert _status(pg_a, sid) == _status(pg_b, sid) == f"set-on-{newest}"
    assert _row(pg_a, sid) == _row(pg_b, sid)


def test_exact_timestamp_tie_converges_by_node_name(
    pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    sid = _new_subscriber(pg_a)
    eventually(lambda: _status(pg_b, sid))
    same = datetime.now(UTC) + timedelta(seconds=10)
    with paused(pg_a, SUB_ON_A), paused(pg_b, SUB_ON_B):
        for conn, node in ((pg_a, "pg-a"), (pg_b, "pg-b")):
            conn.execute(
                "UPDATE public.subscriber SET status = %s, modified_at = %s, modified_by = %s "
                "WHERE subscriber_id = %s",
                (f"set-on-{node}", same, node, sid),
            )
    _flush(pg_a, pg_b)
    _flush(pg_b, pg_a)
    # (modified_at, modified_by) orders versions: 'pg-b' > 'pg-a' wins on both nodes
    assert _status(pg_a, sid) == _status(pg_b, sid) == "set-on-pg-b"
