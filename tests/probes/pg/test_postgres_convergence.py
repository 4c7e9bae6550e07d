"""postgres_convergence on the shared stack's two masters, in real logical replication, read
through a role that has only SELECT on the compared tables.

The masters are made to diverge for real: pg-a writes inside a replication-origin session
(``pg_replication_origin_session_setup``), and the subscriptions are ``origin = none``, so pg-b
never receives those writes — exactly what a change made with replication bypassed leaves.
``session_replication_role = replica`` keeps an UPDATE's old ``modified_at`` (the LWW trigger
stamps only local writes otherwise), so a changed row can be old enough to count. Every
change is undone the same way (not replicated), and the test checks the stack converged again.

The stack uses trust authentication: a wrong password is not refused here, so the
authentication failure is a role that does not exist (libpq's 'role "..." does not exist').
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from edgesla import conventions as conv
from edgesla.config import PostgresConvergenceTarget
from edgesla.probes import postgres_convergence
from edgesla.probes._result import ProbeResult, Reason
from edgesla.stack.layout import HOST, PG_NODES, Layout
from tests.conftest import pg
from tests.helpers import eventually
from tests.ports import port
from tests.probes.pg.targets import role_on_every_master, value

pytestmark = pytest.mark.stack

ROLE = "edgesla_convergence_reader_test"
ORIGIN = "edgesla_convergence_test"
SUBSCRIBER, BILLING = "public.subscriber", "public.billing_account"
#: Nothing listens here (tests/ports.py: 900).
CLOSED_PORT = port(900)
ONLY_ON_A = ("zz-convergence-1", "zz-convergence-2")
FRESH_ON_A = "zz-convergence-fresh"
SHARED = "zz-convergence-shared"
_INSERT = (
    "INSERT INTO public.subscriber (subscriber_id, account_type, service_level, full_name, "
    "modified_at) VALUES (%s, 'residential', 'basic', 'Diverged', %s)"
)
_HAS = "SELECT true FROM public.subscriber WHERE subscriber_id = %s"


@pytest.fixture(scope="module")
def reader(stack: Layout) -> Iterator[str]:
    """A login role with SELECT on the two tables and nothing else."""
    grants = (f"CREATE ROLE {ROLE} LOGIN", f"GRANT SELECT ON {SUBSCRIBER}, {BILLING} TO {ROLE}")
    with role_on_every_master(stack, ROLE, grants) as role:
        yield role


def _target(
    layout: Layout, user: str, ports: dict[str, int] | None = None, **extra: object
) -> PostgresConvergenceTarget:
    ports = ports or {node: layout.pg_port(node) for node in PG_NODES}
    nodes = [
        {
            "name": node,
            "dsn": f"host={HOST} port={ports[node]} dbname=edgesla user={user}",
            "sslmode": "disable",
        }
        for node in PG_NODES
    ]
    return PostgresConvergenceTarget.model_validate(
        {
            "name": "pg-convergence",
            "prober": "postgres_convergence",
            "nodes": nodes,
            "tables": [SUBSCRIBER, BILLING],
            "chunk_rows": 100,
            "settle_time": "30s",
            **extra,
        }
    )


def _divergent(result: ProbeResult, table: str) -> float | None:
    return value(result, conv.PG_CONVERGENCE_DIVERGENT_ROWS, table=table, node="pg-a", peer="pg-b")


def _converged(target: PostgresConvergenceTarget) -> ProbeResult | None:
    result = postgres_convergence.probe(target, 5.0)
    compared = result.success and all(_divergent(result, t) == 0 for t in target.tables)
    return result if compared else None


@pytest.fixture
def unreplicated(stack: Layout) -> Iterator[psycopg.Connection]:
    """A superuser session on pg-a whose writes pg-b never receives."""
    with pg(stack, "pg-a") as conn:
        conn.execute(
            "SELECT pg_replication_origin_create(%s) WHERE NOT EXISTS "
            "(SELECT FROM pg_replication_origin WHERE roname = %s)",
            (ORIGIN, ORIGIN),
        )
        conn.execute("SELECT pg_replication_origin_session_setup(%s)", (ORIGIN,))
        conn.execute("SET session_replication_role = replica")
        yield conn
    with pg(stack, "pg-a") as conn:
        conn.execute("SELECT pg_replication_origin_drop(%s)", (ORIGIN,))


def test_converged_masters_have_no_divergent_rows(stack: Layout, reader: str) -> None:
    """Settle time 1 ms: every seeded row is compared (the stack was seeded moments ago)."""
    target = _target(stack, reader, settle_time="1ms")
    result: ProbeResult = eventually(lambda: _converged(target), timeout=20)
    assert result.reason is None, result.detail
    for table in (SUBSCRIBER, BILLING):
        assert _divergent(result, table) == 0
        labels = {"table": table, "node": "pg-a", "peer": "pg-b"}
        assert value(result, conv.PG_CONVERGENCE_SUCCESS, **labels) == 1
        duration = value(result, conv.PG_CONVERGENCE_DURATION_SECONDS, **labels)
        assert duration is not None
        assert 0 < duration < 5
        for node in PG_NODES:
            settled = value(result, conv.PG_CONVERGENCE_SETTLED_ROWS, table=table, node=node)
            assert settled is not None
            assert settled >= 2_000  # the shared stack's subscribers
    assert "converged" in result.detail


def test_unreplicated_writes_are_counted_exactly_and_fresh_ones_left_out(
    stack: Layout, reader: str, unreplicated: psycopg.Connection
) -> None:
    """Settle time 30 s: the old rows count, the fresh one (written now) is left out."""
    target = _target(stack, reader)
    with pg(stack, "pg-a") as replicated:  # an old row on both masters, through replication
        replicated.execute(_INSERT, (SHARED, "2026-01-01"))
    with pg(stack, "pg-b") as peer:
        eventually(lambda: peer.execute(_HAS, (SHARED,)).fetchone(), timeout=20)
    try:
        for sid, when in (
            (ONLY_ON_A[0], "2026-01-01"),
            (ONLY_ON_A[1], "2026-01-01"),
            (FRESH_ON_A, "now"),
        ):
            unreplicated.execute(_INSERT, (sid, when))
        unreplicated.execute(  # keeps its old modified_at: settled, and different on pg-a
            "UPDATE public.subscriber SET email = 'diverged@example.net' WHERE subscriber_id = %s",
            (SHARED,),
        )
        result = postgres_convergence.probe(target, 5.0)
        assert result.success, result.detail  # it measured: the divergence is the value
        assert _divergent(result, SUBSCRIBER) == 3  # two only on pg-a, one different
        assert _divergent(result, BILLING) == 0
        unsettled = {
            node: value(result, conv.PG_CONVERGENCE_UNSETTLED_ROWS, table=SUBSCRIBER, node=node)
            for node in PG_NODES
        }
        assert unsettled["pg-a"] is not None
        assert unsettled["pg-b"] is not None
        assert unsettled["pg-a"] >= unsettled["pg-b"] + 1  # the fresh row, left out
        assert f"{SUBSCRIBER} pg-a↔pg-b: 3 divergent rows" in result.detail
        assert f"only on pg-a: {ONLY_ON_A[0]}, {ONLY_ON_A[1]}" in result.detail
        assert f"different: {SHARED}" in result.detail
        assert FRESH_ON_A not in result.detail

        short = _target(stack, reader, settle_time="1ms")
        counted = eventually(
            lambda: _divergent(postgres_convergence.probe(short, 5.0), SUBSCRIBER) == 4, timeout=5
        )
        assert counted  # settled after 1 ms: the fresh row counts too
    finally:
        unreplicated.execute(
            "DELETE FROM public.subscriber WHERE subscriber_id = ANY(%s)",
            ([*ONLY_ON_A, FRESH_ON_A],),
        )
        with pg(stack, "pg-a") as replicated:
            replicated.execute("DELETE FROM public.subscriber WHERE subscriber_id = %s", (SHARED,))
    restored: ProbeResult = eventually(
        lambda: _converged(_target(stack, reader, settle_time="1ms")), timeout=20
    )
    assert _divergent(restored, SUBSCRIBER) == 0


def test_an_unreachable_node_or_a_refused_role_is_a_failed_comparison(
    stack: Layout, reader: str
) -> None:
    ports = {"pg-a": stack.pg_port("pg-a"), "pg-b": CLOSED_PORT}
    cases = ((_target(stack, reader, ports), Reason.REFUSED),
             (_target(stack, "edgesla_no_such_role"), Reason.AUTH))  # fmt: skip
    for target, reason in cases:
        result = postgres_convergence.probe(target, 2.0)
        assert not result.success
        assert result.reason is reason, result.detail
        for table in (SUBSCRIBER, BILLING):
            labels = {"table": table, "node": "pg-a", "peer": "pg-b"}
            assert value(result, conv.PG_CONVERGENCE_SUCCESS, **labels) == 0
            assert _divergent(result, table) is None  # missing, never 0
        assert "not compared" in result.detail


def test_a_table_the_role_may_not_read_fails_only_its_own_comparison(
    stack: Layout, reader: str
) -> None:
    target = _target(stack, reader, tables=[SUBSCRIBER, "public.repl_heartbeat"])
    result = postgres_convergence.probe(target, 5.0)
    assert result.reason is Reason.AUTH, result.detail
    assert "permission denied" in result.detail
    assert _divergent(result, "public.repl_heartbeat") is None
    assert _divergent(result, SUBSCRIBER) == 0


@pytest.mark.parametrize(
    ("columns", "said"),
    [
        ("a int, b int, modified_at timestamptz, PRIMARY KEY (a, b)", "a composite primary key"),
        ("a int PRIMARY KEY, changed timestamptz", "has no column 'modified_at'"),
        ("a int, modified_at timestamptz", "no primary key"),
    ],
)
def test_a_table_the_check_cannot_cut_is_a_config_failure_that_says_why(
    stack: Layout, reader: str, columns: str, said: str
) -> None:
    """A local table on both masters (not in the publications, so nothing replicates)."""
    table = "public.zz_convergence_shape"
    for node in PG_NODES:
        with pg(stack, node) as conn:
            conn.execute(f"CREATE TABLE {table} ({columns})".encode())
            conn.execute(f"GRANT SELECT ON {table} TO {reader}".encode())
    try:
        result = postgres_convergence.probe(_target(stack, reader, tables=[table]), 5.0)
    finally:
        for node in PG_NODES:
            with pg(stack, node) as conn:
                conn.execute(f"DROP TABLE {table}".encode())
    assert result.reason is Reason.CONFIG, result.detail
    assert said in result.detail
    assert _divergent(result, table) is None
