"""After the ``conflict`` scenario: did last-write-wins make both masters converge, and on
the newest write of every row?

    check_conflict(masters, run, settle, tables=None) -> ConflictVerdict

1. **Hot rows, exactly.** Both masters are read until they hold the same version of every
   hot row, or ``settle`` seconds have passed. A row whose versions still differ is
   *divergent*; a row that agrees but not on its newest planned write (largest
   ``(modified_at, modified_by)`` of the writes that ran) is *stale*: the trigger let an
   older write win.
2. **Whole tables**, when the PoP config has a ``postgres_convergence`` target: its prober
   runs once with ``settle_time`` 0 (key-range checksums, then the differing keys), so a
   divergence outside the hot rows is found too.

Verdict: FAIL when anything diverged or went stale (the rows named); INCONCLUSIVE when a
planned write failed or the whole-table comparison could not run; PASS otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import psycopg

from edgesla import conventions as conv
from edgesla.config import PostgresConvergenceTarget
from edgesla.loadtests.conflict import ConflictRun, Master, Write
from edgesla.probes import postgres_convergence

__all__ = ["ConflictVerdict", "RowState", "check_conflict", "counts", "newest_writes"]

_READ = (
    "SELECT subscriber_id, email, modified_at, modified_by FROM public.subscriber "
    "WHERE subscriber_id = ANY(%s)"
)

#: (email, modified_at, modified_by) of one row on one master
RowState = tuple[str | None, str, str]


@dataclass
class ConflictVerdict:
    verdict: Literal["PASS", "FAIL", "INCONCLUSIVE"]
    converged_after: float | None  #: seconds after the last write; None: never within settle
    divergent: dict[str, dict[str, RowState]] = field(default_factory=dict)
    stale: dict[str, dict[str, str]] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)  #: divergent rows per table
    reasons: list[str] = field(default_factory=list)


def _states(master: Master, rows: Sequence[str]) -> dict[str, RowState]:
    with psycopg.connect(master.dsn, autocommit=True, connect_timeout=5) as conn:
        found = conn.execute(_READ, (list(rows),)).fetchall()
    return {str(r[0]): (r[1], r[2].isoformat(), str(r[3])) for r in found}


def newest_writes(run: ConflictRun) -> dict[str, Write]:
    """Each row's newest write that ran: largest (modified_at, modified_by), as the trigger."""
    lost = {w for w, _ in run.failed}
    newest: dict[str, Write] = {}
    for write in run.planned:
        best = newest.get(write.row)
        if write not in lost and (best is None or (write.at, write.node) > (best.at, best.node)):
            newest[write.row] = write
    return newest


def _agreed(
    masters: Sequence[Master], rows: Sequence[str], settle: float
) -> tuple[dict[str, dict[str, RowState]], float | None]:
    """Every master's hot rows, read until they agree or ``settle`` runs out."""
    start = time.monotonic()
    while True:
        states = {m.name: _states(m, rows) for m in masters}
        first, *others = states.values()
        if all(other == first for other in others):
            return states, time.monotonic() - start
        if time.monotonic() - start >= settle:
            return states, None
        time.sleep(0.2)


def _whole_tables(target: PostgresConvergenceTarget, verdict: ConflictVerdict) -> None:
    result = postgres_convergence.probe(target.model_copy(update={"settle_time": 0.0}), 30.0)
    for sample in result.samples:
        if sample.name == conv.PG_CONVERGENCE_DIVERGENT_ROWS:
            table = sample.labels["table"]
            verdict.tables[table] = max(verdict.tables.get(table, 0), int(sample.value))
    if not result.success:
        verdict.reasons.append(f"whole-table comparison did not run: {result.detail}")


def check_conflict(
    masters: Sequence[Master],
    run: ConflictRun,
    settle: float,
    tables: PostgresConvergenceTarget | None = None,
) -> ConflictVerdict:
    states, after = _agreed(masters, run.rows, settle)
    verdict = ConflictVerdict("PASS", after)
    newest = newest_writes(run)
    for row in run.rows:
        seen = {name: rows.get(row) for name, rows in states.items()}
        if len(set(seen.values())) > 1:
            verdict.divergent[row] = {n: s for n, s in seen.items() if s is not None}
            continue
        want = newest.get(row)
        state = next(iter(seen.values()))
        if want is not None and state is not None and state[0] != want.value:
            verdict.stale[row] = {"holds": str(state[0]), "newest": want.value}
    if tables is not None:
        _whole_tables(tables, verdict)
    if run.failed:
        verdict.reasons.append(f"{len(run.failed)} planned writes failed: {run.failed[0][1]}")
    if verdict.divergent or verdict.stale or any(verdict.tables.values()):
        verdict.verdict = "FAIL"
    if not run.rows:
        verdict.reasons.append("public.subscriber has no rows to write")
    if verdict.verdict == "PASS" and verdict.reasons:
        verdict.verdict = "INCONCLUSIVE"
    return verdict


def counts(run: ConflictRun) -> Mapping[str, int]:
    """The writes by outcome: every planned write ends in exactly one of applied, refused and
    failed (a master that cannot be reached fails all of its writes), so planned is their
    sum."""
    return {
        "planned": len(run.planned),
        "applied": len(run.applied),
        "refused": len(run.refused),
        "failed": len(run.failed),
    }
