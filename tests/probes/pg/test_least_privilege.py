"""Both PostgreSQL probers work for the least-privilege role of docs/least-privilege-postgresql.md.

The role gets only ``pg_monitor`` plus INSERT/UPDATE/SELECT on the heartbeat table and
SELECT on what the query target reads. The stack uses trust authentication, so the password
(passed through ``password_file``, as in production) is not checked here, but every
privilege is. Roles do not replicate, so the role is made and dropped on both masters.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from edgesla import conventions as conv
from edgesla.probes import postgres_query, postgres_replication
from edgesla.probes._result import ProbeResult, Reason
from edgesla.probes.postgres_replication import Heartbeat
from edgesla.stack.layout import PG_NODES, Layout
from tests.conftest import pg
from tests.helpers import eventually
from tests.probes.pg.targets import dsn, query_target, replication_target, role_on_every_master

pytestmark = pytest.mark.stack

ROLE = "edgesla_probe_lp_test"
GRANTS = (
    f"CREATE ROLE {ROLE} LOGIN PASSWORD 'not-checked-under-trust'",
    f"GRANT pg_monitor TO {ROLE}",
    f"GRANT SELECT, INSERT, UPDATE ON public.repl_heartbeat TO {ROLE}",
    f"GRANT SELECT ON public.billing_account TO {ROLE}",
)


@pytest.fixture
def probe_role(stack: Layout) -> Iterator[str]:
    with role_on_every_master(stack, ROLE, GRANTS) as role:
        yield role


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "pg-probe.password"
    path.write_text("not-checked-under-trust\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _names(result: ProbeResult) -> set[str]:
    return {s.name for s in result.samples}


def test_both_probers_succeed_with_every_sample(
    stack: Layout, probe_role: str, password_file: Path
) -> None:
    target = replication_target(stack, user=probe_role, password_file=str(password_file))
    reference = replication_target(stack)  # the superuser sees everything

    heartbeat = Heartbeat()  # the role writes the beats and reads what arrived

    def healthy() -> ProbeResult | None:
        beaten = heartbeat(target, 2.0)
        assert beaten.success, beaten.detail
        result = postgres_replication.probe(target, timeout=2.0)
        return result if result.success else None

    result: ProbeResult = eventually(healthy, timeout=20, interval=0.2)
    full = postgres_replication.probe(reference, timeout=2.0)
    # walsender lag samples come and go with activity (NULL while idle); the rest must match
    assert _names(result) - {conv.PG_WALSENDER_LAG_SECONDS} == (
        _names(full) - {conv.PG_WALSENDER_LAG_SECONDS}
    )
    assert {
        conv.PG_SUBSCRIPTION_WORKER_UP,
        conv.PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS,
        conv.PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL,
        conv.PG_SUBSCRIPTION_SYNC_ERRORS_TOTAL,
        conv.PG_SUBSCRIPTION_CONFLICTS_TOTAL,
        conv.PG_WALSENDER_IDLE,
        conv.PG_WALSENDER_DISTANCE_BYTES,
        conv.PG_SLOT_ACTIVE,
    } <= _names(result)
    assert len(result.samples) >= len(full.samples) - 6  # at most the 6 walsender lag kinds
    beaten = heartbeat(target, 2.0)
    assert beaten.success, beaten.detail
    assert {
        conv.PG_REPLICATION_LAG_SECONDS,
        conv.PG_REPLICATION_LAG_ERROR_SECONDS,
        conv.PG_HEARTBEAT_SEQ,
        conv.PG_CLOCK_OFFSET_SECONDS,
        conv.PG_CLOCK_OFFSET_ERROR_SECONDS,
        conv.PG_HEARTBEAT_INTERVAL_SECONDS,
    } == _names(beaten)

    for node in PG_NODES:
        lookup = query_target(dsn(stack, node, probe_role), password_file=str(password_file))
        answer = postgres_query.probe(lookup, timeout=2.0)
        assert answer.success, answer.detail


def test_the_role_really_is_least_privileged(
    stack: Layout, probe_role: str, password_file: Path
) -> None:
    """What it was not granted it cannot read: the probe says ``auth``, not ``query_error``."""
    lookup = query_target(
        dsn(stack, "pg-a", probe_role),
        query="SELECT full_name FROM public.subscriber LIMIT 1",
        password_file=str(password_file),
    )
    result = postgres_query.probe(lookup, timeout=2.0)
    assert not result.success
    assert result.reason is Reason.AUTH
    assert "permission denied" in result.detail
    with (
        psycopg.connect(dsn(stack, "pg-a", probe_role), autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("DELETE FROM public.repl_heartbeat")


def test_without_pg_monitor_walsenders_are_hidden_not_idle(
    stack: Layout, probe_role: str, password_file: Path
) -> None:
    """NULL lag columns of a walsender the role may not see must not read as 'idle'."""
    for node in PG_NODES:
        with pg(stack, node) as conn:
            conn.execute(f"REVOKE pg_monitor FROM {probe_role}")
    target = replication_target(stack, user=probe_role, password_file=str(password_file))
    result = postgres_replication.probe(target, timeout=2.0)
    names = _names(result)
    assert conv.PG_WALSENDER_IDLE not in names
    assert conv.PG_WALSENDER_LAG_SECONDS not in names
    assert "a walsender is hidden from this role" in result.detail
    beaten = Heartbeat()(target, 2.0)  # the heartbeat still tells the truth
    assert beaten.success, beaten.detail
    assert conv.PG_REPLICATION_LAG_SECONDS in _names(beaten)
