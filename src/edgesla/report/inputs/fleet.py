"""Availability evidence for a whole fleet in a handful of PromQL queries, still exact.

``sum by (pop, result) (increase(x[30d]))`` is not exact: it extrapolates to the window
edges and ignores the events between the last sample before the window and the first one
in it. Instead, per series, the exact count of a clean window is ``x@end - x@start``: the
value of the last sample at or before the end minus the one at or before the start — the
same numbers the per-PoP counter (``prometheus.availability``) produces, *provided* the
counter was not reset and was scraped throughout. Both are checked fleet-wide:

1. ``x`` at end, ``x`` at start (and at each maintenance bound): exact differences; every
   counter has its ``up`` series at the end, and none vanished before it;
2. no reset and no scrape gap in the window (``rollups``): from the report roll-ups when
   Prometheus records them (8,640 points a PoP for 30 days, whatever the scrape rate), else
   from every raw sample (``resets``, ``count_over_time``: time grows with the scrape rate);
   the same scan gives the downtime (any target down, as on the per-PoP path; maintenance
   windows subtracted: ``downtime``);
3. one ``query_range`` of the failures summed by PoP for the budget-burn charts (failures in
   maintenance windows taken off, from the exact counts of step 1).

About ten queries (sent 4 at a time) cover the clean PoPs; only PoPs with resets, gaps or no
data cost their own raw fetch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from edgesla import conventions as conv
from edgesla.report.inputs import prometheus as single
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import (
    Maintenance,
    excluded_issues,
    target_key,
    to_datetime,
    to_seconds,
    windows,
)
from edgesla.report.inputs._counters import LOOKBACK
from edgesla.report.inputs.rollups import raw_scan, rollup_scan
from edgesla.report.model import AvailabilityEvidence, DataIssue

__all__ = ["FleetStats", "availability_fleet"]

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
    per_pop: list[str] = field(default_factory=list)


def _values(
    client: PrometheusClient, expr: str, at: float, targets: Sequence[str] | None
) -> dict[_Key, float]:
    out = {}
    for labels, value in client.vector(expr, at):
        if targets is None or labels.get(conv.LABEL_TARGET) in targets:
            out[tuple(sorted(labels.items()))] = value
    return out


def _pop(key: _Key) -> str:
    return dict(key).get(conv.LABEL_POP, "")


def availability_fleet(
    url: str | PrometheusClient,
    window_start: datetime,
    window_end: datetime,
    *,
    pops: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    maintenance: Maintenance = (),
    scrape_interval: float = 15.0,
    sli: str = "probe_success",
    chart_points: int = 500,
    stats: FleetStats | None = None,
) -> dict[str, AvailabilityEvidence]:
    """Exact availability evidence for every PoP (or ``pops``), keyed by PoP."""
    client = url if isinstance(url, PrometheusClient) else PrometheusClient(url)
    stats = stats if stats is not None else FleetStats()
    start, end = to_seconds(window_start), to_seconds(window_end)
    maintenance = list(maintenance)
    clipped = windows(maintenance, start, end)
    metric, up = conv.PROBE_RESULTS_TOTAL, conv.PROBE_UP

    jobs = [
        (metric, end),
        (metric, start),
        (up, end),
        *((metric, at) for lo, hi, _ in clipped for at in (hi, lo)),
    ]
    stats.queries += len(jobs)
    # Independent queries, sent side by side: Prometheus evaluates each on its own core.
    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        answers = list(pool.map(lambda job: _values(client, job[0], job[1], targets), jobs))
        spans = [(lo, hi) for lo, hi, _ in clipped]
        scan = rollup_scan(client, start, end, scrape_interval, LOOKBACK, targets, spans)
        if scan is None:
            scan = raw_scan(client, start, end, scrape_interval, LOOKBACK, targets, spans)
    stats.queries += scan.queries
    stats.source = scan.source
    at_end, at_start, up_now = answers[:3]
    bounds = [(answers[3 + 2 * i], answers[4 + 2 * i]) for i in range(len(clipped))]
    wanted = sorted({_pop(k) for k in at_end} if pops is None else set(pops))

    suspect = set(scan.suspect)
    counter_targets = {(_pop(k), target_key(dict(k))) for k in at_end}
    up_targets = {(_pop(k), target_key(dict(k))) for k in up_now}
    suspect |= {p for p, t in counter_targets - up_targets}
    suspect |= {_pop(k) for k in at_start if k not in at_end}  # stale at the end

    good: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    ex_good: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    ex_total: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for key, value in at_end.items():
        pop, ok = _pop(key), dict(key).get(conv.LABEL_RESULT) == single.SUCCESS
        excluded = 0
        for index, (hi_values, lo_values) in enumerate(bounds):
            n = round(hi_values.get(key, 0.0) - lo_values.get(key, 0.0))
            excluded += n
            ex_total[pop][index] += n
            ex_good[pop][index] += n if ok else 0
        counted = round(value - at_start.get(key, 0.0)) - excluded
        total[pop] += counted
        good[pop] += counted if ok else 0
    rolled = scan.source != "raw samples"
    charts = _charts(client, start, end, chart_points, stats, rolled) if chart_points else {}
    out = {}
    source = f"prometheus {client.url}"
    for pop in wanted:
        if pop in suspect or pop not in total:
            stats.per_pop.append(pop)
            out[pop] = single.availability(
                client, window_start, window_end, pop=pop, targets=targets,
                maintenance=maintenance, sli=sli, chart_points=chart_points,
            )  # fmt: skip
            continue
        stats.fleet_pops += 1
        issues: list[DataIssue] = excluded_issues(clipped, ex_good[pop], ex_total[pop])
        excluded_bad = {i: ex_total[pop][i] - ex_good[pop][i] for i in ex_total[pop]}
        chart = _minus_maintenance(charts.get(pop, ()), spans, excluded_bad)
        out[pop] = AvailabilityEvidence(
            sli, pop, good[pop], total[pop], window_start, window_end,
            bad_over_time=chart, downtime_seconds=scan.downtime.get(pop),
            issues=tuple(issues), source=source,
        )  # fmt: skip
    return out


def _minus_maintenance(
    chart: tuple[tuple[datetime, float], ...],
    spans: Sequence[tuple[float, float]],
    excluded_bad: dict[int, int],
) -> tuple[tuple[datetime, float], ...]:
    """The cumulative failures without those in maintenance windows, as the per-PoP path draws
    them: flat through a window, lowered by its failures after it."""
    out: list[tuple[datetime, float]] = []
    held = 0.0
    for moment, value in chart:
        t = moment.timestamp()
        if not any(lo < t < hi for lo, hi in spans):
            ended = sum(excluded_bad.get(i, 0) for i, (_, hi) in enumerate(spans) if hi <= t)
            held = max(0.0, value - ended)
        out.append((moment, held))
    return tuple(out)


def _charts(
    client: PrometheusClient, start: float, end: float, points: int, stats: FleetStats, rolled: bool
) -> dict[str, tuple[tuple[datetime, float], ...]]:
    """Cumulative failed probes per PoP at ``points`` times (chart only; not for verdicts)."""
    step = (end - start) / points
    expr = (
        f"sum by (pop) ({conv.ROLLUP_FAILURES})"
        if rolled
        else f'sum by (pop) ({conv.PROBE_RESULTS_TOTAL}{{result!="{single.SUCCESS}"}})'
    )
    stats.queries += 2
    base = {dict(k).get("pop", ""): v for k, v in _values(client, expr, start, None).items()}
    out = {}
    for labels, samples in client.query_range(expr, start + step, end, step):
        pop = labels.get(conv.LABEL_POP, "")
        zero = base.get(pop, 0.0)
        out[pop] = tuple((to_datetime(t), max(0.0, v - zero)) for t, v in samples)
    return out
