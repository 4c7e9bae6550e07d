"""The master's side of the final-report protocol (``edgesla.loadtests.wire``): who is expected, who
reported, and the run's accounting (``edgesla.loadtests.accounting``) built from the final reports.

A single-process run uses the same collector, with itself as its one worker ("local").
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import gevent.event
from pydantic import ValidationError

from edgesla.loadtests.accounting import (
    NotStartedReason,
    OperationAccount,
    RunAccounting,
    WorkerAccount,
)
from edgesla.loadtests.histograms import Recorder, Totals
from edgesla.loadtests.ledger import STOPPED, ShareKey, planned_requests, share_seed, sum_counts
from edgesla.loadtests.openmodel import RateFn
from edgesla.loadtests.plan import USER_CLASSES
from edgesla.loadtests.results import GeneratorHost
from edgesla.loadtests.timeline import DRAIN_SECONDS, FINAL_REPORT_WAIT_SECONDS
from edgesla.loadtests.windows import SyncWindow, Windows, check_encoded
from edgesla.loadtests.wire import FinalReport, LiveReport

__all__ = ["Collector", "PlanView", "WorkerState"]

_Counts = Mapping[str, Mapping[str, int]]  # operation -> reason -> count


@dataclass(frozen=True)
class PlanView:
    """What the master needs to regenerate the plan: the schedule's rates and shape."""

    rates: RateFn
    duration: float
    arrivals: Literal["poisson", "uniform"]
    #: users (shares) per user class, as the master planned them
    users: Mapping[str, int]
    schedule_seed: int
    #: every operation with a target rate (each gets an account, even with zero requests)
    operations: Iterable[str]


@dataclass
class WorkerState:
    id: str
    connected_at: float = field(default_factory=time.monotonic)
    live: LiveReport | None = None
    live_at: float | None = None  # monotonic() of the newest live report
    final: FinalReport | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def identity(self) -> LiveReport | FinalReport | None:
        return self.final or self.live

    def account(self, shares: Mapping[str, int], planned: int | None) -> WorkerAccount:
        who = self.identity
        return WorkerAccount(
            id=self.id,
            index=None if who is None else who.index,
            host=None if who is None else who.host,
            pid=None if who is None else who.pid,
            final_report=self.final is not None,
            shares=dict(shares),
            planned=planned,
            problems=list(self.problems),
        )

    @property
    def name(self) -> str:
        return self.account({}, None).name


class Collector:
    """Live and final reports of every worker; ``accounting()`` once the run is over."""

    def __init__(self, expected_workers: int, duration: float | None = None) -> None:
        self.expected_workers = expected_workers
        self._duration = duration
        self.workers: dict[str, WorkerState] = {}
        self._all_final = gevent.event.Event()
        self._merged: Recorder | None = None

    # --- arrivals ----------------------------------------------------------------------

    def expect(self, worker_id: str) -> WorkerState:
        """A worker that takes part (connected, or known at the start): it owes a final."""
        state = self.workers.get(worker_id)
        if state is None:
            state = self.workers[worker_id] = WorkerState(worker_id)
            self._check_all_final()
        return state

    def on_live(self, worker_id: str, data: Mapping[str, Any]) -> None:
        state = self.expect(worker_id)
        if state.final is not None:
            return  # the final report supersedes everything sent before or after it
        try:
            state.live = LiveReport.model_validate(data)
        except ValidationError as exc:
            state.problems.append(f"sent a malformed live report ({_first_error(exc)})")
            return
        state.live_at = time.monotonic()
        self._merged = None

    def on_final(self, worker_id: str, data: object) -> None:
        state = self.expect(worker_id)
        if state.final is not None:
            state.problems.append("sent a second final report (ignored)")
            return
        try:
            final = FinalReport.model_validate(data)
            Recorder().merge(final.recorder)
            check_encoded(final.windows)
        except (ValidationError, ValueError) as exc:
            detail = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
            state.problems.append(f"sent a malformed final report ({detail})")
            return
        if final.worker != worker_id:
            state.problems.append(f"sent a final report for another worker ({final.worker!r})")
            return
        state.final = final
        self._merged = None
        self._check_all_final()

    def _check_all_final(self) -> None:
        finals = sum(w.final is not None for w in self.workers.values())
        if finals >= self.expected_workers and finals == len(self.workers):
            self._all_final.set()
        else:
            self._all_final.clear()

    # --- questions ---------------------------------------------------------------------

    @property
    def all_final(self) -> bool:
        return self._all_final.is_set() is True

    def wait(self, timeout: float) -> bool:
        """Wait (gevent) until every expected worker's final report is in; True if so."""
        return self._all_final.wait(timeout) is True

    def pending(self) -> list[WorkerState]:
        """Workers whose final report has not arrived."""
        return [w for w in self.workers.values() if w.final is None]

    @property
    def finals(self) -> int:
        return sum(w.final is not None for w in self.workers.values())

    def merged(self) -> Recorder:
        """Everything recorded so far: final reports, else each worker's newest live report."""
        if self._merged is None:
            merged = Recorder()
            for state in self.workers.values():
                report = state.final or state.live
                if report is not None:
                    merged.merge(report.recorder)
            self._merged = merged
        return self._merged

    def without_windows(self) -> list[str]:
        """Workers whose final report recorded requests but split none by window (an older
        edgesla, or one that could not build the master's plan with its ``--sync-at``): the
        windows cannot add up without them."""
        return [
            state.id
            for state in self.workers.values()
            if state.final is not None
            and not state.final.windows
            and Totals.of(state.final.recorder["operations"].values()).requests
        ]

    def windows(self, window: SyncWindow) -> Windows:
        """The final reports' requests by window (``--sync-at``), merged."""
        merged = Windows(window)
        for state in self.workers.values():
            if state.final is not None and state.final.windows:
                merged.merge(state.final.windows)
        return merged

    def totals(self) -> Totals:
        """Requests, failures, late starts so far, from the newest reports (nothing decoded)."""
        reports = [w.final or w.live for w in self.workers.values()]
        return Totals.of(
            op for r in reports if r is not None for op in r.recorder["operations"].values()
        )

    def live_rate(self) -> float | None:
        """Requests/s achieved so far: each worker's requests over its own elapsed time."""
        total, seen = 0.0, False
        for state in self.workers.values():
            report: LiveReport | FinalReport | None = state.final or state.live
            if report is None:
                continue
            elapsed = report.closed_at if isinstance(report, FinalReport) else report.elapsed
            if elapsed is None or elapsed <= 0:
                continue
            requests = Totals.of(report.recorder["operations"].values()).requests
            total += requests / min(elapsed, self._duration or elapsed)
            seen = True
        return total if seen else None

    def silent_for(self, state: WorkerState) -> float:
        """Seconds since the worker's newest live report (or since it connected)."""
        return time.monotonic() - (state.live_at or state.connected_at)

    def cpu_samples(self) -> list[float]:
        return [s for w in self.workers.values() if w.final for s in w.final.cpu_samples]

    def generators(self) -> tuple[GeneratorHost, ...]:
        hosts: dict[str, int] = {}
        for state in self.workers.values():
            if (who := state.identity) is not None:
                hosts[who.host] = hosts.get(who.host, 0) + 1
        return tuple(GeneratorHost(h, n) for h, n in sorted(hosts.items()))

    # --- the accounting ----------------------------------------------------------------

    def accounting(self, plan: PlanView, recorder: Recorder) -> RunAccounting:
        """Reconcile the final reports with the master's own plan; ``recorder`` is
        ``merged()`` (what the results hold). Regenerates every share's schedule: about
        4 µs per planned request, once, after the run."""
        problems: list[str] = []
        states = sorted(self.workers.values(), key=lambda w: (_index(w), w.id))
        if len(states) < self.expected_workers:
            problems.append(
                f"expected {self.expected_workers} workers, {len(states)} took part; the "
                "others never connected"
            )
        owners: dict[ShareKey, list[str]] = {}
        accounts: list[WorkerAccount] = []
        not_started: list[_Counts] = []
        stopped_notes: list[str] = []
        for state in states:
            worker_problems = list(state.problems)
            keys = _keys(state)
            for key in keys:
                owners.setdefault(key, []).append(state.name)
            planned = None
            if state.final is None:
                worker_problems.insert(0, f"sent no final report ({_last_heard(state)})")
            else:
                worker_problems += state.final.problems
                worker_problems += _check_final(state.final, plan)
                planned = sum(sum(s.planned.values()) for s in state.final.shares)
                not_started += [cast(_Counts, s.not_started) for s in state.final.shares]
                notes: dict[str, int] = {}
                for s in state.final.shares:
                    if s.note and any(r.get(STOPPED) for r in s.not_started.values()):
                        notes[s.note] = notes.get(s.note, 0) + 1
                stopped_notes += [
                    f"{state.name}: {n} share(s) of the schedule stopped early: {note}"
                    for note, n in notes.items()
                ]
            shares = sum_counts({k.user_class: 1} for k in keys)
            account = state.account(shares, planned)
            accounts.append(account.model_copy(update={"problems": worker_problems}))
            problems += [f"{state.name}: {p}" for p in worker_problems]
        for key, names in sorted(owners.items()):
            if len(names) > 1:
                problems.append(f"share {key} of the schedule ran {len(names)} times ({names})")
        ran = sum_counts({k.user_class: 1} for k in owners)
        for cls, users in sorted(plan.users.items()):
            if users and ran.get(cls, 0) < users:
                problems.append(
                    f"{cls}: {ran.get(cls, 0)} of the {users} shares of the schedule reported; "
                    "the requests of the others are missing"
                )
            elif ran.get(cls, 0) > users:
                problems.append(f"{cls}: {ran[cls]} shares ran, the plan has {users}")
        plan_counts = _regenerate(plan, owners)
        operations = _operations(plan, plan_counts, recorder, not_started)
        stopped = {name: op.not_started["stopped"] for name, op in operations.items()}
        if total := sum(stopped.values()):
            per_op = ", ".join(f"{name} {n}" for name, n in stopped.items() if n)
            problems.append(
                f"{total} planned requests never started because the generator stopped before "
                f"the schedule's end ({per_op})"
            )
        for name, op in operations.items():
            if op.unaccounted:
                problems.append(
                    f"{name}: {op.unaccounted} of {op.planned} planned requests are unaccounted "
                    "for (their worker's final report is missing or wrong)"
                )
        problems += stopped_notes
        return RunAccounting(
            complete=not problems,
            problems=problems,
            schedule_seed=plan.schedule_seed,
            shares_planned=dict(plan.users),
            expected_workers=self.expected_workers,
            drain_seconds=DRAIN_SECONDS,
            final_report_wait_seconds=FINAL_REPORT_WAIT_SECONDS,
            workers=accounts,
            operations=operations,
        )


def _last_heard(state: WorkerState) -> str:
    if state.live is None:
        return "nor any live report"
    elapsed = state.live.elapsed
    if elapsed is None or elapsed < 0:
        return "its last live report came before the schedule started"
    return f"its last live report came {elapsed:.1f} s into its schedule"


def _index(state: WorkerState) -> int:
    who = state.identity
    return who.index if who is not None else 1 << 30


def _keys(state: WorkerState) -> list[ShareKey]:
    if state.final is not None:
        return [s.share_key for s in state.final.shares]
    if state.live is not None:
        return [ShareKey(*k) for k in state.live.shares]
    return []


def _check_final(final: FinalReport, plan: PlanView) -> list[str]:
    """The worker's own ledger must balance, and its shares must be the master's."""
    problems = []
    if final.schedule_seed != plan.schedule_seed:
        problems.append(
            f"ran schedule seed {final.schedule_seed}, the master's is {plan.schedule_seed} "
            "(a worker of another run, or one that did not get the master's options)"
        )
    recorder = Recorder()
    recorder.merge(final.recorder)
    done = {name: r.requests for name, r in recorder.results().items()}
    planned = sum_counts(s.planned for s in final.shares)
    waiting = sum_counts(
        {op: sum(r.values()) for op, r in s.not_started.items()} for s in final.shares
    )
    for op in sorted(set(planned) | set(done) | set(waiting)):
        p, d, w = planned.get(op, 0), done.get(op, 0), waiting.get(op, 0)
        if p != d + w:
            problems.append(
                f"{op}: its ledger does not balance: planned {p} != {d} recorded + {w} not started"
            )
    for share in final.shares:
        key = share.share_key
        if share.seed != share_seed(plan.schedule_seed, key):
            problems.append(f"share {key}: its seed is not the one the plan gives that share")
    return problems


def _regenerate(plan: PlanView, owners: Mapping[ShareKey, list[str]]) -> dict[str, int]:
    counts: list[dict[str, int]] = []
    for key in owners:
        users = plan.users.get(key.user_class, 0)
        ops = USER_CLASSES.get(key.user_class)
        if not users or ops is None:
            continue  # reported as a problem by the share count
        seed = share_seed(plan.schedule_seed, key)
        counts.append(planned_requests(plan.rates, ops, users, plan.duration, plan.arrivals, seed))
    return sum_counts(counts)


def _operations(
    plan: PlanView,
    planned: Mapping[str, int],
    recorder: Recorder,
    not_started: list[_Counts],
) -> dict[str, OperationAccount]:
    results = recorder.results()
    names = sorted(set(plan.operations) | set(planned) | set(results))
    out = {}
    for name in names:
        result = results.get(name)
        failed = dict(result.failures) if result else {}
        waiting = sum_counts(part.get(name, {}) for part in not_started)
        reasons: dict[NotStartedReason, int] = {
            "late": waiting.get("late", 0),
            "stopped": waiting.get("stopped", 0),
        }
        seen = (result.requests if result else 0) + sum(reasons.values())
        out[name] = OperationAccount(
            planned=planned.get(name, 0),
            succeeded=result.successes if result else 0,
            failed=failed,
            not_started=reasons,
            unaccounted=planned.get(name, 0) - seen,
        )
    return out


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
