"""One Locust process's share of a load test, hung on its Environment: ``run_of(environment)``.

Every process (a local run, the master, each worker) has one ``LoadTestRun``: the plan, the
exact recorder, the users' schedule shares and their ledgers (``edgesla.loadtests.ledger``), and for
the master (or a local run) the ``Collector`` of final reports. The end of a run:

1. **Processes running users** close their ledger when the schedule is over: no request
   starts after the schedule's end; those in flight get ``DRAIN_SECONDS`` to return
   (later: failed, ``unfinished``); every arrival not started is counted, with its reason.
   Then each sends its **final report** (``edgesla.loadtests.wire``): a worker over Locust's
   channel,
   right after flushing Locust's own statistics; a local run to its own collector.
2. **The master** (or local run) ends the run as soon as every expected final report is in,
   or ``DRAIN_SECONDS + FINAL_REPORT_WAIT_SECONDS`` after the schedule's end at the latest;
   a worker still missing then makes the run INCOMPLETE.
3. If the run is stopped before the schedule's end (Ctrl-C, a shorter ``-t``), the master
   asks every worker to finish now (``edgesla_finish``) and waits, bounded, for their reports.

Listeners: loadtests/edge_pop.py registers the module-level ones (init, test_start,
test_stopping, quitting); the per-run ones (worker reports, custom messages) are registered
when the run object is created, whichever of init or test_start comes first (a worker can
receive its first ``spawn`` before Locust fires ``init`` in it).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, cast

import gevent
import gevent.event
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from edgesla import EdgeslaError
from edgesla.loadtests.collect import Collector
from edgesla.loadtests.dispatch import Pool
from edgesla.loadtests.health import CpuMonitor
from edgesla.loadtests.ledger import UNFINISHED, Share, ShareKey, share_seed
from edgesla.loadtests.openmodel import LATE_AFTER_SECONDS
from edgesla.loadtests.plan import RunPlan, RunRates, plan_from_options, sample_subscribers
from edgesla.loadtests.progress import SILENT_AFTER_SECONDS, Progress, ProgressPrinter
from edgesla.loadtests.sync_phase import SyncPhase
from edgesla.loadtests.timeline import DRAIN_SECONDS, FINAL_REPORT_WAIT_SECONDS, LEAD_SECONDS
from edgesla.loadtests.wire import FINAL_FORMAT, MSG_FINAL, MSG_FINISH
from edgesla.loadtests.worker_plan import differences, plan_options, restore_own

__all__ = ["LoadTestRun", "maybe_run", "run_of"]

log = logging.getLogger("edgesla.loadtest")

_ATTRIBUTE: Final = "edgesla_run"
LOCAL_WORKER: Final = "local"
Role = Literal["local", "master", "worker"]


#: How long a worker's first ``test_start`` may wait for Locust to finish creating its runner.
_INIT_WAIT_SECONDS: Final = 30.0


def is_load_test(environment: Environment) -> bool:
    """An edgesla load test (``--pop-config`` given), not e.g. ``locust --help``."""
    return bool(getattr(environment.parsed_options, "pop_config", None))


def create_run(environment: Environment) -> LoadTestRun:
    """Create the environment's run: in Locust's ``init`` event, when the runner exists."""
    run = LoadTestRun(environment)
    setattr(environment, _ATTRIBUTE, run)
    run.register_listeners()
    return run


def maybe_run(environment: Environment) -> LoadTestRun | None:
    """The environment's run; None before ``init`` or when this is no edgesla load test."""
    run: LoadTestRun | None = getattr(environment, _ATTRIBUTE, None)
    return run


def wait_for_run(environment: Environment) -> LoadTestRun | None:
    """The run, waiting (gevent, bounded) for ``init`` when it has not fired yet.

    A worker handles the master's messages while Locust still constructs its runner: the
    first ``spawn`` (and so ``test_start``) can come before ``environment.runner`` is set and
    before ``init`` fires. Waiting here lets the construction finish first.
    """
    if not is_load_test(environment):
        return None
    deadline = time.monotonic() + _INIT_WAIT_SECONDS
    while (run := maybe_run(environment)) is None and time.monotonic() < deadline:
        gevent.sleep(0.01)
    return run


def run_of(environment: Environment) -> LoadTestRun:
    """The environment's run (for the users); RuntimeError outside an edgesla load test."""
    run = wait_for_run(environment)
    if run is None:
        raise RuntimeError("no edgesla load test: run loadtests/edge_pop.py with --pop-config")
    return run


class LoadTestRun:
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        #: Locust's parsed options (argparse), with the edgesla ones of loadtests/edge_pop.py
        self.options: Any = cast(Any, environment.parsed_options)
        if self.role == "worker":
            restore_own(self.options)  # a "spawn" may already have copied the master's
        self.plan: RunPlan
        self.rates: RunRates
        self.plan, self.rates = plan_from_options(self.options)
        self._planned_from = plan_options(self.options)
        self.recorder = self.plan.recorder
        self.shares: list[Share] = []
        #: per user class, its users' shares served by whichever user is free
        self.pools: dict[str, Pool] = {}
        self._ordinals: dict[str, int] = {}
        self.monitor = CpuMonitor()
        self.cpu_samples: list[float] = []
        #: perf_counter() of the schedule's start, and the same instant in UTC
        self.schedule_start: float | None = None
        self.started_at: datetime | None = None
        self.final: dict[str, Any] | None = None
        self._finishing = False
        self._final_done = gevent.event.Event()
        if self.role != "worker" and self.options.schedule_seed is None:
            # the master chooses the schedule seed; Locust forwards its options to the
            # workers with each "spawn", so every worker seeds its shares from it
            self.options.schedule_seed = random.getrandbits(62)
        self.schedule_seed: int | None = self.options.schedule_seed
        expected = int(getattr(self.options, "expect_workers", 1) or 1)
        self.collector: Collector | None = (
            None
            if self.role == "worker"
            else Collector(1 if self.role == "local" else expected, self.plan.duration)
        )
        if self.role == "local":
            self.collector.expect(LOCAL_WORKER)  # type: ignore[union-attr]
        #: perf_counter() past which the master stops waiting for final reports
        self.final_deadline: float | None = None
        self.progress_printer: ProgressPrinter | None = None
        #: the batch sync on top of the schedule (``--sync-at``), run by the collector's process
        self.sync_phase: SyncPhase | None = None
        self._sync_greenlet: Any = None

    # --- who we are --------------------------------------------------------------------

    @property
    def role(self) -> Role:
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            return "master"
        if isinstance(runner, WorkerRunner):
            return "worker"
        return "local"

    @property
    def worker_id(self) -> str:
        runner = self.environment.runner
        return str(runner.client_id) if isinstance(runner, WorkerRunner) else LOCAL_WORKER

    @property
    def worker_index(self) -> int:
        runner = self.environment.runner
        return int(runner.worker_index) if isinstance(runner, WorkerRunner) else 0

    def elapsed(self) -> float | None:
        """Seconds into the schedule (negative during the lead); None before the start."""
        if self.schedule_start is None:
            return None
        return time.perf_counter() - self.schedule_start

    # --- listeners ---------------------------------------------------------------------

    def register_listeners(self) -> None:
        events: Any = self.environment.events  # Locust's EventHook is untyped
        runner: Any = self.environment.runner
        if self.role != "master":
            # registered after the runner's own quitting listener, so it runs before it
            # (quitting fires in reverse): the final report leaves before Locust's "quit"
            events.quitting.add_listener(self._finish_on_quitting)
        if self.role == "worker":
            events.report_to_master.add_listener(self.on_report_to_master)
            runner.register_message(MSG_FINISH, self.on_finish_message, concurrent=True)
        if self.role == "master":
            events.worker_report.add_listener(self.on_worker_report)
            events.worker_connect.add_listener(self.on_worker_connect)
            runner.register_message(MSG_FINAL, self.on_final_message)

    def on_test_start(self) -> None:
        if self.role == "worker":
            # the master's options arrived with the "spawn" message: its schedule seed, and
            # its plan where this worker was started with other options
            self.schedule_seed = getattr(self.options, "schedule_seed", None)
            self._adopt_the_masters_plan()
        if self.role != "master":
            # before the schedule's clock starts: sampling can take a while on a busy box
            self.plan.sample = sample_subscribers(self.plan)
        now = time.perf_counter()
        self.schedule_start = now + LEAD_SECONDS
        self.plan.started = self.schedule_start
        self.started_at = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
        end = self.schedule_start + self.plan.duration
        self.final_deadline = end + DRAIN_SECONDS + FINAL_REPORT_WAIT_SECONDS
        if self.role == "master":
            runner: Any = self.environment.runner
            for worker in runner.clients.all:
                self.collector.expect(worker.id)  # type: ignore[union-attr]
        else:
            self.monitor.start()
            gevent.spawn(self._finish_when_due, end + LATE_AFTER_SECONDS)
        if self.collector is not None and (sync := self.plan.sync) is not None:
            plan = self.plan
            store = (plan.mongo_uri, plan.mongo_database, plan.mongo_collection)
            self.sync_phase = SyncPhase(sync, self.rates.subscribers, plan.pg_dsns[0], store)
            self._sync_greenlet = gevent.spawn(self.sync_phase.run, self.schedule_start)
        if self.collector is not None:
            gevent.spawn(self._end_when_reported)
            if getattr(self.options, "progress", "auto") != "off":
                self.progress_printer = ProgressPrinter(self.progress, sys.stderr)
                self.progress_printer.start()

    def _adopt_the_masters_plan(self) -> None:
        """Rebuild the plan from the master's options (edgesla.loadtests.worker_plan)."""
        restore_own(self.options)
        masters = plan_options(self.options)
        if changed := differences(self._planned_from, masters):
            log.warning(
                "this worker runs the master's plan, not its own options: %s", ", ".join(changed)
            )
            try:
                self.plan, self.rates = plan_from_options(self.options)
            except (ValueError, EdgeslaError) as exc:  # e.g. its own PoP config is gone
                log.error("this worker cannot build the master's plan: %s", exc)
                return  # its own plan: the master then finds its requests unaccounted for
            self.recorder = self.plan.recorder
            self._planned_from = masters

    def on_test_stopping(self) -> None:
        """Locust stops the test: before the schedule's end, that cuts the run short."""
        early = (self.elapsed() or 0.0) < self.plan.duration
        if self.role != "master":
            self.finish("the run was stopped before the schedule's end")
        if self.collector is not None:
            self.collect_finals(early=early)

    def _finish_on_quitting(self, **_: Any) -> None:
        self.finish("the process was shut down before the schedule's end")

    def on_quitting(self) -> None:
        if self.role != "master":
            self.finish("the process was shut down before the schedule's end")
        runner: Any = self.environment.runner
        if self.role == "master" and runner.state in ("spawning", "running"):
            # shut down mid-run (Ctrl-C): stop first, so that Locust does not hand the users
            # of workers that quit to the others; the stop asks for the final reports
            runner.stop(send_stop_to_client=False)
        if self.collector is not None:
            self.collect_finals(early=(self.elapsed() or 0.0) < self.plan.duration)

    def on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        if self.final is None:  # after the final report, it alone counts
            data["edgesla"] = self._live_report()

    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        if "edgesla" in data and self.collector is not None:
            self.collector.on_live(client_id, data["edgesla"])

    def on_worker_connect(self, client_id: str) -> None:
        if self.collector is not None and self.schedule_start is not None:
            self.collector.expect(client_id)  # joined mid-run: it gets users, it owes a report

    def on_final_message(self, environment: Environment, msg: Any) -> None:
        if self.collector is not None:
            self.collector.on_final(str(msg.node_id), msg.data)

    def on_finish_message(self, environment: Environment, msg: Any) -> None:
        self.finish("the master stopped the run before the schedule's end")

    # --- users -------------------------------------------------------------------------

    def new_share(self, user_class: str, operations: tuple[str, ...]) -> Share:
        """The next share of ``user_class``'s schedule for a user starting on this process."""
        ordinal = self._ordinals.get(user_class, 0)
        self._ordinals[user_class] = ordinal + 1
        key = ShareKey(user_class, self.worker_index, ordinal)
        if self.schedule_seed is None:  # a master that does not forward it: caught there
            self.schedule_seed = random.getrandbits(62)
        users = self.plan.users.get(user_class, 0) or 1
        share = Share(
            key,
            share_seed(self.schedule_seed, key),
            self.plan.rates,
            operations,
            users,
            self.plan.duration,
            self.plan.arrivals,
        )
        if self._finishing:  # a user starting after the ledger closed runs nothing
            share.close(self.elapsed() or 0.0, "the user started after the run had ended")
        self.shares.append(share)
        self.pool(user_class).add(share)
        return share

    def pool(self, user_class: str) -> Pool:
        """The pool of ``user_class``'s users on this process (``edgesla.loadtests.dispatch``)."""
        return self.pools.setdefault(user_class, Pool())

    # --- the end of the run: processes running users -------------------------------------

    def _finish_when_due(self, due: float) -> None:
        gevent.sleep(max(0.0, due - time.perf_counter()))
        self.finish("the run was stopped before the schedule's end")

    def finish(self, note: str) -> None:
        """Close this process's ledger and deliver its final report; once. ``note`` says why,
        when this comes before the schedule's end (the shares' not-started requests are then
        'stopped'). A second caller waits (bounded) for the first one to be done."""
        if self._finishing:
            self._final_done.wait(DRAIN_SECONDS + 1.0)
            return
        self._finishing = True
        try:
            now = self.elapsed()
            at = now if now is not None else -LEAD_SECONDS
            for share in self.shares:
                share.stop(at, note)
            deadline = time.perf_counter() + DRAIN_SECONDS
            while any(s.in_flight for s in self.shares) and time.perf_counter() < deadline:
                gevent.sleep(0.01)
            self._close_shares(note)
            self.monitor.stop()
            self.cpu_samples += self.monitor.drain()
            self.final = self._final_report()
            self._deliver(self.final)
        finally:
            self._final_done.set()

    def _close_shares(self, note: str) -> None:
        end = time.perf_counter()
        now = self.elapsed()
        for share in self.shares:
            left = share.close(now if now is not None else -LEAD_SECONDS, note)
            gevent.sleep(0)  # a run cut short counts the rest of each schedule: let others run
            for arrival, actual in left:
                intended = self.plan.started + arrival.at
                self.plan.record(
                    arrival.operation,
                    intended,
                    actual,
                    end,
                    ok=False,
                    cause=UNFINISHED,
                    late=actual - intended > LATE_AFTER_SECONDS,
                )

    def _identity(self) -> dict[str, Any]:
        return {
            "worker": self.worker_id,
            "index": self.worker_index,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }

    def _live_report(self) -> dict[str, Any]:
        runner: Any = self.environment.runner
        return {
            **self._identity(),
            "elapsed": self.elapsed(),
            "recorder": self.recorder.encode(),
            "shares": [s.key.encode() for s in self.shares],
            "cpu_percent": float(runner.current_cpu_usage) if runner is not None else None,
        }

    def _final_report(self) -> dict[str, Any]:
        return {
            **self._identity(),
            "format": FINAL_FORMAT,
            "schedule_seed": self.schedule_seed,
            "closed_at": self.elapsed() or 0.0,
            "recorder": self.recorder.encode(),
            "windows": self.plan.windows.encode() if self.plan.windows is not None else {},
            "shares": [s.encode() for s in self.shares],
            "cpu_samples": list(self.cpu_samples),
            "problems": [],
        }

    def _deliver(self, final: dict[str, Any]) -> None:
        runner: Any = self.environment.runner
        if self.role == "worker":
            # Locust's own last statistics first (same channel, in order), then ours
            stats: dict[str, Any] = {}
            events: Any = self.environment.events
            events.report_to_master.fire(client_id=runner.client_id, data=stats)
            runner.send_message("stats", stats)
            runner.send_message(MSG_FINAL, final)
        elif self.collector is not None:
            self.collector.on_final(LOCAL_WORKER, final)

    # --- the end of the run: the master (or a local run) -------------------------------

    def _end_when_reported(self) -> None:
        """End the run once every final report is in (or at the final deadline)."""
        assert self.collector is not None
        assert self.final_deadline is not None
        self.collector.wait(max(0.0, self.final_deadline - time.perf_counter()))
        runner: Any = self.environment.runner
        if self.options.headless:
            runner.quit()  # as Locust's own --run-time does
        else:
            runner.stop()  # the web UI stays up

    def collect_finals(self, *, early: bool) -> None:
        """Wait (bounded) for the final reports still missing; ask for them when early."""
        collector = self.collector
        if collector is None or collector.all_final:
            return
        now = time.perf_counter()
        if early:
            bound = now + DRAIN_SECONDS + FINAL_REPORT_WAIT_SECONDS
            self.final_deadline = min(self.final_deadline or bound, bound)
            if self.role == "master":
                runner: Any = self.environment.runner
                for state in collector.pending():
                    runner.send_message(MSG_FINISH, None, client_id=state.id)
        if self.role == "master" and not self._can_wait():
            return
        collector.wait(max(0.0, (self.final_deadline or now) - now))

    def stop_sync(self) -> None:
        """The sync is over by the schedule's end; one still running is cut short here."""
        if self._sync_greenlet is not None and not self._sync_greenlet.dead:
            self._sync_greenlet.kill(block=True, timeout=5.0)

    def _can_wait(self) -> bool:
        """Only outside Locust's own greenlets, while they still run, can a final arrive."""
        runner: Any = self.environment.runner
        group = runner.greenlet
        return len(group) > 0 and gevent.getcurrent() not in group

    # --- what people see ---------------------------------------------------------------

    def progress(self) -> Progress:
        elapsed = self.elapsed()
        if self.collector is None:
            raise RuntimeError("progress is shown by the master or a local run")
        if self.role == "local":
            totals = self.recorder.totals()
            span = min(elapsed or 0.0, self.plan.duration)
            rate = totals.requests / span if span > 0 else None
        else:
            totals = self.collector.totals()
            rate = self.collector.live_rate()
        target = None
        if elapsed is not None and elapsed > 0:
            span = min(elapsed, self.plan.duration)
            target = self.rates.expected(span) / span
        silent: tuple[str, ...] = ()
        if self.role == "master":
            silent = tuple(
                w.name
                for w in self.collector.pending()
                if self.collector.silent_for(w) > SILENT_AFTER_SECONDS
            )
        return Progress(
            elapsed=elapsed,
            duration=self.plan.duration,
            requests=totals.requests,
            failures=totals.failures,
            late=totals.late_starts,
            rate=rate,
            target_rate=target,
            workers=(
                None
                if self.role == "local"
                else max(len(self.collector.workers), self.collector.expected_workers)
            ),
            finals=self.collector.finals,
            silent=silent,
        )
