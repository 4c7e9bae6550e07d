"""postgres_query against the real local PostgreSQL masters: latency, and each failure reason."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edgesla.probes import postgres_query
from edgesla.probes._result import Reason
from edgesla.stack.layout import HOST, Layout
from tests.conftest import pg
from tests.helpers import free_port
from tests.probes.pg.targets import dsn, query_target

pytestmark = pytest.mark.stack


def test_query_succeeds_and_times_execute_and_fetch(stack: Layout) -> None:
    result = postgres_query.probe(query_target(dsn(stack, "pg-a")), timeout=2.0)
    assert result.success, result.detail
    assert result.reason is None
    assert result.latency_seconds is not None
    assert 0 < result.latency_seconds < 1.0
    assert result.detail.startswith("1 row in ")


def test_repeated_probes_reuse_a_small_pool(stack: Layout) -> None:
    target = query_target(dsn(stack, "pg-b") + " application_name=edgesla-pool-test")
    for _ in range(10):
        assert postgres_query.probe(target, timeout=2.0).success
    with pg(stack, "pg-b") as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'edgesla-pool-test'"
        ).fetchone()
    assert row is not None
    assert 1 <= row[0] <= 2  # the pool's connections, not one per probe


def test_a_pooled_connection_killed_by_the_server_is_replaced(stack: Layout) -> None:
    """A server restart or an admin's pg_terminate_backend must not fail the next probe."""
    target = query_target(dsn(stack, "pg-a") + " application_name=edgesla-kill-test")
    for _ in range(3):
        assert postgres_query.probe(target, timeout=2.0).success
    with pg(stack, "pg-a") as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'edgesla-kill-test'"
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    result = postgres_query.probe(target, timeout=2.0)
    assert result.success, result.detail


def test_tls_required_by_the_target_but_not_offered_is_a_tls_failure(stack: Layout) -> None:
    for sslmode in ("require", "verify-full"):
        result = postgres_query.probe(query_target(dsn(stack, "pg-a"), sslmode=sslmode), 2.0)
        assert not result.success
        assert result.reason is Reason.TLS, result.detail
        assert "SSL" in result.detail


def test_closed_port_is_refused_at_once() -> None:
    target = query_target(f"host={HOST} port={free_port()} dbname=edgesla user=postgres")
    start = time.monotonic()
    result = postgres_query.probe(target, timeout=2.0)
    assert not result.success
    assert result.reason is Reason.REFUSED, result.detail
    assert result.latency_seconds is None
    assert "refused" in result.detail.lower()
    assert time.monotonic() - start < 1.0  # named at once, not after the timeout


def test_slow_query_is_cancelled_at_the_timeout(stack: Layout) -> None:
    target = query_target(dsn(stack, "pg-a"), query="SELECT pg_sleep(5)")
    start = time.monotonic()
    result = postgres_query.probe(target, timeout=0.5)
    assert not result.success
    assert result.reason is Reason.TIMEOUT, result.detail
    assert "statement timeout" in result.detail
    assert time.monotonic() - start < 2.0


def test_bad_sql_is_a_query_error(stack: Layout) -> None:
    result = postgres_query.probe(query_target(dsn(stack, "pg-a"), query="SELEC 1"), 2.0)
    assert not result.success
    assert result.reason is Reason.QUERY_ERROR
    assert "syntax error" in result.detail


def test_unknown_role_is_an_auth_failure(stack: Layout) -> None:
    result = postgres_query.probe(query_target(dsn(stack, "pg-a", user="nobody_here")), 2.0)
    assert not result.success
    assert result.reason is Reason.AUTH, result.detail


def test_unreadable_password_file_is_a_config_error(stack: Layout, tmp_path: Path) -> None:
    target = query_target(dsn(stack, "pg-a"), password_file=str(tmp_path / "missing"))
    result = postgres_query.probe(target, 2.0)
    assert not result.success
    assert result.reason is Reason.CONFIG
    assert "password_file" in result.detail


def test_password_from_env_never_shows_in_the_detail(
    stack: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDGESLA_TEST_PG_PASSWORD", "s3cr3t-value")
    target = query_target(
        dsn(stack, "pg-a", user="nobody_here"), password_env="EDGESLA_TEST_PG_PASSWORD"
    )
    result = postgres_query.probe(target, 2.0)
    assert not result.success
    assert "s3cr3t-value" not in result.detail


@pytest.mark.parametrize(
    "garbage",
    ["this is not = a dsn '", "host=127.0.0.1 port=notaport", "postgresql://u:s3cr3t@[::1"],
)
def test_garbage_dsn_is_a_failure_not_an_exception(garbage: str) -> None:
    result = postgres_query.probe(query_target(garbage), timeout=1.0)
    assert not result.success
    assert result.reason is Reason.CONFIG, result.detail
    assert result.detail.startswith("pg-lookup: ")
    assert "s3cr3t" not in result.detail


def test_the_probe_leaves_no_transaction_open(stack: Layout) -> None:
    """The server sees the probe's session idle afterwards, not 'idle in transaction'."""
    target = query_target(dsn(stack, "pg-a") + " application_name=edgesla-idle-test")
    assert postgres_query.probe(target, 2.0).success
    with pg(stack, "pg-a") as conn:
        states = conn.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'edgesla-idle-test'"
        ).fetchall()
    assert states
    assert all(state == ("idle",) for state in states)
