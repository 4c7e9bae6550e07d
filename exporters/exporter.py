"""The exporter's core: run every target's probe on its own schedule, keep the results.

Each target runs every ``interval`` (its own, or the config default) at a fixed random
phase within ``jitter``, so a fleet of targets does not fire at once. Runs go to a bounded
thread pool (``max_concurrency``). A run due while the previous run of the same target is
still going is skipped and counted as an overrun. Probers get the target's timeout (always
below its interval) and return a result; an exception from a prober is a bug, recorded as
reason ``error``, and never stops the schedule. ``postgres_replication`` targets also get a
heartbeat writer at their ``heartbeat_interval``.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from prometheus_client import CollectorRegistry

from edgesla.config import PopConfig, Target, interval_of, timeout_of
from exporters.metrics import FrameworkMetrics
from exporters.otel import span_attributes, span_outcome
from exporters.samples import SampleCollector
from probes._result import ProbeResult, Reason

__all__ = ["Exporter", "ProbeFn"]

log = logging.getLogger("edgesla.exporter")

ProbeFn = Callable[[Any, float], ProbeResult]


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    target: Target = field(compare=False)
    fn: ProbeFn = field(compare=False)
    interval: float = field(compare=False)
    timeout: float = field(compare=False)
    counted: bool = field(compare=False)  # False for background duties (heartbeats)


def run_probe(
    fn: ProbeFn, target: Target, timeout: float, tracer: trace.Tracer, pop: str
) -> tuple[ProbeResult, float]:
    """Call a prober inside a span; returns (result, wall seconds). Never raises."""
    started = time.perf_counter()
    with tracer.start_as_current_span(
        f"probe {target.prober} {target.name}", attributes=span_attributes(target, pop)
    ) as span:
        try:
            result = fn(target, timeout)
        except Exception as exc:  # a prober bug must not stop the schedule
            log.exception("prober %s raised on target %s", target.prober, target.name)
            result = ProbeResult.fail(Reason.ERROR, f"prober raised {type(exc).__name__}: {exc}")
        span_outcome(span, result)
    return result, time.perf_counter() - started


class Exporter:
    """Owns the schedule, the thread pool and the metrics of one PoP config."""

    def __init__(
        self,
        config: PopConfig,
        probers: Mapping[str, ProbeFn],
        beaters: Mapping[str, ProbeFn] | None = None,
        registry: CollectorRegistry | None = None,
        tracer: trace.Tracer | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        self.config = config
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.metrics = FrameworkMetrics(self.registry, config.pop, config.region)
        self.samples = SampleCollector()
        self.registry.register(self.samples)
        self.tracer = tracer or trace.NoOpTracer()
        self._probers = probers
        self._beaters = beaters or {}
        self._targets = {t.name: t for t in config.targets}
        self._pool = ThreadPoolExecutor(
            max_workers=max_concurrency or config.exporter.max_concurrency,
            thread_name_prefix="probe",
        )
        self._stop = threading.Event()
        self._running: set[tuple[str, bool]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.first_round_done = threading.Event()
        self._was_up: dict[str, bool] = {}
        for target in config.targets:
            self.metrics.register(self.metrics.labels(target.name, target.prober))

    @property
    def targets(self) -> Mapping[str, Target]:
        return self._targets

    def _jobs(self) -> list[_Job]:
        now, seq, jobs = time.monotonic(), itertools.count(), []
        jitter = self.config.defaults.jitter
        for target in self.config.targets:
            interval = interval_of(self.config, target)
            timeout = timeout_of(self.config, target)
            phase = random.uniform(0, min(jitter, interval))
            fn = self._probers[target.prober]
            jobs.append(_Job(now + phase, next(seq), target, fn, interval, timeout, True))
            if target.prober in self._beaters:
                every = float(getattr(target, "heartbeat_interval", interval))
                beat = self._beaters[target.prober]
                jobs.append(_Job(now, next(seq), target, beat, every, min(timeout, every), False))
        return jobs

    def start(self) -> None:
        """Start the schedule in a background thread."""
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(wait)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        heap = self._jobs()
        heapq.heapify(heap)
        pending_first = {j.target.name for j in heap if j.counted}
        while not self._stop.is_set():
            job = heap[0]
            delay = job.due - time.monotonic()
            if delay > 0:
                self._stop.wait(min(delay, 0.5))
                continue
            heapq.heapreplace(heap, self._reschedule(job))
            key = (job.target.name, job.counted)
            with self._lock:
                busy = key in self._running
                if not busy:
                    self._running.add(key)
            if busy:
                if job.counted:
                    labels = self.metrics.labels(job.target.name, job.target.prober)
                    self.metrics.overruns.labels(*labels).inc()
                    log.warning("target %s: previous run still going; run skipped",
                                job.target.name)  # fmt: skip
                continue
            self._pool.submit(self._run, job, pending_first)

    @staticmethod
    def _reschedule(job: _Job) -> _Job:
        due = job.due + job.interval
        now = time.monotonic()
        if due < now:  # fell behind (machine suspended, pool saturated): keep the phase
            due += ((now - due) // job.interval + 1) * job.interval
        return _Job(due, job.seq, job.target, job.fn, job.interval, job.timeout, job.counted)

    def _run(self, job: _Job, pending_first: set[str]) -> None:
        try:
            result, seconds = run_probe(job.fn, job.target, job.timeout, self.tracer,
                                        self.config.pop)  # fmt: skip
            if job.counted:
                self.record(job.target, result, seconds)
                with self._lock:
                    pending_first.discard(job.target.name)
                    if not pending_first:
                        self.first_round_done.set()
            elif not result.success:
                log.warning("target %s: background duty failed: %s", job.target.name,
                            result.detail)  # fmt: skip
        finally:
            with self._lock:
                self._running.discard((job.target.name, job.counted))

    def record(self, target: Target, result: ProbeResult, seconds: float) -> None:
        key = self.metrics.labels(target.name, target.prober)
        self.metrics.record(key, result, seconds)
        self.samples.store(key, result)
        with self._lock:
            was_up = self._was_up.get(target.name, False)
            self._was_up[target.name] = result.success
        if result.success != was_up:
            if result.success:
                log.info("target %s: up (%s)", target.name, result.detail)
            else:
                reason = result.reason.value if result.reason else "?"
                log.warning("target %s: DOWN, reason=%s: %s", target.name, reason, result.detail)

    def probe_once(self, name: str, timeout: float | None = None) -> tuple[ProbeResult, float]:
        """Run one target's probe now, outside the schedule (``/probe``, ``edgesla probe``)."""
        target = self._targets[name]
        budget = timeout_of(self.config, target)
        if timeout is not None:
            budget = min(budget, timeout)
        if target.prober in self._beaters:
            self._beaters[target.prober](target, budget)
        return run_probe(self._probers[target.prober], target, budget, self.tracer,
                         self.config.pop)  # fmt: skip
