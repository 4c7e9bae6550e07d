"""Counter evidence for a whole fleet in a handful of PromQL queries, still exact.

``sum by (pop) (increase(x[30d]))`` is not exact: it extrapolates to the window edges and
ignores the events between the last sample before the window and the first one in it.
Instead, per series, the exact count over the period is ``x@end - x@start`` (the values of the
last samples at or before each bound, the one at the start within the 5-minute lookback, as
the per-PoP path takes its baseline), plus the value before each reset (a reset restarts the
counter from 0), minus what fell in maintenance windows (the same at each window's bounds):
the numbers ``prometheus.count_parts`` counts from every raw sample.

1. the counter family (probe outcomes, or every latency bucket) at the period's bounds and at
   each maintenance bound: instant queries;
2. a scan (``rollups.rollup_scan`` from the report roll-ups when Prometheus records them, else
   ``scan.raw_scan``) names the slices where a PoP's counters reset or its samples are missing,
   and gives the downtime and outages; only those slices are read raw (``slices``), for the
   value before each reset and the exact gaps;
3. the budget-burn chart: one range query of the failures summed by PoP.

A PoP whose series ends before the period does, or has a gap across a maintenance bound, is
counted on the per-PoP path (``prometheus.count_parts``) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from edgesla import conventions as conv
from edgesla import promql
from edgesla.report.inputs import prometheus as single
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import Maintenance, to_datetime, windows
from edgesla.report.inputs._counters import GAP_INTERVALS, LOOKBACK, lookback_range
from edgesla.report.inputs._evidence import (
    Parts,
    SeriesCount,
    availability_evidence,
    latency_evidence,
    missing_issue,
)
from edgesla.report.inputs.rollups import rollup_scan
from edgesla.report.inputs.scan import raw_scan
from edgesla.report.inputs.slices import read_slices
from edgesla.report.model import AvailabilityEvidence, LatencyEvidence
from edgesla.slo import sli as kinds
from edgesla.slo.period import Period

__all__ = ["FleetStats", "availability_fleet", "counter_parts", "latency_fleet", "scrape_interval"]

_Key = tuple[tuple[str, str], ...]
#: Queries in flight at once (the full scans are CPU-bound in Prometheus).
_PARALLEL = 4


@dataclass
class FleetStats:
    """How the fleet was answered: queries sent, PoPs counted fleet-wide or one by one."""

    queries: int = 0
    fleet_pops: int = 0
    #: what proved the counts clean: "raw samples" or the report roll-ups
    source: str = ""
    #: PoPs counted on the per-PoP path
    per_pop: list[str] = field(default_factory=list)
    #: PoPs whose reset or gap slices were read raw
    sliced: list[str] = field(default_factory=list)
    #: the fleet-wide queries sent (each PoP's evidence lists its own raw reads)
    query_texts: list[str] = field(default_factory=list)


def _values(client: PrometheusClient, expr: str, at: float) -> dict[_Key, float]:
    return {tuple(sorted(labels.items())): value for labels, value in client.vector(expr, at)}


def _at_bound(metric: str, filters: Sequence[str]) -> str:
    """Each series' last sample at or before the bound, within ``LOOKBACK``: an explicit
    range, not the server's own lookback (Prometheus 2 holds a sample exactly 5 min old,
    Prometheus 3 and VictoriaMetrics do not); the name kept, as a plain selector keeps it."""
    last = f"last_over_time({promql.selector(metric, *filters)}{lookback_range(0)})"
    return f'label_replace({last}, "__name__", "{metric}", "", "")'


def _pop(key: _Key) -> str:
    return dict(key).get(conv.LABEL_POP, "")


def scrape_interval(client: PrometheusClient, period: Period, filters: Sequence[str] = ()) -> float:
    """The usual scrape interval: the median sample count of an ``up`` series in the period's
    last hour (15 s when nothing is there)."""
    span = min(3600.0, period.seconds)
    expr = f"count_over_time({conv.PROBE_UP}{promql.matchers(*filters)}[{promql.range_ms(span)}])"
    counts = sorted(v for _, v in client.vector(expr, period.end.timestamp() - 0.001))
    if not counts or counts[len(counts) // 2] < 2:
        return 15.0
    return round(span / counts[len(counts) // 2], 3)


def counter_parts(
    client: PrometheusClient,
    sli: kinds.CounterSli,
    period: Period,
    *,
    pops: Sequence[str],
    targets: Sequence[str] | None = None,
    maintenance: Maintenance = (),
    interval: float | None = None,
    stats: FleetStats | None = None,
    chart_points: int = 0,
    rollups: bool = True,
) -> dict[str, Parts | None]:
    """Exact ``Parts`` of every PoP of ``pops`` (None: no series of ``sli`` there).

    ``rollups=False`` scans raw samples even where the report roll-ups are recorded.
    """
    stats = stats if stats is not None else FleetStats()
    start, end = period.start.timestamp(), period.end.timestamp()
    clipped = windows(maintenance, start, end)
    spans = [(lo, hi) for lo, hi, _ in clipped]
    filters = sli.filters(tuple(targets or ()))
    interval = interval or scrape_interval(client, period, filters)
    family = _at_bound(sli.metric, filters)
    times = [end, start, *(t for lo, hi in spans for t in (hi, lo))]
    queries = [f"{family} @ {t:.3f}" for t in times]
    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        answers = list(pool.map(lambda at: _values(client, family, at), times))
        # The PoP-level roll-ups name a superset of the slices any targets filter needs (a
        # PoP's targets share one exporter: it restarts, and is scraped, for all of them at
        # once), but their downtime is the whole PoP's: a filtered availability SLI scans raw.
        per_pop_scan = () if sli.group_label == "le" else filters
        rolled = rollup_scan(client, start, end, interval, per_pop_scan, spans) if rollups else None
        scan = rolled or raw_scan(client, start, end, interval, LOOKBACK, filters, spans)
    queries += scan.queries
    at_end, at_start = answers[0], answers[1]
    bounds = [(answers[2 + 2 * i], answers[3 + 2 * i]) for i in range(len(spans))]
    odd = {_pop(k) for k in at_start if k not in at_end}
    odd |= {_pop(k) for hi_v, lo_v in bounds for k in lo_v if k not in hi_v}
    parts: dict[str, Parts] = {}
    for key, value in at_end.items():
        pop = _pop(key)
        excluded = {}
        for index, (hi_values, lo_values) in enumerate(bounds):
            n = round(hi_values.get(key, 0.0) - lo_values.get(key, 0.0))
            if n:
                excluded[index] = n
        counted = round(value - at_start.get(key, 0.0)) - sum(excluded.values())
        entry = parts.setdefault(pop, Parts(interval=interval))
        entry.series.append(SeriesCount(dict(key), counted, excluded))
    wanted = sorted(set(pops))
    sliced = {pop: scan.slices[pop] for pop in wanted if pop in scan.slices and pop in parts}
    if sliced:
        stats.sliced += sorted(sliced)
        max_gap = GAP_INTERVALS * interval
        odd |= read_slices(client, sli, sliced, parts, period, spans, filters, max_gap)
    out: dict[str, Parts | None] = {}
    for pop in wanted:
        if pop in odd or pop not in parts:
            stats.per_pop.append(pop)
            counted_raw = single.count_parts(client, sli, pop, period, targets, maintenance)
            out[pop] = counted_raw[0] if counted_raw is not None else None
            continue
        stats.fleet_pops += 1
        entry = parts[pop]
        entry.downtime = scan.downtime.get(pop, 0.0)
        entry.outages = scan.outages.get(pop, 0)
        out[pop] = entry
    stats.queries += len(queries)
    stats.query_texts += queries
    stats.source = scan.source
    if chart_points and sli.group_label == conv.LABEL_RESULT:
        from_rollups = scan.source != "raw samples" and not filters
        _charts(client, period, chart_points, filters, from_rollups, out, spans, stats)
    return out


def _charts(
    client: PrometheusClient,
    period: Period,
    points: int,
    filters: Sequence[str],
    rolled: bool,
    out: dict[str, Parts | None],
    spans: Sequence[tuple[float, float]],
    stats: FleetStats,
) -> None:
    """Cumulative failed probes per PoP at ``points`` times, from the judged counts: resets
    added back, maintenance left out (flat through a window). Chart only: not for verdicts."""
    start, end = period.start.timestamp(), period.end.timestamp()
    step = (end - start) / points
    failure = promql.selector(
        conv.PROBE_RESULTS_TOTAL, *filters, f'{conv.LABEL_RESULT}!="{single.SUCCESS}"'
    )
    # explicit ranges: each server's own lookback differs (VictoriaMetrics' follows the
    # samples' interval); a chart point holds the last value of the 5 minutes before it
    counted = conv.ROLLUP_FAILURES if rolled else failure
    expr = f"sum by (pop) (last_over_time({counted}{lookback_range(0)}))"
    stats.queries += 2
    stats.query_texts.append(f"{expr} (range, {points} points)")
    base = {_pop(k): v for k, v in _values(client, expr, start).items()}
    series = {
        labels.get(conv.LABEL_POP, ""): samples
        for labels, samples in client.query_range(expr, start + step, end, step)
    }
    for pop, parts in out.items():
        if parts is None or parts.chart:
            continue
        bad = [s for s in parts.series if s.labels.get(conv.LABEL_RESULT) != single.SUCCESS]
        resets = sorted((t, v) for s in bad for t, v in zip(s.resets, s.reset_values, strict=True))
        excluded = {i: sum(s.excluded.get(i, 0) for s in bad) for i in range(len(spans))}
        zero = base.get(pop, 0.0)
        held = 0.0
        chart: list[tuple[datetime, float]] = []
        for t, v in series.get(pop, []):
            if not any(lo < t < hi for lo, hi in spans):
                back = sum(n for at, n in resets if at <= t)
                ended = sum(excluded[i] for i, (_, hi) in enumerate(spans) if hi <= t)
                held = max(0.0, v - zero + back - ended)
            chart.append((to_datetime(t), held))
        parts.chart = tuple(chart)


def availability_fleet(
    url: str | PrometheusClient,
    window_start: datetime,
    window_end: datetime,
    *,
    pops: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    maintenance: Maintenance = (),
    scrape_interval: float | None = None,
    sli: str = "probe_success",
    chart_points: int = 500,
    stats: FleetStats | None = None,
    rollups: bool = True,
) -> dict[str, AvailabilityEvidence]:
    """Exact availability evidence for every PoP (or ``pops``), keyed by PoP."""
    client = single.as_client(url)
    period = Period(window_start, window_end, "range", "")
    counter = kinds.KINDS[sli]
    assert isinstance(counter, kinds.CounterSli)
    wanted = pops if pops is not None else single.pops(client, window_start, window_end)
    found = counter_parts(
        client,
        counter,
        period,
        pops=wanted,
        targets=targets,
        maintenance=maintenance,
        interval=scrape_interval,
        stats=stats,
        chart_points=chart_points,
        rollups=rollups,
    )
    source = f"prometheus {client.url}"
    clipped = windows(maintenance, window_start.timestamp(), window_end.timestamp())
    out = {}
    for pop, parts in found.items():
        if parts is None:
            issue = missing_issue(conv.PROBE_RESULTS_TOTAL, pop, targets, period)
            out[pop] = AvailabilityEvidence(
                sli, pop, 0, 0, window_start, window_end, issues=(issue,), source=source
            )
        else:
            out[pop] = availability_evidence(sli, pop, period, parts, clipped, source)
    return out


def latency_fleet(
    url: str | PrometheusClient,
    period: Period,
    *,
    thresholds: dict[str, float],
    targets: Sequence[str] | None = None,
    maintenance: Maintenance = (),
    scrape_interval: float | None = None,
    stats: FleetStats | None = None,
    rollups: bool = True,
) -> dict[str, LatencyEvidence]:
    """Exact latency evidence (every bucket) for each PoP of ``thresholds`` (PoP -> its
    threshold: per-PoP overrides differ)."""
    client = single.as_client(url)
    found = counter_parts(
        client,
        kinds.PROBE_LATENCY,
        period,
        pops=list(thresholds),
        targets=targets,
        maintenance=maintenance,
        interval=scrape_interval,
        stats=stats,
        rollups=rollups,
    )
    source = f"prometheus {client.url}"
    clipped = windows(maintenance, period.start.timestamp(), period.end.timestamp())
    out = {}
    for pop, parts in found.items():
        threshold = thresholds[pop]
        if parts is None:
            issue = missing_issue(kinds.PROBE_LATENCY.metric, pop, targets, period)
            out[pop] = LatencyEvidence(
                kinds.PROBE_LATENCY.key,
                pop,
                threshold,
                0,
                0,
                issues=(issue,),
                source=source,
                period_seconds=period.seconds,
            )
            continue
        parts.downtime = parts.outages = None
        out[pop] = latency_evidence(
            kinds.PROBE_LATENCY.key, pop, period, parts, threshold, clipped, source
        )
    return out
