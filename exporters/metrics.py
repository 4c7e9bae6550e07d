"""The metrics every target has, owned by the framework (probes add only their own)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from edgesla import conventions as conv
from probes._result import ProbeResult, Reason

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
        self.up = Gauge(conv.PROBE_UP, "1 when the target's last probe succeeded, else 0.",
                        labels, registry=registry)  # fmt: skip
        self.results = Counter(
            conv.PROBE_RESULTS_TOTAL, "Probe runs by result (success or failure).",
            [*labels, conv.LABEL_RESULT], registry=registry,
        )  # fmt: skip
        self.failures = Counter(
            conv.PROBE_FAILURES_TOTAL, "Failed probe runs by reason.",
            [*labels, conv.LABEL_REASON], registry=registry,
        )  # fmt: skip
        self.reason = Gauge(
            conv.PROBE_FAILURE_REASON,
            "1 for the reason of the target's current failure, 0 for the other reasons.",
            [*labels, conv.LABEL_REASON], registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            conv.PROBE_LATENCY_SECONDS, "Latency of the probed operation (query, request).",
            labels, buckets=conv.LATENCY_BUCKETS_SECONDS, registry=registry,
        )  # fmt: skip
        self.last_success = Gauge(
            conv.PROBE_LAST_SUCCESS_TIMESTAMP,
            "Unix time of the target's last successful probe (0: none yet).",
            labels, registry=registry,
        )  # fmt: skip
        self.last_run = Gauge(conv.PROBE_LAST_RUN_TIMESTAMP,
                              "Unix time the target's last probe finished.", labels,
                              registry=registry)  # fmt: skip
        self.run_duration = Gauge(
            conv.PROBE_RUN_DURATION_SECONDS,
            "Wall time of the target's last probe run, including connecting.",
            labels, registry=registry,
        )  # fmt: skip
        self.overruns = Counter(
            conv.PROBE_OVERRUNS_TOTAL,
            "Scheduled probe runs skipped because the previous run of the target was still "
            "going (timeout too close to the interval, or too little concurrency).",
            labels, registry=registry,
        )  # fmt: skip
        self.scrapes = Counter(conv.EXPORTER_SCRAPES_TOTAL, "Scrapes of /metrics served.",
                               [conv.LABEL_POP, conv.LABEL_REGION], registry=registry)  # fmt: skip
        self.scrapes.labels(pop, region)

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
