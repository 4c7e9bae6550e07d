"""The load generator's own ``/metrics`` (``--metrics-listen HOST:PORT``), for Prometheus.

Served by the Locust master (or the single process of a local run) from what it already has:
the exact recorder the workers' histograms are merged into (``events.worker_report``, see
edgesla.loadtests.histograms), the plan's rate function, the runner's user count and the CPU of the
generator processes. Nothing is recorded twice; a scrape reads a snapshot
(``Recorder.cumulative``, a few hundred microseconds, so it never stalls the users' greenlets).

    edgesla_loadtest_requests_total{operation,result}      success | failure
    edgesla_loadtest_latency_seconds{operation}            successes, from the intended start
    edgesla_loadtest_late_starts_total{operation}          started > 5 ms after their slot
    edgesla_loadtest_target_requests_per_second{operation} the traffic shape's rate now
    edgesla_loadtest_users                                 running users (all workers)
    edgesla_loadtest_generator_cpu_ratio                   busiest generator process, 0..1

Every series also carries pop, region and profile. With workers, counts reach the master with
each worker report (every few seconds), so the master's numbers trail the workers' slightly;
the final reports bring them to the results' counts, which /metrics serves for
``METRICS_LINGER_SECONDS`` after the results are written (loadtests/timeline.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Metric
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from edgesla import conventions as conv
from edgesla.loadtests.histograms import Recorder
from edgesla.metric_help import help_for

__all__ = ["GeneratorView", "LoadTestCollector", "monotonic_since", "registry_for"]

_COMMON = (conv.LABEL_POP, conv.LABEL_REGION, conv.LABEL_PROFILE)
_PER_OP = (*_COMMON, conv.LABEL_OPERATION)


@dataclass(frozen=True)
class GeneratorView:
    """What the collector reads, as callables, so tests can hand in fixtures."""

    recorder: Callable[[], Recorder]
    #: the traffic shape's requests/s per operation at ``elapsed`` seconds into the schedule
    rates: Callable[[float], Mapping[str, float]]
    #: seconds since the schedule's start; None before the run has started
    elapsed: Callable[[], float | None]
    duration: float
    users: Callable[[], int]
    #: CPU of the busiest generator process, percent of one core; None when unknown
    cpu_percent: Callable[[], float | None]


class LoadTestCollector(Collector):
    """Yields fresh metric families on every collect() (client_python custom collector)."""

    def __init__(self, view: GeneratorView, pop: str, region: str, profile: str) -> None:
        self._view = view
        self._common = [pop, region, profile]

    def collect(self) -> Iterator[Metric]:
        view = self._view
        snapshot = view.recorder().cumulative(conv.LATENCY_BUCKETS_SECONDS)
        elapsed = view.elapsed()
        now = {} if elapsed is None or elapsed >= view.duration else view.rates(max(elapsed, 0))
        requests = CounterMetricFamily(
            conv.LOADTEST_REQUESTS_TOTAL.removesuffix("_total"),
            help_for(conv.LOADTEST_REQUESTS_TOTAL),
            labels=[*_PER_OP, conv.LABEL_RESULT],
        )
        latency = HistogramMetricFamily(
            conv.LOADTEST_LATENCY_SECONDS,
            help_for(conv.LOADTEST_LATENCY_SECONDS),
            labels=_PER_OP,
        )
        late = CounterMetricFamily(
            conv.LOADTEST_LATE_STARTS_TOTAL.removesuffix("_total"),
            help_for(conv.LOADTEST_LATE_STARTS_TOTAL),
            labels=_PER_OP,
        )
        target = GaugeMetricFamily(
            conv.LOADTEST_TARGET_RATE,
            help_for(conv.LOADTEST_TARGET_RATE),
            labels=_PER_OP,
        )
        for op in sorted(set(snapshot) | set(now)):
            labels = [*self._common, op]
            target.add_metric(labels, float(now.get(op, 0.0)))
            counts = snapshot.get(op)
            if counts is None:
                continue
            requests.add_metric([*labels, "success"], counts.successes)
            requests.add_metric([*labels, "failure"], counts.failed)
            late.add_metric(labels, counts.late_starts)
            buckets = [
                (_le(bound), float(n))
                for bound, n in zip(conv.LATENCY_BUCKETS_SECONDS, counts.at_or_below, strict=True)
            ]
            buckets.append(("+Inf", float(counts.successes)))
            latency.add_metric(labels, buckets, counts.sum_seconds)
        users = GaugeMetricFamily(
            conv.LOADTEST_USERS, help_for(conv.LOADTEST_USERS), labels=_COMMON
        )
        users.add_metric(self._common, view.users())
        cpu = GaugeMetricFamily(
            conv.LOADTEST_GENERATOR_CPU_RATIO,
            help_for(conv.LOADTEST_GENERATOR_CPU_RATIO),
            labels=_COMMON,
        )
        percent = view.cpu_percent()
        if percent is not None:
            cpu.add_metric(self._common, percent / 100)
        yield from (requests, latency, late, target, users, cpu)


def _le(bound: float) -> str:
    return repr(float(bound))


def registry_for(view: GeneratorView, pop: str, region: str, profile: str) -> CollectorRegistry:
    """A registry of its own (no process/platform collectors of the default registry)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LoadTestCollector(view, pop, region, profile))
    return registry


def monotonic_since(start: list[float]) -> Callable[[], float | None]:
    """``elapsed`` for a GeneratorView: seconds since ``start[0]`` (a perf_counter value)."""

    def elapsed() -> float | None:
        return time.perf_counter() - start[0] if start else None

    return elapsed
