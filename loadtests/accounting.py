"""The run's accounting (``accounting.json``): every planned request, and every expected worker.

Per operation::

    planned = succeeded + failed + not started (late, stopped) + unaccounted

``planned`` is the master's own count: it regenerates every share of the schedule from the
run's schedule seed (``edgesla.loadtests.ledger.planned_requests``). The outcomes come from the
workers' final reports. ``unaccounted`` is what no report explains (a worker that vanished
took its requests with it); it is 0 in a complete run.

The run is **complete** when every expected worker sent a final report whose ledger balances,
every share of the plan ran exactly once and to the schedule's end, and no operation has
unaccounted requests. Anything else is listed in ``problems`` and makes the run INCOMPLETE:
exit 3, never a pass (``read_results`` refuses such a directory unless asked to read it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import NonNegativeInt, model_validator

from edgesla.strict import Strict

__all__ = ["NotStartedReason", "OperationAccount", "RunAccounting", "WorkerAccount"]

NotStartedReason = Literal["late", "stopped"]


class OperationAccount(Strict):
    planned: NonNegativeInt
    succeeded: NonNegativeInt
    #: cause -> count (the causes of ``operations/<op>.json``, plus ``unfinished``)
    failed: dict[str, NonNegativeInt]
    not_started: dict[NotStartedReason, NonNegativeInt]
    #: planned minus everything accounted for; 0 when the operation reconciles
    unaccounted: int

    @model_validator(mode="after")
    def _adds_up(self) -> OperationAccount:
        seen = self.succeeded + self.failed_total + self.not_started_total
        if self.planned != seen + self.unaccounted:
            raise ValueError(
                f"planned {self.planned} != succeeded {self.succeeded} + failed "
                f"{self.failed_total} + not started {self.not_started_total} + unaccounted "
                f"{self.unaccounted}"
            )
        return self

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def not_started_total(self) -> int:
        return sum(self.not_started.values())

    @property
    def reconciled(self) -> bool:
        return self.unaccounted == 0


class WorkerAccount(Strict):
    #: Locust's client id ("local" for a single-process run)
    id: str
    index: int | None
    host: str | None
    pid: int | None
    final_report: bool
    #: user class -> shares of the schedule it ran (its final report, else its last live one)
    shares: dict[str, NonNegativeInt]
    #: requests its shares planned (its final report); None without one
    planned: NonNegativeInt | None
    problems: list[str]

    @property
    def name(self) -> str:
        """How people see the worker: ``worker 1 (host gen-a, pid 4242, id gen-a_4f…)``."""
        where = [f"host {self.host}" if self.host else "", f"pid {self.pid}" if self.pid else ""]
        where.append(f"id {self.id}")
        index = "" if self.index is None else f" {self.index}"
        return f"worker{index} ({', '.join(w for w in where if w)})"


class RunAccounting(Strict):
    complete: bool
    problems: list[str]
    #: the seed every share's schedule derives from (``edgesla.loadtests.ledger.share_seed``)
    schedule_seed: int | None
    #: the master's plan: shares (users) per user class
    shares_planned: dict[str, NonNegativeInt]
    expected_workers: NonNegativeInt
    drain_seconds: float
    final_report_wait_seconds: float
    workers: list[WorkerAccount]
    operations: dict[str, OperationAccount]

    @model_validator(mode="after")
    def _complete_means_no_problem(self) -> RunAccounting:
        if self.complete == bool(self.problems):
            raise ValueError(f"complete is {self.complete} but problems are {self.problems}")
        return self

    @property
    def planned(self) -> int:
        return sum(op.planned for op in self.operations.values())

    def not_started(self, reason: NotStartedReason) -> int:
        return sum(op.not_started.get(reason, 0) for op in self.operations.values())
