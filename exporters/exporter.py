"""The exporter's core: run every target's probe on its own schedule, keep the results.

Each target runs every ``interval`` (its own, or its kind's default: ``defaults.control_plane``
for etcd and kube_apiserver targets, every second unless set; ``defaults`` for the others) at a
fixed random phase within ``jitter``, so a fleet of targets does not fire at once. Runs go
through one ``edgesla.exporters.runs.Runner`` shared with ``/probe``: at most
``max_concurrency`` at once, each ended by its deadline (the target's timeout plus
``DEADLINE_GRACE_SECONDS``): a run past it is recorded as a ``timeout`` failure then,
whatever its prober does later. So ``edgesla_probe_up`` always reflects the last finished or
timed-out run.

A run due while the previous run of the same target is still going (waiting for a place,
or within its deadline) is skipped and counted as an overrun. A run due while the previous
one was already recorded as a timeout but its prober has still not returned is recorded as a
``timeout`` failure at once, without starting another: the target has not answered for a
whole interval, and availability counts every interval.

Probers get the target's timeout (always below its interval) and return a result; an
exception from a prober is a bug, recorded as reason ``error``, and never stops the
schedule.

**Background duties** (``edgesla.probes._duty``): ``postgres_replication`` targets also run a
heartbeat writer (``beat``) every ``heartbeat_interval``, ``mongodb_query`` targets the
renewal of their id sample (``id_sample``, with a budget of its own), through the same
runner; a target's duties are scheduled before its first probe. A duty's result is not
counted as a probe run; its samples are published beside the probe's (``SampleCollector``
keeps one slot per target and duty), and its failures are logged as transitions (failing,
recovered) with at most one reminder a minute.

**Reload.** ``reload(config)`` swaps in a new config of the same PoP while running. The
series of a target are keyed by its labels (name and prober): a target whose name and
prober stay keeps its counters and histogram; a target that left loses its series and
samples; a new one starts with every series at its initial value. An unchanged target (same
settings, interval and timeout) keeps its place in the schedule; a changed or new one is
scheduled afresh, within the jitter. A result of a run that started under the old config
for a target that changed or left is discarded. ``exporter.*`` settings (listen address,
max_concurrency) take effect at the next start.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from opentelemetry import trace
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from edgesla._errors import ConfigError
from edgesla.config import PopConfig, Target, interval_of, timeout_of
from edgesla.exporters.metrics import FrameworkMetrics
from edgesla.exporters.page import Page
from edgesla.exporters.runs import (
    DEADLINE_GRACE_SECONDS,
    PROBE,
    Busy,
    Outcome,
    ProbeFn,
    Run,
    Runner,
)
from edgesla.exporters.samples import SampleCollector
from edgesla.probes._duty import Duty
from edgesla.probes._result import ProbeResult, Reason

__all__ = ["Busy", "DutyLog", "Exporter", "ProbeFn"]

log = logging.getLogger("edgesla.exporter")


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    target: Target = field(compare=False)
    duty: str = field(compare=False)
    fn: ProbeFn = field(compare=False)
    interval: float = field(compare=False)
    timeout: float = field(compare=False)


class DutyLog:
    """Logs a background duty's failures as transitions — failing, recovered — and, while it
    keeps failing, at most one reminder every ``reminder`` seconds (a heartbeat fails every
    second during an outage: one warning a second would drown everything else)."""

    def __init__(self, what: str, reminder: float = 60.0) -> None:
        self.what = what
        self.reminder = reminder
        self._since: float | None = None
        self._failures = 0
        self._logged = 0.0

    def observe(self, result: ProbeResult, now: float) -> tuple[int, str] | None:
        """The (level, message) to log for this result, or None."""
        reason = result.reason.value if result.reason else "?"
        if result.success:
            if self._since is None:
                return None
            message = (
                f"{self.what}: recovered after {now - self._since:.0f}s "
                f"({self._failures} failed runs)"
            )
            self._since, self._failures = None, 0
            return logging.INFO, message
        self._failures += 1
        if self._since is None:
            self._since = self._logged = now
            return logging.WARNING, f"{self.what}: failing, reason={reason}: {result.detail}"
        if now - self._logged >= self.reminder:
            self._logged = now
            return logging.WARNING, (
                f"{self.what}: still failing after {now - self._since:.0f}s "
                f"({self._failures} failed runs), reason={reason}: {result.detail}"
            )
        return None


class Exporter:
    """Owns the schedule, the runner and the metrics of one PoP config."""

    def __init__(
        self,
        config: PopConfig,
        probers: Mapping[str, ProbeFn],
        duties: Mapping[str, Sequence[Duty]] | None = None,
        registry: CollectorRegistry | None = None,
        tracer: trace.Tracer | None = None,
        max_concurrency: int | None = None,
        grace: float = DEADLINE_GRACE_SECONDS,
    ) -> None:
        self.config = config
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.metrics = FrameworkMetrics(self.registry, config.pop, config.region)
        self.samples = SampleCollector()
        self.registry.register(self.samples)
        self.tracer = tracer or trace.NoOpTracer()
        self._probers = probers
        self._duty_table = duties or {}
        self._targets = {t.name: t for t in config.targets}
        places = max_concurrency or config.exporter.max_concurrency
        self.runner = Runner(places, places, self.tracer, config.pop, grace)
        #: /metrics: the measurements rendered again only when a record changed them
        self.page = Page()
        cached, live = self.metrics.collectors()
        for collector in [*cached, self.samples]:
            self.page.add(collector)
        for collector in [*live, self.metrics.watch_runner(self.runner)]:
            self.page.add(collector, live=True)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._inflight: dict[tuple[str, str], Run] = {}
        self._thread: threading.Thread | None = None
        self.first_round_done = threading.Event()
        self._pending_first = {t.name for t in config.targets}
        self._was_up: dict[str, bool] = {}
        self._duty_logs: dict[tuple[str, str], DutyLog] = {}
        self._replan = threading.Event()
        self._wake = threading.Event()  # the scheduler waits on it: stop, or a reload
        for target in config.targets:
            self.metrics.register(self.metrics.labels(target.name, target.prober))
        self._export_intervals(config)

    @property
    def targets(self) -> Mapping[str, Target]:
        return self._targets

    def add(self, collector: Collector, *, live: bool) -> None:
        """Export ``collector`` too: ``live``, read on every scrape (self-metrics, process
        metrics); else rendered again only after ``page.changed()`` (what never changes)."""
        self.registry.register(collector)
        self.page.add(collector, live=live)

    def reload(self, config: PopConfig) -> tuple[list[str], list[str], list[str]]:
        """Run ``config`` from now on (see the module docstring); the names of the targets
        (added, changed, removed). ConfigError, with nothing changed, when it is another
        PoP's: its pop or region differs (every series would change; restart instead)."""
        old = self.config
        if (config.pop, config.region) != (old.pop, old.region):
            raise ConfigError(
                f"pop/region changed from {old.pop}/{old.region} to {config.pop}/{config.region}:"
                " a reload keeps the PoP; restart the exporter to serve another"
            )
        new = {t.name: t for t in config.targets}
        old_keys = {self.metrics.labels(t.name, t.prober) for t in old.targets}
        new_keys = {self.metrics.labels(t.name, t.prober) for t in config.targets}
        with self._lock:
            for key in new_keys - old_keys:
                self.metrics.register(key)
            self.config, self._targets = config, new
            for key in old_keys - new_keys:
                self.metrics.unregister(key)
                self.samples.forget(key)
            self._export_intervals(config)
            for name in set(self._was_up) - set(new):
                del self._was_up[name]
            for duty in [k for k in self._duty_logs if k[0] not in new]:
                del self._duty_logs[duty]
            self._pending_first &= set(new)
            if not self._pending_first:
                self.first_round_done.set()
        self._replan.set()
        self._wake.set()
        self.page.changed()
        kept = {t.name: t for t in old.targets}
        added = sorted(set(new) - set(kept))
        removed = sorted(set(kept) - set(new))
        changed = sorted(n for n in set(new) & set(kept) if not self._same_job(old, config, n))
        return added, changed, removed

    def _export_intervals(self, config: PopConfig) -> None:
        for target in config.targets:
            key = self.metrics.labels(target.name, target.prober)
            self.metrics.interval.labels(*key).set(interval_of(config, target))

    @staticmethod
    def _same_job(old: PopConfig, new: PopConfig, name: str) -> bool:
        a = next(t for t in old.targets if t.name == name)
        b = next(t for t in new.targets if t.name == name)
        return a == b and (interval_of(old, a), timeout_of(old, a)) == (
            interval_of(new, b),
            timeout_of(new, b),
        )

    def _current(self, target: Target) -> bool:
        """Is ``target`` (as a run started with it) still the config's target of its name?"""
        return self._targets.get(target.name) == target

    def _duties(self, target: Target) -> list[tuple[str, ProbeFn, float, float]]:
        """(duty, function, interval, timeout) of the target's background duties."""
        interval, timeout = interval_of(self.config, target), timeout_of(self.config, target)
        jobs = []
        for duty in self._duty_table.get(target.prober, ()):
            every = interval if duty.every is None else duty.every(target)
            budget = min(timeout, every) if duty.budget is None else duty.budget
            jobs.append((duty.name, duty.fn, every, budget))
        return jobs

    def _jobs(self) -> list[_Job]:
        now, seq, jobs = time.monotonic(), itertools.count(), []
        jitter = self.config.defaults.jitter
        for target in self.config.targets:
            interval = interval_of(self.config, target)
            timeout = timeout_of(self.config, target)
            phase = random.uniform(0, min(jitter, interval))
            for duty, fn, every, budget in self._duties(target):  # due before the probe
                jobs.append(_Job(now, next(seq), target, duty, fn, every, budget))
            fn = self._probers[target.prober]
            jobs.append(_Job(now + phase, next(seq), target, PROBE, fn, interval, timeout))
        return jobs

    def start(self) -> None:
        """Start the schedule in a background thread."""
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(wait)
        self.runner.close(wait)

    def _loop(self) -> None:
        heap = self._jobs()
        heapq.heapify(heap)
        while not self._stop.is_set():
            if self._replan.is_set():
                self._replan.clear()
                heap = self._replanned(heap)
            job = heap[0]
            delay = job.due - time.monotonic()
            if delay > 0:
                self._wake.wait(min(delay, 0.5))
                self._wake.clear()
                continue
            heapq.heapreplace(heap, self._reschedule(job))
            self._dispatch(job)

    def _replanned(self, heap: list[_Job]) -> list[_Job]:
        """The jobs of the current config; an unchanged job keeps its due time (its phase)."""
        before = {(j.target.name, j.duty): j for j in heap}
        jobs = self._jobs()
        for job in jobs:
            was = before.get((job.target.name, job.duty))
            if was is not None and (was.target, was.interval, was.timeout) == (
                job.target,
                job.interval,
                job.timeout,
            ):
                job.due = was.due
        heapq.heapify(jobs)
        return jobs

    @staticmethod
    def _reschedule(job: _Job) -> _Job:
        due = job.due + job.interval
        now = time.monotonic()
        if due < now:  # fell behind (machine suspended, runner saturated): keep the phase
            due += ((now - due) // job.interval + 1) * job.interval
        return _Job(due, job.seq, job.target, job.duty, job.fn, job.interval, job.timeout)

    def _dispatch(self, job: _Job) -> None:
        key = (job.target.name, job.duty)
        run = Run(job.target, job.duty, job.fn, job.timeout, self._settled)
        with self._lock:
            previous = self._inflight.get(key)
            if previous is None or previous.finished:
                self._inflight[key] = run
                previous = None
        if previous is None:
            self.runner.submit(run)
        elif previous.outcome is None:  # waiting for a place, or still within its deadline
            if job.duty == PROBE:
                labels = self.metrics.labels(job.target.name, job.target.prober)
                self.metrics.overruns.labels(*labels).inc()
                self.page.changed()
                log.warning("target %s: previous run still going; run skipped", job.target.name)
        else:  # recorded as a timeout at its deadline, and its prober has still not returned
            started = previous.started or time.monotonic()
            result = ProbeResult.fail(
                Reason.TIMEOUT,
                f"the previous run, started {time.monotonic() - started:.1f}s ago, has still "
                "not returned: the target has not answered for a whole interval",
            )
            self._settled(Run(job.target, job.duty, job.fn, job.timeout), Outcome(result, 0.0))

    def _settled(self, run: Run, outcome: Outcome) -> None:
        """The outcome that counts for a scheduled run (a duty's or the probe's)."""
        if not self._current(run.target):
            log.debug(
                "target %s: result of a run under the previous config discarded", run.target.name
            )
            return
        if run.duty != PROBE:
            self._duty_result(run.target, run.duty, outcome.result)
            return
        self.record(run.target, outcome.result, outcome.seconds, outcome.timed_out)
        with self._lock:
            self._pending_first.discard(run.target.name)
            if not self._pending_first:
                self.first_round_done.set()

    def _duty_result(self, target: Target, duty: str, result: ProbeResult) -> None:
        key = self.metrics.labels(target.name, target.prober)
        self.samples.store(key, result, duty)
        self.page.changed()
        with self._lock:
            duty_log = self._duty_logs.setdefault(
                (target.name, duty), DutyLog(f"target {target.name}: background {duty}")
            )
            said = duty_log.observe(result, time.monotonic())
        if said is not None:
            log.log(*said)

    def record(
        self, target: Target, result: ProbeResult, seconds: float, timed_out: bool = False
    ) -> None:
        key = self.metrics.labels(target.name, target.prober)
        self.metrics.record(key, result, seconds)
        if timed_out:
            self.metrics.deadline_exceeded.labels(*key).inc()
        self.samples.store(key, result)
        self.page.changed()
        with self._lock:
            was_up = self._was_up.get(target.name, False)
            self._was_up[target.name] = result.success
        if result.success != was_up:
            if result.success:
                log.info("target %s: up (%s)", target.name, result.detail)
            else:
                reason = result.reason.value if result.reason else "?"
                log.warning("target %s: DOWN, reason=%s: %s", target.name, reason, result.detail)

    def probe_once(
        self, name: str, timeout: float | None = None, *, duties_first: bool = False
    ) -> tuple[ProbeResult, float]:
        """Run one target's probe now, outside the schedule (``/probe``, ``edgesla probe``),
        through the same runner as the schedule: within ``timeout`` (default: the target's)
        in all — at most half of it waiting for a place, else ``Busy`` — and never longer
        than the target's own timeout. ``duties_first``: run its background duties (the
        heartbeat) first, each within the target's timeout (``edgesla probe``), and answer
        with their samples and detail too: the heartbeat is what measures the lag."""
        config, target = self.config, self._targets[name]
        own = timeout_of(config, target)
        budget = own if timeout is None else min(own, timeout)
        duties = [
            self.runner.run_now(Run(target, duty, fn, own), wait=own).result
            for duty, fn, _, _ in (self._duties(target) if duties_first else ())
        ]
        not_after = time.monotonic() + budget
        run = Run(target, PROBE, self._probers[target.prober], own, not_after=not_after)
        outcome = self.runner.run_now(run, wait=budget / 2)
        result = outcome.result
        for seen in duties:  # the probe's verdict stands; the duty adds what it saw
            result = dataclasses.replace(
                result,
                samples=seen.samples + result.samples,
                detail=f"{seen.detail}; {result.detail}",
            )
        return result, outcome.seconds
