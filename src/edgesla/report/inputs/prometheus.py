"""Evidence for one PoP, counted on every raw sample: the reference path.

Every raw sample of the period is fetched with a range-vector selector
(``metric{pop="X", ...}[period + 5m]`` at the period's end) and counted here
(``_counters``): exact integers, counter resets and gaps found and reported, maintenance
excluded. PromQL's ``increase()`` is never used: it extrapolates to the period's edges and is
not an integer. This path costs a raw fetch per PoP; ``fleet`` gives the same evidence for
every PoP in a few queries, and falls back to this path only for odd PoPs. ``edgesla report
--evidence per-pop`` uses it for every PoP (slow; the reference the fleet path is tested
against).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from edgesla import conventions as conv
from edgesla import promql
from edgesla.report.inputs._client import PrometheusClient, RawSeries
from edgesla.report.inputs._common import Maintenance, to_datetime, windows
from edgesla.report.inputs._counters import (
    GAP_INTERVALS,
    classify_gaps,
    count_increases,
    down_outages,
    down_seconds,
    downsample_cumulative,
    lookback_range,
    runs_per_target,
    scrape_interval,
)
from edgesla.report.inputs._evidence import (
    Parts,
    SeriesCount,
    availability_evidence,
    latency_evidence,
    missing_issue,
)
from edgesla.report.model import AvailabilityEvidence, LatencyEvidence
from edgesla.slo import sli as kinds
from edgesla.slo.period import Period

__all__ = ["SUCCESS", "as_client", "availability", "count_parts", "latency", "pops"]

SUCCESS = "success"


def as_client(url: str | PrometheusClient) -> PrometheusClient:
    return url if isinstance(url, PrometheusClient) else PrometheusClient(url)


def _period(start: datetime, end: datetime) -> Period:
    return Period(start, end, "range", "")


def _raw(
    client: PrometheusClient,
    metric: str,
    filters: Sequence[str],
    pop: str,
    lo: float,
    hi: float,
    queries: list[str],
) -> list[RawSeries]:
    """Every sample of (lo - LOOKBACK, hi] of ``metric`` at ``pop`` (the baseline included)."""
    series = promql.selector(metric, promql.equals(conv.LABEL_POP, pop), *filters)
    expr = f"{series}{lookback_range(hi - lo)}"
    queries.append(expr)
    return client.raw(expr, hi)


def count_parts(
    client: PrometheusClient,
    sli: kinds.CounterSli,
    pop: str,
    period: Period,
    targets: Sequence[str] | None,
    maintenance: Maintenance,
) -> tuple[Parts, list[RawSeries], list[RawSeries]] | None:
    """Exact counts, gaps, downtime and outages of one PoP from its raw samples; None when
    it has no series of ``sli``. Also returns the raw counter and ``up`` series."""
    start, end = period.start.timestamp(), period.end.timestamp()
    spans = [(lo, hi) for lo, hi, _ in windows(maintenance, start, end)]
    filters = sli.filters(tuple(targets or ()))
    parts = Parts()
    counters = _raw(client, sli.metric, filters, pop, start, end, parts.queries)
    if not counters:
        return None
    ups = _raw(client, conv.PROBE_UP, filters, pop, start, end, parts.queries)
    for labels, samples in counters:
        counted = count_increases(samples, start, end, spans)
        parts.series.append(
            SeriesCount(
                labels,
                counted.counted,
                dict(counted.excluded_by_window),
                counted.resets,
                counted.reset_values,
            )
        )
    times: dict[str, list[float]] = defaultdict(list)
    for labels, samples in ups:
        times[labels.get(conv.LABEL_TARGET, "?")] += [t for t, _ in samples]
    runs = runs_per_target(counters, histogram=sli.group_label == "le")
    every = sorted({t for found in times.values() for t in found})
    parts.interval = scrape_interval(every)
    max_gap = GAP_INTERVALS * parts.interval
    for target in sorted(times):
        found = sorted(times[target])
        for gap in classify_gaps(found, runs.get(target, []), start, end, max_gap):
            parts.gaps.append((target, gap))
    if ups:
        up_samples = [samples for _, samples in ups]
        parts.downtime = down_seconds(up_samples, start, end, spans, max_gap)
        parts.outages = down_outages(up_samples, start, end, spans, max_gap)
    return parts, counters, ups


def availability(
    url: str | PrometheusClient,
    window_start: datetime,
    window_end: datetime,
    *,
    pop: str,
    targets: Sequence[str] | None = None,
    maintenance: Maintenance = (),
    sli: str = "probe_success",
    chart_points: int = 500,
) -> AvailabilityEvidence:
    """Exact good/total probe runs of ``pop`` (``targets``: all when None) in the window."""
    client = as_client(url)
    period = _period(window_start, window_end)
    start, end = window_start.timestamp(), window_end.timestamp()
    clipped = windows(maintenance, start, end)
    counter = kinds.KINDS[sli]
    assert isinstance(counter, kinds.CounterSli)
    source = f"prometheus {client.url}"
    counted = count_parts(client, counter, pop, period, targets, maintenance)
    if counted is None:
        issue = missing_issue(conv.PROBE_RESULTS_TOTAL, pop, targets, period)
        return AvailabilityEvidence(
            sli, pop, 0, 0, window_start, window_end, issues=(issue,), source=source
        )
    parts, counters, _ = counted
    spans = [(lo, hi) for lo, hi, _ in clipped]
    bad = []
    for labels, samples in counters:
        if labels.get(conv.LABEL_RESULT) != SUCCESS:
            bad += count_increases(samples, start, end, spans).increments
    chart = downsample_cumulative(bad, start, end, chart_points)
    parts.chart = tuple((to_datetime(t), float(n)) for t, n in chart)
    if not parts.series or parts.downtime is None:
        covered = end - start - sum(hi - lo for lo, hi in spans)
        total = sum(s.counted for s in parts.series)
        good = sum(s.counted for s in parts.series if s.labels.get(conv.LABEL_RESULT) == SUCCESS)
        parts.downtime = (total - good) / total * covered if total else 0.0
    return availability_evidence(sli, pop, period, parts, clipped, source)


def latency(
    url: str | PrometheusClient,
    window_start: datetime,
    window_end: datetime,
    *,
    pop: str,
    threshold: float,
    targets: Sequence[str] | None = None,
    maintenance: Maintenance = (),
    sli: str = "probe_latency",
) -> LatencyEvidence:
    """Exact count of probes slower than ``threshold`` (a bucket bound) and every bucket's
    exact count, of exactly the judged series (``targets``, maintenance left out)."""
    client = as_client(url)
    period = _period(window_start, window_end)
    start, end = window_start.timestamp(), window_end.timestamp()
    clipped = windows(maintenance, start, end)
    source = f"prometheus {client.url}"
    counted = count_parts(client, kinds.PROBE_LATENCY, pop, period, targets, maintenance)
    if counted is None:
        issue = missing_issue(kinds.PROBE_LATENCY.metric, pop, targets, period)
        return LatencyEvidence(
            sli,
            pop,
            threshold,
            0,
            0,
            issues=(issue,),
            source=source,
            period_seconds=period.seconds,
        )
    parts, _, _ = counted
    parts.downtime = parts.outages = None  # latency has no downtime
    return latency_evidence(sli, pop, period, parts, threshold, clipped, source)


def pops(url: str | PrometheusClient, window_start: datetime, window_end: datetime) -> list[str]:
    """The PoPs with probe counters in the window (from the index: cheap)."""
    client = as_client(url)
    return client.label_values(
        conv.LABEL_POP, conv.PROBE_RESULTS_TOTAL, window_start.timestamp(), window_end.timestamp()
    )
