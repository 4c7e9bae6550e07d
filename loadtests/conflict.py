"""The ``conflict`` scenario: the same subscriber rows written at once on both masters.

    run_conflict(masters, settings) -> ConflictRun

The seed relies on last-write-wins between the PostgreSQL masters. This scenario writes
``rate`` *pairs* per second for ``duration``: pair i updates one hot row (``rows`` of them,
the last subscribers of the table, taken in turn) on every master at the same instant, each
write carrying its own ``modified_at`` (the pair's scheduled time, plus 1 µs for the node
that is meant to win, picked at random from a seeded generator) and ``modified_by``, so the
newest write of every row is known in advance. Both writes of a pair cross in replication:
each master receives the other's write after its own, which is exactly where an ordering bug
or a disabled trigger makes the masters diverge.

Every planned write is accounted for: applied (1 row), refused by the last-write-wins trigger
(0 rows: a newer version was already there), or failed (with the error). The check after
the run is ``edgesla.loadtests.conflict_check``.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

__all__ = ["ConflictRun", "ConflictSettings", "Master", "Write", "run_conflict"]

_UPDATE = (
    "UPDATE public.subscriber SET email = %s, modified_at = %s, modified_by = %s "
    "WHERE subscriber_id = %s"
)
_HOT_ROWS = "SELECT subscriber_id FROM public.subscriber ORDER BY subscriber_id DESC LIMIT %s"


@dataclass(frozen=True)
class Master:
    name: str
    dsn: str


@dataclass(frozen=True)
class ConflictSettings:
    rate: float = 20.0  #: conflicting pairs per second
    duration: float = 20.0  #: seconds of writing
    rows: int = 20  #: hot rows the pairs cycle over
    settle: float = 10.0  #: longest wait for the masters to agree after the last write
    seed: int = 0


@dataclass(frozen=True)
class Write:
    row: str
    node: str
    at: datetime  #: the row version's modified_at
    value: str


@dataclass
class ConflictRun:
    rows: tuple[str, ...]
    planned: list[Write] = field(default_factory=list)
    applied: list[Write] = field(default_factory=list)
    refused: list[Write] = field(default_factory=list)
    failed: list[tuple[Write, str]] = field(default_factory=list)


def _plan(rows: Sequence[str], nodes: Sequence[str], settings: ConflictSettings) -> list[Write]:
    rng = random.Random(settings.seed)
    start = datetime.now(UTC)
    writes = []
    for i in range(round(settings.rate * settings.duration)):
        row, at = rows[i % len(rows)], start + timedelta(seconds=i / settings.rate)
        winner = rng.randrange(len(nodes))
        for n, node in enumerate(nodes):
            stamp = at + timedelta(microseconds=1 if n == winner else 0)
            writes.append(Write(row, node, stamp, f"conflict-{i}-{node}@example.net"))
    return writes


def _writer(
    master: Master,
    writes: Sequence[Write],
    rate: float,
    run: ConflictRun,
    lock: threading.Lock,
    t0: float,
) -> None:
    try:
        conn = psycopg.connect(
            master.dsn, autocommit=True, connect_timeout=5, application_name="edgesla-conflict"
        )
    except psycopg.Error as exc:
        with lock:
            run.failed += [(w, f"{master.name}: cannot connect: {exc}") for w in writes]
        return
    with conn:
        for i, write in enumerate(writes):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                args = (write.value, write.at, write.node, write.row)
                rows = conn.execute(_UPDATE, args).rowcount
            except psycopg.Error as exc:
                with lock:
                    why = f"{master.name}: {type(exc).__name__}: {exc}".strip()
                    run.failed.append((write, why))
                continue
            with lock:
                if rows == 1:
                    run.applied.append(write)
                elif rows == 0:  # the last-write-wins trigger kept a newer version
                    run.refused.append(write)
                else:
                    run.failed.append((write, f"{master.name}: {rows} rows updated"))


def hot_rows(master: Master, count: int) -> tuple[str, ...]:
    """The last ``count`` subscribers of the table: the rows the pairs fight over."""
    with psycopg.connect(master.dsn, autocommit=True, connect_timeout=5) as conn:
        return tuple(str(r[0]) for r in conn.execute(_HOT_ROWS, (count,)))


def run_conflict(masters: Sequence[Master], settings: ConflictSettings) -> ConflictRun:
    """Write every pair of the plan on its schedule, one thread per master."""
    rows = hot_rows(masters[0], settings.rows)
    run = ConflictRun(rows)
    if not rows:
        return run
    run.planned = _plan(rows, [m.name for m in masters], settings)
    lock, t0 = threading.Lock(), time.perf_counter() + 0.2
    threads = [
        threading.Thread(
            target=_writer,
            args=(m, [w for w in run.planned if w.node == m.name], settings.rate, run, lock, t0),
            name=f"conflict-{m.name}",
        )
        for m in masters
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run
