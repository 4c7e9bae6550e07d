"""Renders the probe-specific samples of each target's latest result, on every scrape.

Nothing here touches a database: a scrape reads the results the scheduler stored.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgesla.metric_help import help_for
from exporters.metrics import TargetLabels
from probes._result import ProbeResult

__all__ = ["SampleCollector"]

_COMMON = ("pop", "region", "target", "prober")


class SampleCollector(Collector):
    def __init__(self) -> None:
        self._latest: dict[TargetLabels, ProbeResult] = {}
        self._lock = threading.Lock()

    def store(self, key: TargetLabels, result: ProbeResult) -> None:
        with self._lock:
            self._latest[key] = result

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            latest = dict(self._latest)
        by_name: dict[str, list[tuple[TargetLabels, dict[str, str], float, str]]] = defaultdict(
            list
        )
        for key, result in latest.items():
            for sample in result.samples:
                by_name[sample.name].append((key, dict(sample.labels), sample.value, sample.kind))
        for name, rows in sorted(by_name.items()):
            extra = sorted({k for _, labels, _, _ in rows for k in labels})
            family: GaugeMetricFamily | CounterMetricFamily
            if rows[0][3] == "counter":
                family = CounterMetricFamily(name, help_for(name), labels=[*_COMMON, *extra])
            else:
                family = GaugeMetricFamily(name, help_for(name), labels=[*_COMMON, *extra])
            for key, labels, value, _ in rows:
                family.add_metric([*key, *(labels.get(k, "") for k in extra)], value)
            yield family
