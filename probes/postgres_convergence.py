"""postgres_convergence: do the masters hold the same rows, once the writes have settled?

The seed relies on last-write-wins between PostgreSQL masters: every replicated table carries
a modification timestamp, and the newest write of a row must end up on every node. Lag and
apply errors (``postgres_replication``) say replication runs; they cannot say that the rows
agree — a write made with replication off, a trigger disabled on one node, a conflict
resolved the wrong way, a ``SKIP``ped transaction all leave rows that differ for good. This
prober compares the tables themselves:

    - name: pg-convergence
      prober: postgres_convergence
      interval: 5m
      timeout: 1m
      settle_time: 2m          # rows written more recently are left out
      tables: [public.subscriber, public.billing_account]
      nodes:
        - {name: pg-a, dsn: host=10.0.0.5 dbname=edgesla user=edgesla_reader, password_env: PGPW}
        - {name: pg-b, dsn: host=10.0.0.6 dbname=edgesla user=edgesla_reader, password_env: PGPW}

**How** (``edgesla.probes._pg_chunks`` asks the queries, ``edgesla.probes._pg_ranges`` holds the
arithmetic
and its cases), per table:

1. *shape*, on the first node that answers: the single-column primary key, the columns in
   order, and every ``chunk_rows``-th key in key order (an index-only scan): the chunk bounds;
2. *checksums*, on every node at once, one scan each: per chunk the number of settled rows
   (modified before ``now() - settle_time``) and the sum of a 64-bit hash of each row (every
   column, ``hash_record_extended``: a column type without an extended hash function, e.g.
   ``json``, makes that table's comparison a ``query_error``), plus the count of settling rows;
3. *rows*, only for the chunks whose checksums differ between two nodes (key-range
   predicates on the primary key), on the nodes concerned: every row's ``md5`` and whether
   it is settling; keys on one node only or with different hashes are divergent, keys
   settling on either node are left out.

Each node's queries run in one ``REPEATABLE READ READ ONLY`` transaction per table and step,
with the session settings that shape a row's text pinned (``TimeZone``, ``DateStyle``,
``IntervalStyle``, ``extra_float_digits``, ``bytea_output``), so equal rows hash equally on
every node. Only ``SELECT`` on the tables is needed (and the catalogs, readable by every
role): a read-only role is enough (docs/least-privilege-postgresql.md).

**Samples**, per table and node pair (labels ``table``, ``node``, ``peer``, in config order):
``edgesla_pg_convergence_success`` (1/0), ``_duration_seconds`` (the slower node's queries of
the pair, summed over the steps) and, only when the comparison ran to the end,
``_divergent_rows``; per table and node ``_settled_rows`` and ``_unsettled_rows``. A
comparison that failed exports no divergent count: missing, never 0.

**Verdict**: the run succeeds when every comparison ran to the end — the probe's success is
"could we measure", as for a lag: divergent rows are the *measurement* (the gauge, its alert
``EdgeslaPgRowsDiverged``, and the detail naming the table, the pair and a few keys), so a
data fault does not also count against the PoP's probe availability. A node or table that
could not be read fails the run with its reason (refused, auth, timeout, ...; ``config`` for a
table without a usable primary key). Everything ends by the timeout: the steps share one
deadline. ``latency_seconds`` is the wall time of the run.

Not yet: composite primary keys (such a table is a ``config`` failure that says so), and a
cap on the rows read when whole tables diverge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Generic, TypeVar

import psycopg

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.config import PostgresConvergenceTarget, PostgresNode
from edgesla.probes import _pg
from edgesla.probes import _pg_chunks as chunks_sql
from edgesla.probes._deadline import Deadline
from edgesla.probes._pg_chunks import Rows, Shape, Sums
from edgesla.probes._pg_ranges import Divergence, Version, compare_rows
from edgesla.probes._pg_ranges import differing_chunks as _differing
from edgesla.probes._result import ProbeResult, Reason, Sample

__all__ = ["probe"]

T = TypeVar("T")
_Failure = tuple[Reason, str]


@dataclass(frozen=True)
class _Step(Generic[T]):
    """One table's share of a step on one node: its value or its failure, and its time."""

    value: T | None = None
    failure: _Failure | None = None
    seconds: float = 0.0


@dataclass
class _Pair:
    """The comparison of one table on two nodes (indices into ``target.nodes``)."""

    table: str
    a: int
    b: int
    seconds: float = 0.0
    chunks: list[int] = field(default_factory=list)
    failure: _Failure | None = None
    divergence: Divergence | None = None


def probe(target: PostgresConvergenceTarget, timeout: float) -> ProbeResult:
    """Compare every table on every node pair; never raises."""
    return _pg.never_raises(lambda: _probe(target, timeout))


def _probe(target: PostgresConvergenceTarget, timeout: float) -> ProbeResult:
    start, deadline = time.perf_counter(), Deadline(timeout)
    nodes = target.nodes
    shapes = _shapes(target, deadline)
    ready = {table: step.value for table, step in shapes.items() if step.value is not None}

    def summed(node: PostgresNode) -> dict[str, _Step[Sums]]:
        return _on_node(
            node,
            deadline,
            ready,
            lambda conn, table: chunks_sql.checksums(conn, target, table, ready[table]),
        )

    sums = _pg.each_node(nodes, summed)
    pairs = [
        _Pair(table, a, b) for table in target.tables for a, b in combinations(range(len(nodes)), 2)
    ]
    for pair in pairs:
        _checked(pair, shapes[pair.table], sums[pair.a], sums[pair.b])
    wanted: dict[str, dict[str, set[int]]] = {node.name: {} for node in nodes}
    for pair in pairs:
        for side in (pair.a, pair.b) if pair.chunks else ():
            wanted[nodes[side].name].setdefault(pair.table, set()).update(pair.chunks)

    def read(node: PostgresNode) -> dict[str, _Step[Rows]]:
        chunks = wanted[node.name]
        return _on_node(
            node,
            deadline,
            chunks,
            lambda conn, table: chunks_sql.rows(conn, target, table, ready[table], chunks[table]),
        )

    reads = _pg.each_node(nodes, read)
    for pair in pairs:
        _compared(pair, reads[pair.a], reads[pair.b])
    return _verdict(target, pairs, sums, time.perf_counter() - start)


def _checked(
    pair: _Pair,
    shape: _Step[Shape],
    one: Mapping[str, _Step[Sums]],
    two: Mapping[str, _Step[Sums]],
) -> None:
    """After the checksums: the pair's failure, or the chunks it must read row by row."""
    if shape.failure is not None or shape.value is None:
        pair.failure = shape.failure or (Reason.ERROR, f"{pair.table}: no shape")
        return
    mine, theirs = one[pair.table], two[pair.table]
    pair.seconds = shape.seconds + max(mine.seconds, theirs.seconds)
    pair.failure = mine.failure or theirs.failure
    if mine.value is not None and theirs.value is not None:
        pair.chunks = _differing(mine.value.digests, theirs.value.digests)
        if not pair.chunks:
            pair.divergence = Divergence()  # the checksums agree: nothing to read


def _compared(pair: _Pair, one: Mapping[str, _Step[Rows]], two: Mapping[str, _Step[Rows]]) -> None:
    """After the row reads: the pair's divergence (or the read's failure)."""
    if pair.failure is not None or not pair.chunks:
        return
    mine, theirs = one[pair.table], two[pair.table]
    pair.seconds += max(mine.seconds, theirs.seconds)
    pair.failure = mine.failure or theirs.failure
    if mine.value is not None and theirs.value is not None:
        pair.divergence = compare_rows(
            _pick(mine.value, pair.chunks), _pick(theirs.value, pair.chunks)
        )


# --- steps -----------------------------------------------------------------------------------


def _shapes(target: PostgresConvergenceTarget, deadline: Deadline) -> dict[str, _Step[Shape]]:
    """Each table's shape from the first node that gives it (normally the first node); a
    table no node gives keeps the first failure."""
    shapes: dict[str, _Step[Shape]] = {}
    for node in target.nodes:
        missing = [t for t in target.tables if t not in shapes or shapes[t].value is None]
        if not missing:
            break
        got = _on_node(node, deadline, missing, lambda c, t: chunks_sql.shape(c, target, t))
        for table, step in got.items():
            before = shapes.get(table)
            failure = step.failure if before is None else before.failure
            seconds = step.seconds + (before.seconds if before is not None else 0.0)
            shapes[table] = _Step(step.value, None if step.value is not None else failure, seconds)
    return shapes


def _on_node(
    node: PostgresNode,
    deadline: Deadline,
    tables: Iterable[str],
    work: Callable[[_pg.Conn, str], T],
) -> dict[str, _Step[T]]:
    """``work(conn, table)`` for each table, each in its own read-only snapshot; a table that
    fails does not hide the others, a timeout or a lost connection ends the node's turn."""
    tables = list(tables)
    done: dict[str, _Step[T]] = {}

    def each(conn: _pg.Conn) -> None:
        done.clear()  # run() may retry on a fresh connection
        for table in tables:
            begun = time.perf_counter()
            try:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    conn.execute(chunks_sql.SESSION)
                    value = work(conn, table)
                done[table] = _Step(value, seconds=time.perf_counter() - begun)
            except (psycopg.Error, ConfigError) as exc:
                failure = (_pg.reason_for(exc), _pg.describe(exc, f"{node.name} {table}"))
                done[table] = _Step(failure=failure, seconds=time.perf_counter() - begun)
                if conn.broken or isinstance(exc, psycopg.errors.QueryCanceled):
                    raise

    if not tables:
        return {}
    try:
        if deadline.expired:
            raise TimeoutError(f"{node.name}: the timeout ({deadline.seconds:g}s) was spent")
        _pg.run(node, deadline.left(), each)
    except Exception as exc:  # a probe reports every failure as a result
        failure = (_pg.reason_for(exc), _pg.describe(exc, node.name))
        for table in tables:
            done.setdefault(table, _Step(failure=failure))
    return done


def _pick(rows: Rows, chunks: Sequence[int]) -> dict[object, Version]:
    """The rows of one pair's chunks (a node reads the union of its pairs' chunks)."""
    return {key: version for chunk in chunks for key, version in rows.get(chunk, {}).items()}


# --- verdict ---------------------------------------------------------------------------------


def _verdict(
    target: PostgresConvergenceTarget,
    pairs: Sequence[_Pair],
    sums: Sequence[Mapping[str, _Step[Sums]]],
    latency: float,
) -> ProbeResult:
    names = [node.name for node in target.nodes]
    samples: list[Sample] = []
    for index, name in enumerate(names):
        for table, step in sums[index].items():
            if step.value is not None:
                labels = {"table": table, "node": name}
                settled, unsettled = float(step.value.settled), float(step.value.unsettled)
                samples.append(Sample(conv.PG_CONVERGENCE_SETTLED_ROWS, settled, labels))
                samples.append(Sample(conv.PG_CONVERGENCE_UNSETTLED_ROWS, unsettled, labels))
    lines, problems = [], []
    failed: _Failure | None = None
    for pair in pairs:
        a, b = names[pair.a], names[pair.b]
        labels = {"table": pair.table, "node": a, "peer": b}
        ok = pair.failure is None and pair.divergence is not None
        samples.append(Sample(conv.PG_CONVERGENCE_SUCCESS, float(ok), labels))
        samples.append(Sample(conv.PG_CONVERGENCE_DURATION_SECONDS, pair.seconds, labels))
        where = f"{pair.table} {a}↔{b}"
        if not ok or pair.divergence is None:
            failed = failed or pair.failure or (Reason.ERROR, f"{where}: not compared")
            problems.append(f"{where}: not compared ({(pair.failure or failed)[1]})")
            continue
        found = pair.divergence
        samples.append(Sample(conv.PG_CONVERGENCE_DIVERGENT_ROWS, float(found.count), labels))
        read = f"{len(pair.chunks)} of {_chunk_count(sums, pair)} chunks read"
        if found.count:
            shown = "; ".join(found.examples(a, b))
            problems.append(f"{where}: {found.count} divergent rows ({shown}; {read})")
        else:
            lines.append(f"{where} converged ({read})")
    detail = "; ".join(problems + lines)
    if failed is not None:
        return ProbeResult.fail(failed[0], detail, latency, tuple(samples))
    return ProbeResult.ok(latency, detail, tuple(samples))


def _chunk_count(sums: Sequence[Mapping[str, _Step[Sums]]], pair: _Pair) -> int:
    """Chunks holding settled rows on either node of the pair."""
    seen: set[int] = set()
    for side in (pair.a, pair.b):
        step = sums[side].get(pair.table)
        if step is not None and step.value is not None:
            seen |= step.value.digests.keys()
    return len(seen)
