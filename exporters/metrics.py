"""The metrics every target has, owned by the framework (probes add only their own)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgesla import conventions as conv
from edgesla.probes._result import ProbeResult, Reason

if TYPE_CHECKING:
    from edgesla.exporters.runs import Runner

__all__ = ["FrameworkMetrics", "TargetLabels"]

#: (pop, region, target, prober)
TargetLabels = tuple[str, str, str, str]


class FrameworkMetrics:
    """Up, result counters, failure reasons, latency histogram, timestamps, self-metrics.

    Every series of a target is created at registration, so none is ever absent: ``up``
    starts at 0 and both result counters start at 0 (an exact availability ratio from the
    first scrape on).
    """

    def __init__(self, registry: CollectorRegistry, pop: str, region: str) -> None:
        labels = list(conv.COMMON_LABELS)
        self._pop, self._region = pop, region
        self.up = Gauge(
            conv.PROBE_UP,
            "1 when the target's last probe succeeded, else 0.",
            labels,
            registry=registry,
        )
        self.results = Counter(
            conv.PROBE_RESULTS_TOTAL,
            "Probe runs by result (success or failure).",
            [*labels, conv.LABEL_RESULT],
            registry=registry,
        )
        self.failures = Counter(
            conv.PROBE_FAILURES_TOTAL,
            "Failed probe runs by reason.",
            [*labels, conv.LABEL_REASON],
            registry=registry,
        )
        self.reason = Gauge(
            conv.PROBE_FAILURE_REASON,
            "1 for the reason of the target's current failure, 0 for the other reasons.",
            [*labels, conv.LABEL_REASON],
            registry=registry,
        )
        self.latency = Histogram(
            conv.PROBE_LATENCY_SECONDS,
            "Latency of the probed operation (query, request).",
            labels,
            buckets=conv.LATENCY_BUCKETS_SECONDS,
            registry=registry,
        )
        self.last_success = Gauge(
            conv.PROBE_LAST_SUCCESS_TIMESTAMP,
            "Unix time of the target's last successful probe (0: none yet).",
            labels,
            registry=registry,
        )
        self.last_run = Gauge(
            conv.PROBE_LAST_RUN_TIMESTAMP,
            "Unix time the target's last probe finished.",
            labels,
            registry=registry,
        )
        self.interval = Gauge(
            conv.PROBE_INTERVAL_SECONDS,
            "The target's probe interval as configured (its own, else its kind's default: "
            "1 s for etcd and kube_apiserver): the resolution its counters are collected at.",
            labels,
            registry=registry,
        )
        self.run_duration = Gauge(
            conv.PROBE_RUN_DURATION_SECONDS,
            "Wall time of the target's last probe run, including connecting.",
            labels,
            registry=registry,
        )
        self.overruns = Counter(
            conv.PROBE_OVERRUNS_TOTAL,
            "Scheduled probe runs skipped because the previous run of the target was still "
            "going (timeout too close to the interval, or too little concurrency).",
            labels,
            registry=registry,
        )
        self.deadline_exceeded = Counter(
            conv.PROBE_DEADLINE_EXCEEDED_TOTAL,
            "Probe runs the exporter recorded as a timeout at their deadline because the "
            "prober had not returned (each is also a failure with reason timeout).",
            labels,
            registry=registry,
        )
        pop_labels = [conv.LABEL_POP, conv.LABEL_REGION]
        self.scrapes = Counter(
            conv.EXPORTER_SCRAPES_TOTAL,
            "Scrapes of /metrics served.",
            pop_labels,
            registry=registry,
        )
        self.scrapes.labels(pop, region)
        self.probe_rejected = Counter(
            conv.EXPORTER_PROBE_REJECTED_TOTAL,
            "/probe requests answered 503: no probe run place freed within half their budget.",
            pop_labels,
            registry=registry,
        )
        self.probe_rejected.labels(pop, region)
        self._registry = registry

    def watch_runner(self, runner: Runner) -> Collector:
        """Export the runner's places and abandoned runs, read at each scrape."""
        collector = _RunnerCollector(runner, self._pop, self._region)
        self._registry.register(collector)
        return collector

    def collectors(self) -> tuple[list[Collector], list[Collector]]:
        """(changed only by records, live): what a cached /metrics page renders how."""
        live: list[Collector] = [self.scrapes, self.probe_rejected]
        cached: list[Collector] = [
            self.up, self.results, self.failures, self.reason, self.latency, self.last_success,
            self.last_run, self.run_duration, self.overruns, self.deadline_exceeded,
            self.interval,
        ]  # fmt: skip
        return cached, live

    def labels(self, target: str, prober: str) -> TargetLabels:
        return (self._pop, self._region, target, prober)

    def register(self, key: TargetLabels) -> None:
        """Create every series of a target with its initial value."""
        self.up.labels(*key).set(0)
        for result in ("success", "failure"):
            self.results.labels(*key, result)
        for reason in Reason:
            self.failures.labels(*key, reason.value)
            self.reason.labels(*key, reason.value).set(0)
        self.latency.labels(*key)
        self.last_success.labels(*key).set(0)
        self.last_run.labels(*key).set(0)
        self.run_duration.labels(*key).set(0)
        self.overruns.labels(*key)
        self.deadline_exceeded.labels(*key)

    def unregister(self, key: TargetLabels) -> None:
        """Remove every series of a target (it left the config on a reload)."""
        with_result = [(self.results, ("success", "failure"))]
        with_reason = [(self.failures, [r.value for r in Reason]),
                       (self.reason, [r.value for r in Reason])]  # fmt: skip
        for metric, values in [*with_result, *with_reason]:
            for value in values:
                with contextlib.suppress(KeyError):
                    metric.remove(*key, value)
        for plain in (
            self.up,
            self.latency,
            self.last_success,
            self.last_run,
            self.run_duration,
            self.overruns,
            self.deadline_exceeded,
            self.interval,
        ):
            with contextlib.suppress(KeyError):
                plain.remove(*key)

    def record(self, key: TargetLabels, result: ProbeResult, run_seconds: float) -> None:
        now = time.time()
        self.up.labels(*key).set(1 if result.success else 0)
        self.results.labels(*key, "success" if result.success else "failure").inc()
        for reason in Reason:
            self.reason.labels(*key, reason.value).set(1 if result.reason is reason else 0)
        if result.reason is not None:
            self.failures.labels(*key, result.reason.value).inc()
        if result.latency_seconds is not None:
            self.latency.labels(*key).observe(result.latency_seconds)
        if result.success:
            self.last_success.labels(*key).set(now)
        self.last_run.labels(*key).set(now)
        self.run_duration.labels(*key).set(run_seconds)


class _RunnerCollector(Collector):
    """The runner's counts as metrics (labels pop, region), read when scraped."""

    def __init__(self, runner: Runner, pop: str, region: str) -> None:
        self._runner = runner
        self._labels = [pop, region]

    def collect(self) -> Iterator[Metric]:
        names = [conv.LABEL_POP, conv.LABEL_REGION]
        runner = self._runner
        gauges = (
            (conv.EXPORTER_RUNS_IN_FLIGHT, "Probe runs holding a place now.", runner.live),
            (conv.EXPORTER_MAX_CONCURRENCY, "Places for probe runs (max_concurrency).",
             runner.max_concurrency),
            (conv.EXPORTER_ABANDONED_RUNS, "Probe runs cut off at their deadline whose "
             "prober thread has not returned yet.", runner.abandoned),
            (conv.EXPORTER_ABANDONED_RUNS_LIMIT, "Abandoned runs allowed at once; beyond, an "
             "expired run keeps its place.", runner.max_abandoned),
        )  # fmt: skip
        for name, text, value in gauges:
            gauge = GaugeMetricFamily(name, text, labels=names)
            gauge.add_metric(self._labels, float(value))
            yield gauge
        counter = CounterMetricFamily(
            conv.EXPORTER_ABANDONED_LIMIT_REACHED_TOTAL.removesuffix("_total"),
            "Expired probe runs that kept their place because the abandoned-run limit was "
            "reached (fewer runs could run at once).",
            labels=names,
        )
        counter.add_metric(self._labels, float(runner.limit_reached))
        yield counter
