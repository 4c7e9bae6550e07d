"""The report's inline SVG charts: evidence a manager can read, never decoration.

* :func:`latency_chart` — the distribution of latencies on a log axis against the
  threshold, histogram buckets summed into display bins (``_latency_bins``);
* :func:`budget_burn_chart` — cumulative bad events over the period against the budget;
* :func:`lag_chart` — replication lag over time against the threshold.

Each takes the evidence and the :class:`ObjectiveResult` judged on it, and states on the
chart, in words and from the result's own good/total, what the verdict counted. When the
evidence cannot be drawn honestly (no data, cumulative counts that fall, a total that is
not the judged total) the chart says so in words instead of drawing it. Tick labels are
chosen by ``_axes.fit_ticks``: round values, at most twelve, never overlapping, never
outside the chart. A bar's height is a share of the judged total, so it never passes 100 %.
No JavaScript, no external fetches; every text is escaped.
"""

from __future__ import annotations

from datetime import datetime

from edgesla.report.model import (
    AvailabilityEvidence,
    LagEvidence,
    LatencyEvidence,
    ObjectiveResult,
)
from edgesla.report.render._latency_chart import latency_chart, latency_problems
from edgesla.report.render._time_charts import budget_burn_chart, lag_chart

__all__ = ["budget_burn_chart", "chart", "lag_chart", "latency_chart", "latency_problems"]


def chart(result: ObjectiveResult, period: tuple[datetime, datetime] | None = None) -> str | None:
    """The chart of a result's evidence, or None when it has none to chart (a fleet roll-up,
    an availability evidence without a bad-event series)."""
    evidence = result.evidence
    if isinstance(evidence, LatencyEvidence):
        return latency_chart(evidence, result)
    if isinstance(evidence, AvailabilityEvidence) and evidence.bad_over_time:
        return budget_burn_chart(evidence, result)
    if isinstance(evidence, LagEvidence):
        return lag_chart(evidence, result, period)
    return None
