"""Renders the probe-specific samples of each target's latest results, on every scrape.

Nothing here touches a database: a scrape reads the results the scheduler stored.

**One slot per target and duty.** ``store(key, result, duty)`` keeps the latest result of
each duty of a target: the probe's (``duty="probe"``, the default) and each background
duty's (e.g. ``"beat"``, the heartbeat writer), so a heartbeat that measures something
publishes it beside the probe's samples instead of replacing them. A duty publishes samples
by returning them in its ``ProbeResult``, as a prober does; the slot holds its latest
*settled* run, so a run recorded as a timeout empties it (no stale values). Two slots must
not emit the same series (name and labels): if they do, the probe's wins, then the duties'
in name order.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgesla.exporters.metrics import TargetLabels
from edgesla.metric_help import help_for
from edgesla.probes._result import ProbeResult

__all__ = ["PROBE_SLOT", "SampleCollector"]

_COMMON = ("pop", "region", "target", "prober")
#: The slot of the target's prober (``edgesla.exporters.runs.PROBE``).
PROBE_SLOT = "probe"


class SampleCollector(Collector):
    def __init__(self) -> None:
        self._latest: dict[tuple[TargetLabels, str], ProbeResult] = {}
        self._lock = threading.Lock()

    def store(self, key: TargetLabels, result: ProbeResult, duty: str = PROBE_SLOT) -> None:
        with self._lock:
            self._latest[(key, duty)] = result

    def forget(self, key: TargetLabels) -> None:
        """Drop every slot of a target (it left the config on a reload)."""
        with self._lock:
            for slot in [k for k in self._latest if k[0] == key]:
                del self._latest[slot]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            latest = sorted(
                self._latest.items(), key=lambda kv: (kv[0][0], kv[0][1] != PROBE_SLOT, kv[0][1])
            )
        by_name: dict[str, list[tuple[TargetLabels, dict[str, str], float, str]]] = defaultdict(
            list
        )
        seen: set[tuple[TargetLabels, str, tuple[tuple[str, str], ...]]] = set()
        for (key, _), result in latest:
            for sample in result.samples:
                series = (key, sample.name, tuple(sorted(sample.labels.items())))
                if series in seen:
                    continue
                seen.add(series)
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
