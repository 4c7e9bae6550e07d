"""Faults between the two PostgreSQL masters of a private real stack, seen by its exporter.

The stack's subscriptions connect through the replication address (127.0.0.2) only, so a
packet filter rule on it cuts exactly the link between the masters while the exporter still
reaches both nodes on 127.0.0.1 (``tests/chaos/netfaults.py``). Each test scrapes the real
exporter's /metrics in a loop while its fault lasts and prints what it measured (detection,
recovery, convergence, /metrics p50/p99) — run with ``-s`` to see the figures. The asserts are
deliberately loose: functional facts with generous bounds, never the machine's speed (it is
shared). The lag's exact semantics are being reworked elsewhere, so only "grows well past the
threshold during the fault, falls back after it" is asserted, never a value.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from edgesla import conventions as conv
from edgesla.slo.spec import DEFAULT_LAG_THRESHOLD_SECONDS
from edgesla.stack.layout import PG_NODES, REPLICATION_HOST, Layout
from edgesla.stack.postgres import replication_dsn, subscription_name
from tests.chaos.netfaults import (
    DelayProxy,
    Scrape,
    Scraper,
    clear_partition,
    iptables_missing,
    partition,
    percentile,
)
from tests.helpers import edgesla, eventually, make_state_dir, stack_up, teardown_stack
from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

BASE_PORT = port(840)  # the stack: base+0..12
PROXY_PORT = port(853)
SUBSCRIBERS = 500
THRESHOLD = DEFAULT_LAG_THRESHOLD_SECONDS
PROBE_INTERVAL = 5.0  # the stack's pop.yaml default
#: What counts as healthy here: under the threshold. The exported lag is the measured apply
#: delay of the latest heartbeat (tens of milliseconds on a healthy stack), no longer the age
#: of the newest applied beat, which read up to one heartbeat interval high.
HEALTHY_LAG = THRESHOLD
#: Generous: /metrics renders stored results and must not wait on a fault; the machine is
#: shared by several test runs, so only a pile-up (a scrape waiting on a database) fails this.
METRICS_P99_BOUND = 2.0
WATCHED = (
    conv.PG_REPLICATION_LAG_SECONDS,
    conv.PROBE_UP,
    conv.PROBE_FAILURE_REASON,
    conv.PG_SUBSCRIPTION_WORKER_UP,
    "edgesla_probe_results_total",
    conv.CONTROLPLANE_MEMBERS_HEALTHY,
)
TABLES = {conv.PG_TABLE_SUBSCRIBER: "subscriber_id", conv.PG_TABLE_BILLING: "subscriber_id",
          conv.PG_TABLE_HEARTBEAT: "origin"}  # fmt: skip


@pytest.fixture(scope="module")
def repl_stack() -> Iterator[Layout]:
    state_dir = make_state_dir("chaos-repl")
    layout = Layout(state_dir, BASE_PORT)
    if iptables_missing() is None:  # rules left by a killed run would cut this stack
        clear_partition([layout.pg_port(n) for n in PG_NODES])
    result = stack_up(state_dir, BASE_PORT, subscribers=SUBSCRIBERS)
    try:
        assert result.returncode == 0, result.stderr + result.stdout
        yield layout
    finally:
        teardown_stack(state_dir)


# --- helpers -------------------------------------------------------------------------------


def _pg(layout: Layout, node: str) -> psycopg.Connection:
    return psycopg.connect(
        f"host=127.0.0.1 port={layout.pg_port(node)} dbname=edgesla user=postgres",
        autocommit=True,
        connect_timeout=5,
    )


def _scraper(layout: Layout) -> Scraper:
    return Scraper(f"http://127.0.0.1:{layout.exporter_port}/metrics", WATCHED, interval=0.2)


def _lag(scrape: Scrape, origin: str, peer: str) -> float | None:
    return scrape.value(conv.PG_REPLICATION_LAG_SECONDS, origin=origin, peer=peer)


def _pairs() -> list[tuple[str, str]]:
    return [(o, p) for o in PG_NODES for p in PG_NODES if o != p]


def _healthy(scrape: Scrape) -> bool:
    """The replication target is up and every pair's lag is under HEALTHY_LAG."""
    lags = [_lag(scrape, o, p) for o, p in _pairs()]
    up = scrape.value(conv.PROBE_UP, target="pg-multimaster") == 1.0
    return up and all(lag is not None and lag < HEALTHY_LAG for lag in lags)


def _wait_healthy(scraper: Scraper, timeout: float = 90.0) -> None:
    """Until the exporter shows a healthy replicating set; else fail with what it shows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scraper.scrapes and _healthy(scraper.scrapes[-1]):
            return
        time.sleep(0.5)
    last = scraper.scrapes[-1] if scraper.scrapes else None
    shown = (
        None
        if last is None
        else {
            "up": last.value(conv.PROBE_UP, target="pg-multimaster"),
            "lag": {f"{o}->{p}": _lag(last, o, p) for o, p in _pairs()},
            "reasons": _reasons([last], "pg-multimaster"),
        }
    )
    pytest.fail(f"the exporter did not show a healthy replicating set in {timeout}s: {shown}")


def _first(
    scrapes: list[Scrape], predicate: Callable[[Scrape], bool], since: float
) -> float | None:
    """Seconds from ``since`` to the first scrape satisfying ``predicate``."""
    return next((round(s.at - since, 2) for s in scrapes if predicate(s)), None)


def _stays_above(scrapes: list[Scrape], origin: str, peer: str, since: float) -> float | None:
    """Seconds from ``since`` to the scrape from which the pair's lag stays over HEALTHY_LAG
    (it may flicker over the threshold when healthy: the first crossing proves nothing)."""
    at = None
    for s in scrapes:
        over = (_lag(s, origin, peer) or 0.0) > HEALTHY_LAG
        at = (at if at is not None else s.at) if over else None
    return None if at is None else round(at - since, 2)


def _reasons(scrapes: list[Scrape], target: str) -> list[str]:
    """Every failure reason the exporter showed for ``target`` in these scrapes."""
    return sorted(
        {
            dict(keys)["reason"]
            for s in scrapes
            for (name, keys), v in s.samples.items()
            if name == conv.PROBE_FAILURE_REASON and v == 1.0 and ("target", target) in keys
        }
    )


def _up_share(scrapes: list[Scrape], target: str) -> float:
    return round(statistics.fmean(s.value(conv.PROBE_UP, target=target) or 0 for s in scrapes), 3)


def _metrics_figures(scraper: Scraper, start: float, end: float) -> dict[str, float]:
    latencies = scraper.latencies(start, end)
    return {
        "scrapes": len(latencies),
        "metrics_p50_ms": round(percentile(latencies, 50) * 1e3, 1),
        "metrics_p99_ms": round(percentile(latencies, 99) * 1e3, 1),
        "metrics_max_ms": round(max(latencies) * 1e3, 1),
    }


def _report(name: str, figures: dict[str, object]) -> None:
    """Print the figures (``pytest -s``); append them to $EDGESLA_CHAOS_FIGURES when set."""
    print(f"\n[chaos] {name}: {json.dumps(figures, sort_keys=True)}")
    if out := os.environ.get("EDGESLA_CHAOS_FIGURES"):
        with Path(out).open("a", encoding="utf-8") as f:
            f.write(json.dumps({"test": name, "at": time.time(), **figures}) + "\n")


def _table_digests(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    digests = {}
    for table, key in TABLES.items():
        row = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY {key}), '')) "
            f"FROM public.{table} t"
        ).fetchone()
        assert row is not None
        digests[table] = (int(row[0]), str(row[1]))
    return digests


def _differences(a: psycopg.Connection, b: psycopg.Connection) -> dict[str, list[str]]:
    """Per table, the keys whose rows differ (or exist on one node only)."""
    found = {}
    for table, key in TABLES.items():
        query = f"SELECT {key}::text, md5(t::text) FROM public.{table} t"
        rows_a = dict(a.execute(query).fetchall())
        rows_b = dict(b.execute(query).fetchall())
        keys = sorted(k for k in rows_a.keys() | rows_b.keys() if rows_a.get(k) != rows_b.get(k))
        if keys:
            found[table] = keys[:20] + ([f"... {len(keys) - 20} more"] if len(keys) > 20 else [])
    return found


def _set_status(conn: psycopg.Connection, sid: str, value: str) -> None:
    cur = conn.execute(
        "UPDATE public.subscriber SET status = %s WHERE subscriber_id = %s", (value, sid)
    )
    assert cur.rowcount == 1


def _add_balance(conn: psycopg.Connection, sid: str, cents: int) -> None:
    cur = conn.execute(
        "UPDATE public.billing_account SET balance_cents = balance_cents + %s "
        "WHERE subscriber_id = %s",
        (cents, sid),
    )
    assert cur.rowcount == 1


def _insert(conn: psycopg.Connection, sid: str) -> None:
    conn.execute(
        "INSERT INTO public.subscriber (subscriber_id, account_type, service_level, full_name) "
        "VALUES (%s, 'residential', 'fiber_300', 'Chaos Test')",
        (sid,),
    )
    conn.execute(
        "INSERT INTO public.billing_account (subscriber_id, plan, monthly_fee_cents, "
        "billing_cycle_day) VALUES (%s, 'fiber_300', 4499, 1)",
        (sid,),
    )


def _rows(conn: psycopg.Connection, sids: list[str]) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT s.*, b.* FROM public.subscriber s JOIN public.billing_account b "
        "ON b.subscriber_id = s.subscriber_id WHERE s.subscriber_id = ANY(%s) "
        "ORDER BY s.subscriber_id",
        (sids,),
    ).fetchall()


# --- the partition --------------------------------------------------------------------------


def test_partition_between_masters_is_seen_and_both_converge_after_heal(
    repl_stack: Layout,
) -> None:
    if reason := iptables_missing():
        pytest.skip(reason)
    layout, hold = repl_stack, 20.0
    ports = [layout.pg_port(n) for n in PG_NODES]
    run = uuid.uuid4().hex[:6]
    ids = [str(2_000_000 + i) for i in range(30)]  # seeded subscribers
    a_wins, b_wins, balances = ids[:10], ids[10:20], ids[20:30]
    new_a = [f"chaos-{run}-a{i}" for i in range(5)]
    new_b = [f"chaos-{run}-b{i}" for i in range(5)]
    with _pg(layout, "pg-a") as pg_a, _pg(layout, "pg-b") as pg_b, _scraper(layout) as scraper:
        _wait_healthy(scraper)
        with partition(ports) as cut:
            # writes on both sides while they cannot see each other; the later write wins
            for sid in a_wins:
                _set_status(pg_b, sid, f"b-{run}")
            for sid in b_wins:
                _set_status(pg_a, sid, f"a-{run}")
            time.sleep(0.05)
            for sid in a_wins:
                _set_status(pg_a, sid, f"a-{run}")
            for sid in b_wins:
                _set_status(pg_b, sid, f"b-{run}")
            for sid in balances:
                _add_balance(pg_a, sid, 100)
                _add_balance(pg_b, sid, 7)  # later: pg-b's row version wins the row
            for sid in new_a:
                _insert(pg_a, sid)
            for sid in new_b:
                _insert(pg_b, sid)
            time.sleep(max(0.0, cut + hold - time.monotonic()))
            healed = time.monotonic()
        during = scraper.between(cut, healed)
        written = a_wins + b_wins + balances + new_a + new_b
        converged = eventually(
            lambda: _rows(pg_a, written) == _rows(pg_b, written) and time.monotonic(),
            timeout=60,
            interval=0.1,
        )
        _wait_healthy(scraper, 60)
        after = scraper.between(healed)

    detection = {f"{o}->{p}": _stays_above(during, o, p, cut) for o, p in _pairs()}
    peak = {f"{o}->{p}": max((_lag(s, o, p) or 0) for s in during) for o, p in _pairs()}
    reasons = _reasons(during, "pg-multimaster")

    def back_under(bound: float) -> dict[str, float | None]:  # once fresh beats arrive again
        return {
            f"{o}->{p}": _first(after, lambda s, o=o, p=p: (_lag(s, o, p) or 0) < bound, healed)
            for o, p in _pairs()
        }

    below, below_threshold = back_under(HEALTHY_LAG), back_under(THRESHOLD)
    recovery = _first(after, _healthy, healed)
    figures = {
        "hold_s": hold,
        "detection_s": detection,
        "peak_lag_s": {k: round(v, 2) for k, v in peak.items()},
        "failure_reasons_during_cut": reasons,
        "replication_target_up_share_during_cut": _up_share(during, "pg-multimaster"),
        "lag_healthy_after_heal_s": below,
        "lag_under_threshold_after_heal_s": below_threshold,
        "exporter_healthy_after_heal_s": recovery,
        "rows_converged_s": round(converged - healed, 2),
        **_metrics_figures(scraper, cut, healed),
    }
    _report("partition", figures)

    # the exporter still reached both nodes: the cut was the replication link only
    for node in PG_NODES:
        ups = {s.value(conv.PROBE_UP, target=f"{node}-billing-lookup") for s in during}
        assert ups == {1.0}, f"{node} looked unreachable during a cut of the link only: {ups}"
    for pair, seen in peak.items():
        assert seen > 5 * THRESHOLD, f"lag {pair} did not grow well past {THRESHOLD}s: {seen}"
        assert detection[pair] is not None
    assert set(reasons) <= {"unhealthy"}, f"a link cut is not a {reasons} failure"
    assert recovery is not None
    assert None not in below.values()
    assert figures["metrics_p99_ms"] < METRICS_P99_BOUND * 1e3, figures

    # both masters hold the same rows, the newest version of each (last write wins)
    with _pg(layout, "pg-a") as pg_a, _pg(layout, "pg-b") as pg_b:
        for node, conn in (("pg-a", pg_a), ("pg-b", pg_b)):
            statuses = dict(
                conn.execute(
                    "SELECT subscriber_id, status FROM public.subscriber "
                    "WHERE subscriber_id = ANY(%s)",
                    (a_wins + b_wins,),
                ).fetchall()
            )
            assert {statuses[s] for s in a_wins} == {f"a-{run}"}, node
            assert {statuses[s] for s in b_wins} == {f"b-{run}"}, node
        # every table, every row: heartbeats pause while the exporter is stopped
        stopped = edgesla("stack", "stop", "exporter", "--state-dir", str(layout.state_dir))
        assert stopped.returncode == 0, stopped.stderr
        try:
            try:
                eventually(
                    lambda: _table_digests(pg_a) == _table_digests(pg_b), timeout=30, interval=0.2
                )
            except AssertionError:
                pytest.fail(f"the masters differ after the heal: {_differences(pg_a, pg_b)}")
        finally:
            started = edgesla("stack", "start", "exporter", "--state-dir", str(layout.state_dir))
            assert started.returncode in (0, 1), started.stderr


# --- latency on the link ---------------------------------------------------------------------


def _apply_delay(origin: psycopg.Connection, peer: psycopg.Connection, n: int = 5) -> list[float]:
    """Seconds from a row's commit on ``origin`` to its arrival on ``peer``, ``n`` times."""
    delays = []
    for _ in range(n):
        sid = f"chaos-lat-{uuid.uuid4().hex[:10]}"
        _insert(origin, sid)
        written = time.monotonic()
        query = "SELECT 1 FROM public.subscriber WHERE subscriber_id = %s"
        eventually(lambda q=query, s=sid: peer.execute(q, (s,)).fetchone(), 30, 0.01)
        delays.append(time.monotonic() - written)
    return delays


def test_latency_on_the_replication_link_shows_in_the_lag_and_the_exporter_stays_healthy(
    repl_stack: Layout,
) -> None:
    """pg-a → pg-b replicates through a proxy adding 2 s each way; pg-b → pg-a does not."""
    layout, delay, window = repl_stack, 2.0, 20.0
    origin, peer = "pg-a", "pg-b"
    sub = subscription_name(origin, peer)
    direct = replication_dsn(layout, origin)
    via_proxy = direct.replace(f"port={layout.pg_port(origin)}", f"port={PROXY_PORT}")
    upstream = (REPLICATION_HOST, layout.pg_port(origin))
    with (
        _pg(layout, origin) as pg_a,
        _pg(layout, peer) as pg_b,
        _scraper(layout) as scraper,
        DelayProxy((REPLICATION_HOST, PROXY_PORT), upstream, delay) as proxy,
    ):
        _wait_healthy(scraper)
        # the new connection restarts the apply worker: one probe run may see it stopped
        pg_b.execute(f"ALTER SUBSCRIPTION {sub} CONNECTION '{via_proxy}'")
        try:
            switched = time.monotonic()
            eventually(lambda: proxy.connections > 0, timeout=30, interval=0.1)
            # ~30 s: the worker restarts (up to 5 s), then its handshake (SSL request, startup,
            # IDENTIFY_SYSTEM, START_REPLICATION, ...) pays 2 x delay per round trip
            first = time.monotonic() - switched + _apply_delay(pg_a, pg_b, 1)[0]
            # steady state: a full probe interval after the first row came through the proxy
            time.sleep(PROBE_INTERVAL + delay)
            start = time.monotonic()
            applied = _apply_delay(pg_a, pg_b, 5)
            time.sleep(max(0.0, start + window - time.monotonic()))
            end = time.monotonic()
        finally:
            pg_b.execute(f"ALTER SUBSCRIPTION {sub} CONNECTION '{direct}'")
        steady = scraper.between(start, end)
        _wait_healthy(scraper, 60)

    delayed = [v for s in steady if (v := _lag(s, origin, peer)) is not None]
    control = [v for s in steady if (v := _lag(s, peer, origin)) is not None]
    figures = {
        "delay_each_way_s": delay,
        "first_row_after_reconnect_s": round(first, 2),
        "row_apply_delay_s": [round(d, 3) for d in applied],
        "lag_delayed_pair_s": {
            "min": round(min(delayed), 3),
            "median": round(statistics.median(delayed), 3),
            "max": round(max(delayed), 3),
        },
        "lag_other_pair_median_s": round(statistics.median(control), 3),
        "replication_target_up_share": _up_share(steady, "pg-multimaster"),
        "failed_runs_during_delay": _failures(steady[-1]) - _failures(steady[0]),
        **_metrics_figures(scraper, start, end),
    }
    _report("latency", figures)

    # a row takes about the added delay (one way) to arrive, and the lag says so
    assert delay * 0.9 <= statistics.median(applied) <= delay + 1.0, figures
    assert min(delayed) >= delay * 0.8, figures
    assert statistics.median(delayed) <= delay + 2.0, figures
    assert statistics.median(control) < delay * 0.75, figures
    # slow is not down: the exporter keeps reporting a healthy, replicating set
    assert figures["replication_target_up_share"] == 1.0, figures
    assert figures["failed_runs_during_delay"] == 0, figures
    assert figures["metrics_p99_ms"] < METRICS_P99_BOUND * 1e3, figures


def _failures(scrape: Scrape) -> float:
    return (
        scrape.value("edgesla_probe_results_total", target="pg-multimaster", result="failure")
        or 0.0
    )


# --- the stack's own fault drills: a master restarted, an etcd member stopped ----------------


def _stack(layout: Layout, *args: str) -> float:
    """Run `edgesla stack ARGS` on the private stack; the seconds it took."""
    started = time.monotonic()
    result = edgesla("stack", *args, "--state-dir", str(layout.state_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return time.monotonic() - started


def test_master_restarted_by_the_stack_is_back_in_replication(repl_stack: Layout) -> None:
    layout = repl_stack
    with _scraper(layout) as scraper:
        _wait_healthy(scraper)
        start = time.monotonic()
        took = _stack(layout, "restart", "pg-b")  # returns once both masters replicate again
        done = time.monotonic()
        _wait_healthy(scraper, 60)
        after = scraper.between(done)
    during = scraper.between(start, done)
    figures = {
        "restart_command_s": round(took, 2),
        "failure_reasons_seen": {
            target: _reasons(scraper.between(start), target)
            for target in ("pg-b-billing-lookup", "pg-multimaster")
        },
        "exporter_healthy_again_s": _first(after, _healthy, start),
        **_metrics_figures(scraper, start, done + PROBE_INTERVAL),
    }
    _report("restart pg-b", figures)
    assert during, "no scrape during the restart"
    assert figures["exporter_healthy_again_s"] is not None
    for reasons in figures["failure_reasons_seen"].values():  # type: ignore[attr-defined]
        # a node going away is refused or unhealthy, never a bug (error) or a config problem
        assert set(reasons) <= {"refused", "unhealthy", "timeout"}, figures
    assert figures["metrics_p99_ms"] < METRICS_P99_BOUND * 1e3, figures


def test_etcd_member_stopped_keeps_quorum_and_the_exporter_counts_it(repl_stack: Layout) -> None:
    layout = repl_stack

    def healthy_members(scrape: Scrape) -> float | None:
        return scrape.value(conv.CONTROLPLANE_MEMBERS_HEALTHY, component="etcd")

    with _scraper(layout) as scraper:
        eventually(lambda: scraper.scrapes and healthy_members(scraper.scrapes[-1]) == 3.0, 60)
        stopped = time.monotonic()
        _stack(layout, "stop", "etcd2")
        try:
            eventually(lambda: healthy_members(scraper.scrapes[-1]) == 2.0, 3 * PROBE_INTERVAL)
            seen = time.monotonic()
            time.sleep(PROBE_INTERVAL)  # one more probe run with the member down
            status = edgesla("stack", "status", "--state-dir", str(layout.state_dir), "--json")
        finally:
            _stack(layout, "start", "etcd2")
        started = time.monotonic()
        eventually(lambda: healthy_members(scraper.scrapes[-1]) == 3.0, 3 * PROBE_INTERVAL)
        back = time.monotonic()
    down = scraper.between(seen, started)
    figures = {
        "detected_s": round(seen - stopped, 2),
        "etcd_target_up_share_while_stopped": _up_share(down, "etcd"),
        "back_to_3_after_start_s": round(back - started, 2),
        **_metrics_figures(scraper, stopped, started),
    }
    _report("stop/start etcd2", figures)
    assert status.returncode == 1
    etcd2 = next(c for c in json.loads(status.stdout)["components"] if c["name"] == "etcd2")
    assert (etcd2["state"], etcd2["detail"]) == ("stopped", "stopped (edgesla stack stop)")
    # two of three members keep quorum: the etcd target stays up the whole time
    assert figures["etcd_target_up_share_while_stopped"] == 1.0, figures
    assert figures["metrics_p99_ms"] < METRICS_P99_BOUND * 1e3, figures
