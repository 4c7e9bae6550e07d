"""Client-side deadlines of the PostgreSQL probers, against real servers that stop answering.

The shared stack's pg-b is frozen (SIGSTOP) for about a second at a time and always thawed
in a ``finally``; the stack's own exporter sees a short outage and recovers.
"""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from edgesla.probes import _pg, _pgpool, postgres_query, postgres_replication
from edgesla.probes._result import Reason
from edgesla.stack.layout import HOST, Layout
from tests.chaos.faults import Blackhole, frozen, postgres_pids, require_root
from tests.conftest import pg
from tests.helpers import eventually
from tests.probes.pg.targets import dsn, query_target, replication_target

pytestmark = pytest.mark.stack

TIMEOUT = 0.5
#: What a run may take beyond its timeout: the watchdog's margin, plus a loaded machine.
SLACK = 0.5


def sessions(layout: Layout, node: str, app: str) -> int:
    with pg(layout, node) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def probe_threads() -> int:
    return sum(t.is_alive() for t in threading.enumerate())


@pytest.fixture
def root() -> None:
    require_root("freezing PostgreSQL (it runs as another user)")


def test_a_server_that_accepts_and_never_answers_times_out_at_the_deadline() -> None:
    with Blackhole() as hole:
        target = query_target(f"host={HOST} port={hole.port} dbname=edgesla user=postgres")
        start = time.monotonic()
        result = postgres_query.probe(target, timeout=TIMEOUT)
        took = time.monotonic() - start
        assert hole.accepted >= 1
    assert not result.success
    assert result.reason is Reason.TIMEOUT, result.detail
    assert "did not answer within 0.5s" in result.detail
    assert took < TIMEOUT + SLACK  # not libpq's connect_timeout (whole seconds, at least 2)


def test_a_frozen_server_wakes_the_blocked_thread_and_leaks_nothing(
    stack: Layout, root: None
) -> None:
    app = "edgesla-freeze-test"
    target = query_target(dsn(stack, "pg-b") + f" application_name={app}")
    assert postgres_query.probe(target, timeout=2.0).success  # a pooled connection, warm
    threads = probe_threads()
    with frozen(postgres_pids(stack.data_dir / "pg-b")):
        start = time.monotonic()
        result = postgres_query.probe(target, timeout=TIMEOUT)
        took = time.monotonic() - start
    assert not result.success
    assert result.reason is Reason.TIMEOUT, result.detail
    assert "no answer within 0.5s; the connection was closed at the deadline" in result.detail
    assert took < TIMEOUT + SLACK
    assert probe_threads() <= threads  # the prober's thread came back, nothing left behind
    recovered = eventually(lambda: (r := postgres_query.probe(target, 2.0)).success and r, 10)
    assert recovered.latency_seconds is not None
    # the connection cut at the deadline is gone; the new one is the only session
    eventually(lambda: sessions(stack, "pg-b", app) == 1, timeout=10)


def test_a_frozen_postmaster_alone_is_not_available(stack: Layout, root: None) -> None:
    """Its existing sessions still answer; it accepts no new one: for clients it is down."""
    target = query_target(dsn(stack, "pg-b") + " application_name=edgesla-postmaster-test")
    assert postgres_query.probe(target, timeout=2.0).success
    with frozen(postgres_pids(stack.data_dir / "pg-b", postmaster_only=True)):
        start = time.monotonic()
        result = postgres_query.probe(target, timeout=TIMEOUT)
        took = time.monotonic() - start
    assert not result.success
    assert result.reason is Reason.TIMEOUT, result.detail
    assert "accepts TCP but did not answer" in result.detail
    assert took < TIMEOUT + SLACK
    eventually(lambda: postgres_query.probe(target, 2.0).success, timeout=10)


def test_a_connect_that_times_out_leaves_no_socket_open(stack: Layout, root: None) -> None:
    """psycopg keeps a failed attempt's half-open connection alive in a reference cycle; left to
    the garbage collector, its socket stays open and the woken server makes a session of it
    (the soak benchmark saw the exporter's fds and pg-b's sessions grow with every freeze)."""
    info = dsn(stack, "pg-b") + " connect_timeout=2 application_name=edgesla-connect-test"
    with frozen(postgres_pids(stack.data_dir / "pg-b", postmaster_only=True)):
        gc.collect()
        before = len(list(Path("/proc/self/fd").iterdir()))
        for _ in range(2):
            with pytest.raises(psycopg.errors.ConnectionTimeout):
                _pg.connect(info)
        assert len(list(Path("/proc/self/fd").iterdir())) == before
    time.sleep(1)  # the woken postmaster would start sessions for sockets left open
    assert sessions(stack, "pg-b", "edgesla-connect-test") == 0


def test_a_frozen_node_fails_the_replication_probe_and_its_heartbeat_in_time(
    stack: Layout, root: None
) -> None:
    target = replication_target(stack)
    assert postgres_replication.beat(target, 2.0).success
    with frozen(postgres_pids(stack.data_dir / "pg-b")):
        start = time.monotonic()
        beat = postgres_replication.beat(target, TIMEOUT)
        probe = postgres_replication.probe(target, TIMEOUT)
        took = time.monotonic() - start
    for result in (beat, probe):
        assert not result.success
        assert result.reason is Reason.TIMEOUT, result.detail
        assert "pg-b: " in result.detail
    assert took < 2 * (TIMEOUT + SLACK)
    eventually(lambda: postgres_replication.probe(target, 2.0).success, timeout=20)


def test_the_wait_for_a_connection_is_bounded_and_part_of_the_latency(stack: Layout) -> None:
    """Both places of pg-a held by slow queries: a third run waits for one, then answers —
    or times out when none frees within its timeout. Never a third connection."""
    app = "edgesla-bound-test"
    slow = query_target(dsn(stack, "pg-a") + f" application_name={app}", "SELECT pg_sleep(0.6)")
    quick = query_target(dsn(stack, "pg-a") + f" application_name={app}")
    with ThreadPoolExecutor(3) as pool:
        holders = [pool.submit(postgres_query.probe, slow, 3.0) for _ in range(2)]
        time.sleep(0.2)
        seen = sessions(stack, "pg-a", app)
        impatient = postgres_query.probe(quick, timeout=0.2)
        patient = postgres_query.probe(quick, timeout=3.0)
        assert all(h.result().success for h in holders)
    assert seen == _pgpool.MAX_CONNECTIONS_PER_SERVER
    assert impatient.reason is Reason.TIMEOUT, impatient.detail
    assert "no connection free within 0.2s" in impatient.detail
    assert patient.success, patient.detail
    assert patient.latency_seconds is not None
    assert patient.latency_seconds > 0.1  # it waited for a holder to finish
    assert sessions(stack, "pg-a", app) <= _pgpool.MAX_CONNECTIONS_PER_SERVER


def test_many_concurrent_runs_never_open_more_than_the_bound(stack: Layout) -> None:
    app = "edgesla-crowd-test"
    target = query_target(dsn(stack, "pg-b") + f" application_name={app}")
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, sessions(stack, "pg-b", app))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(lambda _: postgres_query.probe(target, 5.0), range(200)))
    finally:
        stop.set()
        sampler.join()
    assert all(r.success for r in results), next(r.detail for r in results if not r.success)
    assert 1 <= peak <= _pgpool.MAX_CONNECTIONS_PER_SERVER
