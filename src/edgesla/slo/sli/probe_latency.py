"""probe_latency: the share of probe runs that answered within a threshold.

Counted from the exporter's histogram ``edgesla_probe_latency_seconds`` (by ``le``): all
events are the ``+Inf`` bucket, good events the bucket whose bound is the threshold. The
thresholds are bucket bounds (``conventions.LATENCY_BUCKETS_SECONDS``), so the count is exact,
and ``le`` is inclusive: **a probe at exactly the threshold counts as within** (``≤``).
The rules read all events from ``_count``, which equals the ``+Inf`` bucket by definition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgesla import conventions as conv
from edgesla import promql
from edgesla.slo.sli._base import CounterSli, Words

__all__ = ["PROBE_LATENCY", "ProbeLatency"]

Agg = Callable[[str], str]


@dataclass(frozen=True)
class ProbeLatency(CounterSli):
    def total(self, filters: Sequence[str], window: str, agg: Agg) -> str:
        series = promql.selector(f"{conv.PROBE_LATENCY_SECONDS}_count", *filters)
        return agg(f"increase({series}[{window}])")

    def bad(self, filters: Sequence[str], window: str, agg: Agg, threshold: float) -> str:
        """All runs minus those within ``threshold`` (a bucket bound)."""
        at = promql.equals("le", promql.le(threshold))
        fast = promql.selector(self.metric, *filters, at)
        return f"({self.total(filters, window, agg)} - {agg(f'increase({fast}[{window}])')})"


PROBE_LATENCY = ProbeLatency(
    key="probe_latency",
    kind="latency",
    words=Words(noun="probes", bounded="the true share"),
    metric=f"{conv.PROBE_LATENCY_SECONDS}_bucket",
    group_label="le",
)
