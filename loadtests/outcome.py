"""The end of a run on the master (or a local run): accounting, results, exit code.

Called from Locust's ``quitting`` event, once every final report is in (or the wait for them
is over). The exit code is 0, or 3 for an INCOMPLETE run: a lost worker's failures must never
let a bad rollout pass. The gate (``edgesla loadtest --slo``) judges the written results
afterwards, in the CLI, as the SLA report does (``edgesla.report.gate``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from edgesla import exitcodes
from edgesla.loadtests.accounting import RunAccounting
from edgesla.loadtests.collect import PlanView
from edgesla.loadtests.health import CpuMonitor
from edgesla.loadtests.histograms import OperationResult
from edgesla.loadtests.locust_files import write_locust_files
from edgesla.loadtests.progress import clock
from edgesla.loadtests.results import GeneratorHealth, GeneratorHost, RunMeta, write_results
from edgesla.loadtests.run import LoadTestRun

__all__ = ["conclude"]


def _say(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()


def _health(
    cpu: list[float], results: dict[str, OperationResult], accounting: RunAccounting
) -> GeneratorHealth:
    requests = sum(r.requests for r in results.values())
    # requests the generator was too late to start at all count as late starts here
    late = sum(r.late_starts for r in results.values()) + accounting.not_started("late")
    tried = requests + accounting.not_started("late")
    saturated = CpuMonitor.saturated(cpu)
    return GeneratorHealth(
        cpu_saturated=saturated,
        too_few_users=tried > 0 and late / tried > 0.01 and not saturated,
        max_cpu_percent=max(cpu, default=None),
    )


def _end_line(run: LoadTestRun, accounting: RunAccounting) -> str:
    ops = accounting.operations.values()
    done = sum(op.succeeded + op.failed_total for op in ops)
    failed = sum(op.failed_total for op in ops)
    late_ns = accounting.not_started("late")
    stopped = accounting.not_started("stopped")
    unaccounted = sum(op.unaccounted for op in ops)
    workers = sum(w.final_report for w in accounting.workers)
    expected = max(len(accounting.workers), accounting.expected_workers)
    elapsed = run.elapsed() or 0.0
    when = (
        f"{clock(run.plan.duration)} done"
        if elapsed >= run.plan.duration
        else f"stopped at {clock(elapsed)} / {clock(run.plan.duration)}"
    )
    parts = [
        f"load test {when}",
        f"{accounting.planned} planned: {done} ran ({failed} failed), "
        f"{late_ns + stopped} not started",
        f"final reports {workers}/{expected}",
    ]
    if unaccounted:
        parts.append(f"{unaccounted} UNACCOUNTED")
    return " | ".join(parts)


def conclude(run: LoadTestRun, stream: TextIO = sys.stderr) -> int:
    """Write the results (``--results-dir``), print the verdict, return the exit code."""
    collector = run.collector
    assert collector is not None, "conclude() runs on the master or a local run"
    options = run.options
    recorder = collector.merged()
    for op in run.plan.target_rates:
        recorder.add_operation(op)
    plan = PlanView(
        rates=run.plan.rates,
        duration=run.plan.duration,
        arrivals=run.plan.arrivals,
        users=run.plan.users,
        schedule_seed=run.schedule_seed or 0,
        operations=tuple(run.plan.target_rates),
    )
    began = time.perf_counter()
    accounting = collector.accounting(plan, recorder)
    took = time.perf_counter() - began
    results = recorder.results()
    cpu = collector.cpu_samples() or run.cpu_samples
    health = _health(cpu, results, accounting)
    if run.progress_printer is not None:
        run.progress_printer.close(_end_line(run, accounting))
    if took > 5:
        _say(stream, f"(the plan was regenerated to check the reports in {took:.0f} s)")
    code = exitcodes.OK
    if not accounting.complete:
        _say(stream, "INCOMPLETE (exit 3): not every planned request is accounted for:")
        for problem in accounting.problems:
            _say(stream, f"  - {problem}")
        code = exitcodes.INCONCLUSIVE
    sync, windows, lacking = None, None, []
    if run.sync_phase is not None and run.plan.windows is not None:
        run.stop_sync()
        sync = run.sync_phase.outcome()
        windows = collector.windows(run.plan.windows.window).recorders
        if lacking := collector.without_windows():
            problem = (
                f"worker(s) {', '.join(lacking)} split no request by window (an older "
                "edgesla, or one that could not build the master's plan: see its stderr); "
                "the results have no windows"
            )
            sync = sync.model_copy(update={"problems": (*sync.problems, problem)})
        if sync.problems:
            _say(stream, "sync: INCONCLUSIVE (exit 3): the sync was not the one planned:")
            for problem in sync.problems:
                _say(stream, f"  - {problem}")
            code = exitcodes.INCONCLUSIVE
    if options.results_dir:
        started = run.started_at or datetime.now(UTC)
        meta = RunMeta(
            profile=options.load_profile,
            target_rates=run.plan.target_rates,
            duration_seconds=run.plan.duration,
            started_at=started,
            ended_at=min(datetime.now(UTC), started + timedelta(seconds=run.plan.duration)),
            generators=collector.generators() or (GeneratorHost("unknown", 1),),
            command_line=tuple(sys.argv),
            health=health,
            pop=run.plan.pop,
        )
        with tempfile.TemporaryDirectory(prefix="edgesla-locust-") as tmp:
            locust_dir = Path(tmp) / "locust"
            write_locust_files(run.environment, locust_dir)
            write_results(
                Path(options.results_dir),
                meta,
                recorder,
                locust_dir=locust_dir,
                accounting=accounting,
                windows=None if lacking else windows,
                sync=None if lacking else sync,
            )
    return code
