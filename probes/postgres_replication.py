"""postgres_replication: end-to-end lag of every origin→peer pair of a multi-master set.

Two duties, both following the probe contract (never raise, return a ProbeResult):

    beat = Heartbeat()       the exporter runs it every ``target.heartbeat_interval``: it writes
                             a beat on every node, then polls every node until it shows the
                             others' beats, and measures the lag of every pair. It owns the lag
                             series (published at heartbeat resolution).
    probe(target, timeout)   every ``interval``: is every heartbeat row there, does every apply
                             worker run, and why not (the statistics views).

**The lag** (``edgesla_pg_replication_lag_seconds{origin, peer}``), once per beat cycle: the
time the peer took to apply the beat this exporter wrote on the origin in this cycle (it
polls the peer until it shows it: the true apply delay, on the exporter's own monotonic clock,
no host's clock in it), and while that beat is still missing when the cycle ends, the age of
the oldest beat the peer is missing, which grows second by second during a stall. Every write
of the origin's row adds 1 to its ``seq``; showing ``seq = a``, the peer misses the beats from
``a + 1`` on, and the exporter knows when it wrote each of its beats. A beat written by
another writer (the other exporter of an HA pair) is known by the origin's clock, returned
by this exporter's next write; one older than anything this exporter knows (it restarted
during a stall) is bounded by the age of the newest beat the peer applied, from the peer's
copy of the row's ``beat_at`` corrected by the origin's measured clock offset, and the detail
says so. ``edgesla.probes._pg_lag`` holds the full definition and its cases.
``edgesla_pg_replication_lag_error_seconds`` is the half-width of the lag's error bar: half
the polling window and round trips, plus the origin's offset error where the origin's clock is
read (+Inf for the lower bound given when the peer has no row of the origin yet).

Before, this prober exported the age of the newest applied beat (``now() - beat_at``, as
pt-heartbeat does), read every probe interval: it included how stale the newest beat was, so
it swung by up to one heartbeat interval with the phase it was read at, and it refreshed only
at the probe interval. The lag does neither: the beat duty owns it and publishes it at
heartbeat resolution (the exporter renders a duty's samples beside the probe's).

**Clocks.** Every beat cycle also times a ``SELECT clock_timestamp()`` on every node:
``edgesla_pg_clock_offset_seconds{node}`` is the node's clock minus the exporter's (server time
minus the round trip's midpoint, the shortest of the last 8 round trips: NTP's clock filter),
``edgesla_pg_clock_offset_error_seconds{node}`` half that round trip. Run NTP (chrony) on every
host anyway: the offset only corrects the cases above that read a host's clock.

**The probe's views explain; the heartbeats are the truth.** Measured on this stack
(docs/ENVIRONMENT.md, "Measuring lag"), with a subscription disabled the walsender row simply
disappears, and with the apply worker blocked by a lock ``pg_stat_replication``'s lag columns
stay *frozen at their old values*, while the heartbeat lag grows linearly in both cases. For
logical replication the LSN columns say what was *sent*, not what was *applied*. So success is
decided by the heartbeat rows and by the apply workers running; the views are exported to
explain a failure:

    pg_stat_subscription          apply worker running (pid set), age of the last message
    pg_stat_subscription_stats    apply/sync error counts; PostgreSQL 18 conflict counters
                                  (confl_*), detected by column, so PostgreSQL 16 works too
    pg_stat_replication           write/flush/replay lag per walsender. NULL means "nothing in
                                  flight" (idle): exported as idle=1 and *no* lag sample,
                                  never as 0; plus the WAL byte distance to replay_lsn
    pg_replication_slots          slot active

**What makes a run fail**, in this order: a node that cannot be reached or queried (its own
reason: refused, auth, tls, timeout, ...), then ``unhealthy`` for a missing origin→peer
heartbeat row or a subscription whose apply worker is not running. A failed run still carries
every sample that could be measured. ``latency_seconds`` is the wall time of the whole run
(nodes are read in parallel). A beat cycle's result is not counted as a probe run; its
samples are published beside the probe's.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from edgesla import conventions as conv
from edgesla.config import PostgresNode, PostgresReplicationTarget
from edgesla.probes import _pg
from edgesla.probes._pg_lag import (
    Beat,
    Lag,
    Ledger,
    OffsetFilter,
    Stamp,
    apply_delay,
    estimate,
    poll_step,
)
from edgesla.probes._result import ProbeResult, Reason, Sample

__all__ = ["Heartbeat", "beat", "probe"]

_LAG_KINDS = ("write", "flush", "replay")
_CONFLICT_PREFIX = "confl_"


# --- beat ------------------------------------------------------------------------------------

_Failure = tuple[Reason, str]
_Key = tuple[str, str, str]  # (dsn, heartbeat table, node name): one origin's row

#: Each write locks the row first (the join makes ``prev`` run before the write), so writers
#: queue on the lock and each one gets back the beat it replaced.
_UPSERT = (
    "WITH prev AS (SELECT seq, extract(epoch FROM beat_at)::float8 AS at FROM {table} "
    "WHERE origin = %(origin)s FOR UPDATE) "
    "INSERT INTO {table} AS hb (origin, beat_at, seq) "
    "SELECT %(origin)s, clock_timestamp(), 1 FROM (VALUES (1)) AS one LEFT JOIN prev ON true "
    "ON CONFLICT (origin) DO UPDATE SET beat_at = clock_timestamp(), seq = hb.seq + 1 "
    "RETURNING hb.seq, extract(epoch FROM hb.beat_at)::float8, "
    "(SELECT seq FROM prev), (SELECT at FROM prev)"
)
_CLOCK = "SELECT extract(epoch FROM clock_timestamp())::float8"
#: Share of the cycle's budget (the beat's timeout) spent waiting for the beats to arrive.
_POLL_SHARE = 0.8
#: The least a poll gets when the writes used up the budget (one answer from a live server).
_MIN_RUN = 0.05
_APPLIED = (
    "SELECT origin, seq, extract(epoch FROM beat_at)::float8 FROM {table} WHERE origin = ANY(%s)"
)


@dataclass(frozen=True)
class _Written:
    """One node's half of a beat cycle: its clock read, and the beat it wrote."""

    clock: tuple[Stamp, float] | None = None  # the round trip, the server's clock_timestamp()
    beat: Beat | None = None
    replaced: Beat | None = None  # the beat it overwrote, when it was seq - 1
    failure: _Failure | None = None


@dataclass(frozen=True)
class _Applied:
    """What one node showed of the others' rows at its last poll, and which of this cycle's
    beats it was seen to apply (origin -> apply delay)."""

    read: Stamp | None = None
    rows: dict[str, tuple[int, float]] = field(default_factory=dict)  # origin -> (seq, beat_at)
    delays: dict[str, Lag] = field(default_factory=dict)
    failure: _Failure | None = None


class Heartbeat:
    """The beat duty of one exporter: remembers which beats it wrote and when.

    The module's ``beat`` is the instance an exporter process uses; a second instance is a
    second exporter (an HA pair), a new one an exporter restarted. Thread-safe: a ``/probe``
    may run a cycle while the schedule runs one.
    """

    def __init__(self) -> None:
        self._ledgers: defaultdict[_Key, Ledger] = defaultdict(Ledger)
        self._clocks: defaultdict[_Key, OffsetFilter] = defaultdict(OffsetFilter)
        self._lock = threading.Lock()
        #: target name -> (monotonic time, (origin, peer) -> lag seconds) of the last cycle
        self._latest: dict[str, tuple[float, dict[tuple[str, str], float]]] = {}

    def recent_lags(self, target: PostgresReplicationTarget) -> dict[tuple[str, str], float]:
        """The lags the last cycle measured, if it ran within three heartbeat intervals."""
        with self._lock:
            when, lags = self._latest.get(target.name, (-math.inf, {}))
        return lags if time.monotonic() - when <= 3 * target.heartbeat_interval else {}

    def __call__(self, target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
        """Write a beat on every node, then measure every pair; never raises."""
        return _pg.never_raises(lambda: self._cycle(target, timeout))

    def _cycle(self, target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
        start, begun = time.perf_counter(), time.monotonic()
        nodes, table = target.nodes, _table(target)
        writes = _pg.each_node(nodes, lambda node: _write(node, table, timeout))
        with self._lock:
            for node, written in zip(nodes, writes, strict=True):
                self._remember(_key(target, node), written)
        names = [node.name for node in nodes]
        awaited = {n.name: w.beat for n, w in zip(nodes, writes, strict=True) if w.beat}
        deadline, spent = begun + _POLL_SHARE * timeout, begun + timeout
        reads = _pg.each_node(
            nodes, lambda node: _poll(node, table, spent, deadline, names, awaited)
        )
        with self._lock:
            lags = self._measure(target, reads)
            offsets = {node.name: self._clocks[_key(target, node)].best() for node in nodes}
            self._latest[target.name] = (
                time.monotonic(),
                {pair: lag.seconds for pair, (_, lag) in lags.items() if lag is not None},
            )
        latency = time.perf_counter() - start
        samples = [Sample(conv.PG_HEARTBEAT_INTERVAL_SECONDS, target.heartbeat_interval)]
        for name, offset in offsets.items():
            if offset is not None:
                labels = {"node": name}
                samples.append(Sample(conv.PG_CLOCK_OFFSET_SECONDS, offset.seconds, labels))
                samples.append(Sample(conv.PG_CLOCK_OFFSET_ERROR_SECONDS, offset.error, labels))
        problems: list[str] = []
        for (origin, peer), (seq, lag) in lags.items():
            labels = {"origin": origin, "peer": peer}
            if seq is None:
                problems.append(f"no heartbeat row from {origin} on {peer}")
            else:
                samples.append(Sample(conv.PG_HEARTBEAT_SEQ, float(seq), labels))
            if lag is not None:
                samples.append(Sample(conv.PG_REPLICATION_LAG_SECONDS, lag.seconds, labels))
                samples.append(Sample(conv.PG_REPLICATION_LAG_ERROR_SECONDS, lag.error, labels))
        detail = "; ".join([_beat_summary(names, writes, lags), *problems])
        failures = [w.failure for w in writes] + [r.failure for r in reads]
        failed = next((f for f in failures if f is not None), None)
        if failed is not None:
            return ProbeResult.fail(failed[0], detail, latency, tuple(samples))
        if problems:
            return ProbeResult.fail(Reason.UNHEALTHY, detail, latency, tuple(samples))
        return ProbeResult.ok(latency, detail, tuple(samples))

    def _remember(self, key: _Key, written: _Written) -> None:
        if written.clock is not None:
            self._clocks[key].add(*written.clock)
        if written.beat is not None:
            ledger = self._ledgers[key]
            if written.replaced is not None:
                ledger.record(written.replaced)
            ledger.record(written.beat)

    def _measure(
        self, target: PostgresReplicationTarget, reads: list[_Applied]
    ) -> dict[tuple[str, str], tuple[int | None, Lag | None]]:
        """(origin, peer) -> (seq the peer applied, lag) for every peer that could be read."""
        lags: dict[tuple[str, str], tuple[int | None, Lag | None]] = {}
        for origin in target.nodes:
            key = _key(target, origin)
            ledger, offset = self._ledgers[key], self._clocks[key].best()
            applied: list[int | None] = []
            for peer, seen in zip(target.nodes, reads, strict=True):
                if peer is origin or seen.read is None:
                    continue
                row = seen.rows.get(origin.name)
                seq, epoch = row if row is not None else (None, None)
                lag = seen.delays.get(origin.name)  # this cycle's beat arrived: its delay
                if lag is None:  # still missing: the age of the oldest missing beat
                    lag = estimate(ledger, seq, epoch, seen.read, offset)
                lags[(origin.name, peer.name)] = (seq, lag)
                applied.append(seq)
            if applied and len(applied) == len(target.nodes) - 1 and None not in applied:
                ledger.prune(min(seq for seq in applied if seq is not None))
        return lags


#: The instance the exporter and ``edgesla probe`` use: one per process.
beat = Heartbeat()


def _key(target: PostgresReplicationTarget, node: PostgresNode) -> _Key:
    return (node.dsn, target.heartbeat_table, node.name)


def _write(node: PostgresNode, table: sql.Composable, timeout: float) -> _Written:
    """Time a clock read, then write this node's beat; a failure keeps the clock read."""
    upsert = sql.SQL(_UPSERT).format(table=table)
    clock: list[tuple[Stamp, float]] = []

    def work(conn: _pg.Conn) -> _Written:
        clock.clear()  # run() may retry on a fresh connection
        sent, wall = time.monotonic(), time.time()
        server = conn.execute(_CLOCK).fetchone()
        if server is None:
            raise psycopg.DataError("SELECT clock_timestamp() returned no row")
        clock.append((Stamp.of(sent, wall, time.monotonic()), float(server[0])))
        sent, wall = time.monotonic(), time.time()
        row = conn.execute(upsert, {"origin": node.name}).fetchone()
        stamp = Stamp.of(sent, wall, time.monotonic())
        if row is None:  # the last-write-wins trigger refused it: this node's clock went back
            failure = (Reason.UNHEALTHY, f"{node.name}: heartbeat refused as older than the "
                       "stored one (did this node's clock go back?)")  # fmt: skip
            return _Written(clock[0], failure=failure)
        seq, at, prev_seq, prev_at = row
        own = Beat(int(seq), float(at), stamp.received, stamp)
        replaced = None
        if prev_seq is not None and int(prev_seq) == own.seq - 1:
            replaced = Beat(int(prev_seq), float(prev_at), stamp.received)
        return _Written(clock[0], own, replaced)

    try:
        return _pg.run(node, timeout, work)
    except Exception as exc:  # a probe reports every failure as a result
        failure = (_pg.reason_for(exc), _pg.describe(exc, node.name))
        return _Written(clock[0] if clock else None, failure=failure)


def _poll(
    node: PostgresNode,
    table: sql.Composable,
    spent: float,
    deadline: float,
    names: Sequence[str],
    written: dict[str, Beat],
) -> _Applied:
    """Read the others' rows on ``node`` until it shows every beat of this cycle (``written``:
    origin -> its beat) or until ``deadline``; the step grows with the beats' age. ``spent``:
    when the cycle's budget is used up (a node frozen during the writes leaves the polls
    almost nothing: the cycle still ends by its timeout)."""
    query = sql.SQL(_APPLIED).format(table=table)
    origins = [name for name in names if name != node.name]
    awaited = {origin: beat for origin, beat in written.items() if origin != node.name}

    def work(conn: _pg.Conn) -> _Applied:
        delays: dict[str, Lag] = {}
        missing_since = {o: beat.stamp.sent for o, beat in awaited.items() if beat.stamp}
        while True:
            sent, wall = time.monotonic(), time.time()
            rows = {
                str(origin): (int(seq), float(at))
                for origin, seq, at in conn.execute(query, (origins,)).fetchall()
            }
            read = Stamp.of(sent, wall, time.monotonic())
            for origin, beat in awaited.items():
                row = rows.get(origin)
                if origin in delays or beat.stamp is None:
                    continue
                if row is not None and row[0] >= beat.seq:
                    delays[origin] = apply_delay(beat.stamp, missing_since[origin], read)
                else:
                    missing_since[origin] = read.sent
            waiting = [beat for origin, beat in awaited.items() if origin not in delays]
            now = time.monotonic()
            if not waiting or now >= deadline:
                return _Applied(read, rows, delays)
            oldest = min(beat.known_at for beat in waiting)
            time.sleep(max(0.0, min(poll_step(now - oldest), deadline - now)))

    try:
        return _pg.run(node, max(_MIN_RUN, spent - time.monotonic()), work)
    except Exception as exc:  # a probe reports every failure as a result
        return _Applied(failure=(_pg.reason_for(exc), _pg.describe(exc, node.name)))


def _beat_summary(
    names: Sequence[str],
    writes: Sequence[_Written],
    lags: dict[tuple[str, str], tuple[int | None, Lag | None]],
) -> str:
    wrote = ", ".join(
        f"{name} seq {w.beat.seq}"
        if w.beat is not None
        else f"{w.failure[1]} [{w.failure[0]}]"
        if w.failure is not None
        else f"{name} ?"
        for name, w in zip(names, writes, strict=True)
    )
    pairs = [f"{o}→{p} {_lag_text(lag)}" for (o, p), (_, lag) in lags.items() if lag is not None]
    return f"wrote {wrote}" + (f"; lag {', '.join(pairs)}" if pairs else "")


def _lag_text(lag: Lag) -> str:
    text = _seconds(lag.seconds)
    if lag.how == "lower bound":
        return f"≥ {text} (no row yet: since this exporter's first beat)"
    bound = f" ±{_seconds(lag.error)}" if math.isfinite(lag.error) else " (offset unknown)"
    if lag.how == "bound":
        return (
            f"≤ {text}{bound} (upper bound, from the newest applied beat: the oldest "
            "missing one is not known to this exporter)"
        )
    if lag.how == "origin clock":
        return f"{text}{bound} (another writer's beat, by the origin's clock)"
    return text


def _seconds(value: float) -> str:
    return f"{value:.2f}s" if value >= 1 else f"{value * 1e3:.1f}ms"


# --- probe -----------------------------------------------------------------------------------


@dataclass
class _NodeView:
    """What one node showed; filled as far as it got, even when a query failed."""

    node: str
    samples: list[Sample] = field(default_factory=list)
    beats: dict[str, int] = field(default_factory=dict)  # origin -> seq applied here
    workers: dict[str, bool] = field(default_factory=dict)  # subscription -> running
    failure: _Failure | None = None
    notes: list[str] = field(default_factory=list)  # for the detail line; not failures


def probe(target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
    """Lag of every origin→peer pair, and the subscription/walsender/slot state; never raises."""
    return _pg.never_raises(lambda: _probe(target, timeout))


def _probe(target: PostgresReplicationTarget, timeout: float) -> ProbeResult:
    start = time.perf_counter()
    views = _pg.each_node(target.nodes, lambda node: _read_node(target, node, timeout))
    latency = time.perf_counter() - start
    names = [node.name for node in target.nodes]
    problems = _problems(names, views)
    problems += [
        f"replication stalled: {origin}→{peer} lag {lag:.1f}s over max_lag {target.max_lag:g}s"
        for (origin, peer), lag in sorted(beat.recent_lags(target).items())
        if lag > target.max_lag
    ]
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
    """Which heartbeat rows are there. The lag and seq series belong to the beat duty, which
    measures them at heartbeat resolution: one writer per series."""
    query = sql.SQL("SELECT origin, seq FROM {table} WHERE origin = ANY(%s)").format(table=table)
    for origin, seq in conn.execute(query, (origins,)):
        view.beats[str(origin)] = int(seq)


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
        f"{origin}→{peer} seq {by_node[peer].beats[origin]}"
        for origin in names
        for peer in names
        if peer != origin and origin in by_node[peer].beats
    ]
    workers = [running for view in views for running in view.workers.values()]
    pairs.append(f"{sum(workers)}/{len(workers)} workers running")
    return ", ".join(pairs + sorted({note for view in views for note in view.notes}))


# --- helpers ---------------------------------------------------------------------------------


def _table(target: PostgresReplicationTarget) -> sql.Identifier:
    return _pg.identifier(target.heartbeat_table)
