"""probe_success and controlplane_ready: the share of probe runs that succeeded.

Counted from ``edgesla_probe_results_total`` (by ``result``): all events are every run,
good events the runs with ``result="success"``, exact increases of the counters (never a
mean of ratios). ``controlplane_ready`` is the same, limited to the etcd and kube-apiserver
probers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgesla import conventions as conv
from edgesla import promql
from edgesla.slo.sli._base import CounterSli, Words

__all__ = ["CONTROLPLANE_READY", "PROBE_SUCCESS", "ProbeOutcomes"]

Agg = Callable[[str], str]


@dataclass(frozen=True)
class ProbeOutcomes(CounterSli):
    def total(self, filters: Sequence[str], window: str, agg: Agg) -> str:
        """All runs over ``window``, aggregated by ``agg``."""
        return agg(f"increase({promql.selector(self.metric, *filters)}[{window}])")

    def bad(self, filters: Sequence[str], window: str, agg: Agg) -> str:
        """Failed runs over ``window``, aggregated by ``agg``."""
        failure = promql.equals(conv.LABEL_RESULT, "failure")
        return agg(f"increase({promql.selector(self.metric, *filters, failure)}[{window}])")


PROBE_SUCCESS = ProbeOutcomes(
    key="probe_success",
    kind="availability",
    words=Words(noun="probes", bounded="the true availability"),
    metric=conv.PROBE_RESULTS_TOTAL,
    group_label=conv.LABEL_RESULT,
)
CONTROLPLANE_READY = ProbeOutcomes(
    key="controlplane_ready",
    kind="availability",
    words=Words(noun="control-plane probes", bounded="the true availability"),
    metric=conv.PROBE_RESULTS_TOTAL,
    group_label=conv.LABEL_RESULT,
    probers=conv.CONTROL_PLANE_PROBERS,
)
