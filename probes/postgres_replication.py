"""postgres_replication: end-to-end lag of every origin→peer pair of a multi-master set.

Two functions, both following the probe contract (never raise, return a ProbeResult):

    beat(target, timeout)    every node upserts its own row in the heartbeat table:
                             origin = node name, beat_at = clock_timestamp(), seq = seq + 1.
                             The exporter runs it every ``target.heartbeat_interval``.
    probe(target, timeout)   reads, on every node, what has arrived from the others, and why.

**The heartbeat age is the truth; the views explain.** On a peer, ``now() - beat_at`` of
the newest beat applied from an origin is how stale that peer's copy of the origin's data is:
it covers the whole path (WAL written, decoded, sent, received, applied, committed) and grows
whenever anything on that path stops. The statistics views do not: measured on this stack
(docs/ENVIRONMENT.md, "Measuring lag"), with a subscription disabled the walsender row simply
disappears, and with the apply worker blocked by a lock ``pg_stat_replication``'s lag columns
stay *frozen at their old values*, while the heartbeat age grows linearly in both cases. For
logical replication the LSN columns say what was *sent*, not what was *applied*. So success is
decided by the heartbeats and by the apply workers running; the views are exported to explain
a failure:

    pg_stat_subscription          apply worker running (pid set), age of the last message
    pg_stat_subscription_stats    apply/sync error counts; PostgreSQL 18 conflict counters
                                  (confl_*), detected by column, so PostgreSQL 16 works too
    pg_stat_replication           write/flush/replay lag per walsender. NULL means "nothing in
                                  flight" (idle): exported as idle=1 and *no* lag sample,
                                  never as 0; plus the WAL byte distance to replay_lsn
    pg_replication_slots          slot active

**Clocks.** ``beat_at`` is stamped by the origin's clock and ``now()`` is read on the peer, so
the age is exact only when the hosts' clocks agree: run NTP (chrony) on every database host.
An offset between two hosts is added to one direction and subtracted from the other (a peer
whose clock is behind can even show a negative age); the age is exported signed, as measured.

**What makes a run fail**, in this order: a node that cannot be reached or queried (its own
reason: refused, auth, tls, timeout, ...), then ``unhealthy`` for a missing origin→peer
heartbeat row or a subscription whose apply worker is not running. A failed run still carries
every sample that could be measured. ``latency_seconds`` is the wall time of the whole run
(nodes are read in parallel).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg
from psycopg import sql

from edgesla import conventions as conv
from edgesla.config import PostgresNode, PostgresReplicationTarget
from probes import _pg
from probes._result import ProbeResult, Reason, Sample

__all__ = ["beat", "probe"]

T = TypeVar("T")

_LAG_KINDS = ("write", "flush", "replay")
_CONFLICT_PREFIX = "confl_"


# --- beat ------------------------------------------------------------------------------------


def beat(target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
    """Every node writes its own heartbeat row; success when every node wrote."""
    return _guarded(lambda: _beat(target, timeout))


def _beat(target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
    start = time.perf_counter()
    outcomes = _each_node(target.nodes, lambda node: _beat_node(target, node, timeout))
    latency = time.perf_counter() - start
    detail = ", ".join(
        f"{node.name} seq {seq}" if err is None else f"{err[1]} [{err[0]}]"
        for node, (seq, err) in zip(target.nodes, outcomes, strict=True)
    )
    failed = next((err for _, err in outcomes if err is not None), None)
    if failed is not None:
        return ProbeResult.fail(failed[0], detail, latency)
    return ProbeResult.ok(latency, detail)


_Failure = tuple[Reason, str]


def _beat_node(
    target: PostgresReplicationTarget, node: PostgresNode, timeout: float
) -> tuple[int | None, _Failure | None]:
    query = sql.SQL(
        "INSERT INTO {table} AS hb (origin, beat_at, seq) VALUES (%s, clock_timestamp(), 1) "
        "ON CONFLICT (origin) DO UPDATE SET beat_at = clock_timestamp(), seq = hb.seq + 1 "
        "RETURNING hb.seq"
    ).format(table=_table(target))
    try:
        row = _pg.run(node, timeout, lambda conn: conn.execute(query, (node.name,)).fetchone())
    except Exception as exc:  # a probe reports every failure as a result
        return None, (_pg.reason_for(exc), _pg.describe(exc, node.name))
    if row is None:  # the last-write-wins trigger refused it: this node's clock went back
        return None, (Reason.UNHEALTHY, "heartbeat refused as older than the stored one")
    return int(row[0]), None


# --- probe -----------------------------------------------------------------------------------


@dataclass
class _NodeView:
    """What one node showed; filled as far as it got, even when a query failed."""

    node: str
    samples: list[Sample] = field(default_factory=list)
    beats: dict[str, float] = field(default_factory=dict)  # origin -> age on this node
    workers: dict[str, bool] = field(default_factory=dict)  # subscription -> running
    failure: _Failure | None = None
    notes: list[str] = field(default_factory=list)  # for the detail line; not failures


def probe(target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
    """Lag of every origin→peer pair, and the subscription/walsender/slot state; never raises."""
    return _guarded(lambda: _probe(target, timeout))


def _probe(target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
    start = time.perf_counter()
    views = _each_node(target.nodes, lambda node: _read_node(target, node, timeout))
    latency = time.perf_counter() - start
    names = [node.name for node in target.nodes]
    problems = _problems(names, views)
    samples = tuple(sample for view in views for sample in view.samples)
    detail = "; ".join([_summary(names, views), *problems])
    failed = next((view.failure for view in views if view.failure), None)
    if failed is not None:
        return ProbeResult.fail(failed[0], detail, latency, samples)
    if problems:
        return ProbeResult.fail(Reason.UNHEALTHY, detail, latency, samples)
    return ProbeResult.ok(latency, detail, samples)


def _read_node(target: PostgresReplicationTarget, node: PostgresNode, timeout: float) -> _NodeView:
    view = _NodeView(node.name)
    origins = [other.name for other in target.nodes if other.name != node.name]
    readers: tuple[Callable[[_pg.Conn], None], ...] = (
        lambda conn: _read_beats(conn, view, _table(target), origins),
        lambda conn: _read_subscriptions(conn, view),
        lambda conn: _read_subscription_stats(conn, view),
        lambda conn: _read_walsenders(conn, view),
        lambda conn: _read_slots(conn, view),
    )
    try:
        _pg.run(node, timeout, lambda conn: _run_readers(conn, view, readers), ping=True)
    except Exception as exc:  # a probe reports every failure as a result
        view.failure = view.failure or (_pg.reason_for(exc), _pg.describe(exc, node.name))
    return view


def _run_readers(
    conn: _pg.Conn, view: _NodeView, readers: Iterable[Callable[[_pg.Conn], None]]
) -> None:
    """Each reader on its own, so one refused view does not hide the others' samples.

    A timeout or a broken connection ends the node's turn (the rest would only wait too).
    """
    for read in readers:
        try:
            read(conn)
        except psycopg.Error as exc:
            if conn.broken or isinstance(exc, psycopg.errors.QueryCanceled):
                raise
            view.failure = view.failure or (
                _pg.reason_for(exc),
                _pg.describe(exc, view.node),
            )


def _read_beats(conn: _pg.Conn, view: _NodeView, table: sql.Composable, origins: list[str]) -> None:
    query = sql.SQL(
        "SELECT origin, extract(epoch FROM now() - beat_at)::float8, seq "
        "FROM {table} WHERE origin = ANY(%s)"
    ).format(table=table)
    for origin, age, seq in conn.execute(query, (origins,)):
        labels = {"origin": str(origin), "peer": view.node}
        view.beats[str(origin)] = float(age)
        view.samples.append(Sample(conv.PG_REPLICATION_LAG_SECONDS, float(age), labels))
        view.samples.append(Sample(conv.PG_HEARTBEAT_SEQ, float(seq), labels))


def _read_subscriptions(conn: _pg.Conn, view: _NodeView) -> None:
    # relid IS NULL: the apply worker, not table-sync workers; leader_pid IS NULL: not a
    # parallel apply worker. A subscription without a running worker still has its row.
    rows = conn.execute(
        "SELECT subname, pid IS NOT NULL, "
        "extract(epoch FROM now() - last_msg_receipt_time)::float8 "
        "FROM pg_catalog.pg_stat_subscription WHERE relid IS NULL AND leader_pid IS NULL "
        "ORDER BY subname"
    )
    for name, running, receipt_age in rows:
        labels = {"node": view.node, "subscription": str(name)}
        view.workers[str(name)] = bool(running)
        view.samples.append(Sample(conv.PG_SUBSCRIPTION_WORKER_UP, float(running), labels))
        if receipt_age is not None:
            view.samples.append(
                Sample(conv.PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS, float(receipt_age), labels)
            )


def _read_subscription_stats(conn: _pg.Conn, view: _NodeView) -> None:
    """Counters by column name: PostgreSQL 18 adds confl_* columns, 16 lacks them."""
    cur = conn.execute("SELECT * FROM pg_catalog.pg_stat_subscription_stats ORDER BY subname")
    columns = [column.name for column in cur.description or ()]
    counters = {
        "apply_error_count": conv.PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL,
        "sync_error_count": conv.PG_SUBSCRIPTION_SYNC_ERRORS_TOTAL,
    }
    for row in cur:
        values = dict(zip(columns, row, strict=True))
        labels = {"node": view.node, "subscription": str(values["subname"])}
        for column, metric in counters.items():
            if values.get(column) is not None:
                view.samples.append(Sample(metric, float(values[column]), labels, "counter"))
        for column in columns:
            if column.startswith(_CONFLICT_PREFIX) and values[column] is not None:
                kind = column.removeprefix(_CONFLICT_PREFIX)
                view.samples.append(
                    Sample(
                        conv.PG_SUBSCRIPTION_CONFLICTS_TOTAL,
                        float(values[column]),
                        {**labels, "type": kind},
                        "counter",
                    )
                )


def _read_walsenders(conn: _pg.Conn, view: _NodeView) -> None:
    """Lag per kind only when measured; all three NULL = idle (caught up, nothing in flight).

    A role without ``pg_read_all_stats`` (part of ``pg_monitor``) sees other roles'
    walsenders with every column NULL (``state`` included): such a row is skipped and said in
    the detail, never passed off as idle.
    """
    rows = conn.execute(
        "SELECT state IS NULL, application_name, extract(epoch FROM write_lag)::float8, "
        "extract(epoch FROM flush_lag)::float8, extract(epoch FROM replay_lag)::float8, "
        "pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery() "
        "THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn() END, "
        "replay_lsn)::float8 "
        "FROM pg_catalog.pg_stat_replication ORDER BY application_name"
    )
    for hidden, name, *lags, distance in rows:
        if hidden:
            view.notes.append(f"{view.node}: a walsender is hidden from this role (pg_monitor?)")
            continue
        labels = {"node": view.node, "application_name": str(name)}
        for kind, lag in zip(_LAG_KINDS, lags, strict=True):
            if lag is not None:
                view.samples.append(
                    Sample(conv.PG_WALSENDER_LAG_SECONDS, float(lag), {**labels, "kind": kind})
                )
        idle = all(lag is None for lag in lags)
        view.samples.append(Sample(conv.PG_WALSENDER_IDLE, float(idle), labels))
        if distance is not None:
            view.samples.append(Sample(conv.PG_WALSENDER_DISTANCE_BYTES, float(distance), labels))


def _read_slots(conn: _pg.Conn, view: _NodeView) -> None:
    rows = conn.execute(
        "SELECT slot_name, active FROM pg_catalog.pg_replication_slots ORDER BY slot_name"
    )
    for slot, active in rows:
        labels = {"node": view.node, "slot": str(slot)}
        view.samples.append(Sample(conv.PG_SLOT_ACTIVE, float(bool(active)), labels))


# --- verdict ---------------------------------------------------------------------------------


def _problems(names: Sequence[str], views: Sequence[_NodeView]) -> list[str]:
    """What makes a reachable set unhealthy: a missing beat row, a stopped apply worker."""
    problems = []
    for view in views:
        if view.failure is not None:
            problems.append(view.failure[1])
            continue
        problems += [
            f"no heartbeat row from {origin} on {view.node}"
            for origin in names
            if origin != view.node and origin not in view.beats
        ]
        problems += [
            f"apply worker of {sub} on {view.node} not running"
            for sub, running in view.workers.items()
            if not running
        ]
    return problems


def _summary(names: Sequence[str], views: Sequence[_NodeView]) -> str:
    by_node = {view.node: view for view in views}
    pairs = [
        f"{origin}→{peer} {by_node[peer].beats[origin]:.2f}s"
        for origin in names
        for peer in names
        if peer != origin and origin in by_node[peer].beats
    ]
    workers = [running for view in views for running in view.workers.values()]
    pairs.append(f"{sum(workers)}/{len(workers)} workers running")
    return ", ".join(pairs + sorted({note for view in views for note in view.notes}))


# --- helpers ---------------------------------------------------------------------------------


def _guarded(run: Callable[[], ProbeResult]) -> ProbeResult:
    """The contract's last line of defence: a bug becomes ``error``, never an exception."""
    try:
        return run()
    except Exception as exc:
        return ProbeResult.fail(Reason.ERROR, _pg.describe(exc, f"bug ({type(exc).__name__})"))


def _table(target: PostgresReplicationTarget) -> sql.Identifier:
    """``public.repl_heartbeat`` → ``"public"."repl_heartbeat"``, quoted by psycopg."""
    return sql.Identifier(*target.heartbeat_table.split("."))


def _each_node(nodes: Sequence[PostgresNode], work: Callable[[PostgresNode], T]) -> list[T]:
    """``work`` on every node at once: a run costs the slowest node, not the sum."""
    with ThreadPoolExecutor(max_workers=len(nodes), thread_name_prefix="edgesla-pg") as pool:
        return list(pool.map(work, nodes))
