"""Evidence from Prometheus for one PoP, counted exactly on the raw samples.

Strategy: for a single PoP the raw counter samples of the window are fetched with a
range-vector selector (``metric{pop="X"}[window + 5m]`` at the window end) and counted here
(``_counters``): exact integers, counter resets and gaps found and reported, maintenance
excluded. PromQL's ``increase()`` is not used for verdicts: it extrapolates to the window
edges and is not an integer. For thousands of PoPs see ``fleet.availability_fleet``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from edgesla import conventions as conv
from edgesla.report.inputs._client import PrometheusClient, RawSeries
from edgesla.report.inputs._common import (
    Maintenance,
    excluded_issues,
    range_ms,
    selector,
    target_key,
    to_datetime,
    to_seconds,
    windows,
)
from edgesla.report.inputs._counters import (
    GAP_INTERVALS,
    LOOKBACK,
    count_increases,
    down_seconds,
    downsample_cumulative,
    find_gaps,
    scrape_interval,
)
from edgesla.report.model import AvailabilityEvidence, DataIssue, LagEvidence, LatencyEvidence

__all__ = ["availability", "latency", "pops", "replication_lag"]

SUCCESS = "success"


def _client(url: str | PrometheusClient) -> PrometheusClient:
    return url if isinstance(url, PrometheusClient) else PrometheusClient(url)


def _raw(
    client: PrometheusClient, metric: str, start: float, end: float, targets: Sequence[str] | None,
    **labels: str,
) -> list[RawSeries]:  # fmt: skip
    expr = f"{selector(metric, **labels)}[{range_ms(end - start + LOOKBACK)}]"
    found = client.raw(expr, end)
    if targets is not None:
        found = [s for s in found if s[0].get(conv.LABEL_TARGET) in targets]
    return found


def _gap_issues(
    series: Iterable[RawSeries], start: float, end: float
) -> tuple[list[DataIssue], float]:
    """Gaps per target over the union of its series' sample times; and the scrape interval."""
    times: dict[tuple[tuple[str, str], ...], set[float]] = defaultdict(set)
    for labels, samples in series:
        times[target_key(labels)].update(t for t, _ in samples)
    issues = []
    interval = 15.0
    for key, found in sorted(times.items()):
        ordered = sorted(found)
        interval = scrape_interval(ordered)
        for lo, hi in find_gaps(ordered, start, end, GAP_INTERVALS * interval):
            target = dict(key).get(conv.LABEL_TARGET, "?")
            issues.append(
                DataIssue(
                    "gap",
                    f"target {target}: no sample for {hi - lo:.0f} s (scrape interval "
                    f"{interval:g} s); a counter spanning it still counts its events unless reset",
                    to_datetime(lo),
                    to_datetime(hi),
                )
            )
    return issues, interval


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
    client = _client(url)
    start, end = to_seconds(window_start), to_seconds(window_end)
    clipped = windows(maintenance, start, end)
    spans = [(lo, hi) for lo, hi, _ in clipped]
    counters = _raw(client, conv.PROBE_RESULTS_TOTAL, start, end, targets, pop=pop)
    ups = _raw(client, conv.PROBE_UP, start, end, targets, pop=pop)
    source = f"prometheus {client.url}"
    if not counters:
        issue = DataIssue(
            "missing_series",
            f"no {conv.PROBE_RESULTS_TOTAL} series for pop {pop!r}"
            + (f" and targets {sorted(targets)}" if targets is not None else ""),
            window_start,
            window_end,
        )
        return AvailabilityEvidence(
            sli, pop, 0, 0, window_start, window_end, issues=(issue,), source=source
        )
    good = total = 0
    ex_good: dict[int, int] = defaultdict(int)
    ex_total: dict[int, int] = defaultdict(int)
    issues: list[DataIssue] = []
    bad_increments: list[tuple[float, int]] = []
    for labels, samples in counters:
        counted = count_increases(samples, start, end, spans)
        ok = labels.get(conv.LABEL_RESULT) == SUCCESS
        total += counted.counted
        good += counted.counted if ok else 0
        for index, n in counted.excluded_by_window.items():
            ex_total[index] += n
            ex_good[index] += n if ok else 0
        if not ok:
            bad_increments += counted.increments
        for t in counted.resets:
            issues.append(
                DataIssue(
                    "counter_reset",
                    f"{conv.PROBE_RESULTS_TOTAL} target {labels.get(conv.LABEL_TARGET)} "
                    f"result {labels.get(conv.LABEL_RESULT)} was reset (exporter restart?); "
                    "counted from its new value",
                    to_datetime(t),
                )
            )
    gaps, interval = _gap_issues([*counters, *ups], start, end)
    issues += gaps + excluded_issues(clipped, ex_good, ex_total)
    if ups:
        downtime = down_seconds([s for _, s in ups], start, end, spans, GAP_INTERVALS * interval)
    else:  # estimate: the failed share of the probed time
        covered = end - start - sum(hi - lo for lo, hi in spans)
        downtime = (total - good) / total * covered if total else 0.0
    chart = downsample_cumulative(bad_increments, start, end, chart_points)
    return AvailabilityEvidence(
        sli, pop, good, total, window_start, window_end,
        bad_over_time=tuple((to_datetime(t), float(n)) for t, n in chart),
        downtime_seconds=downtime, issues=tuple(issues), source=source,
    )  # fmt: skip


def _le(value: str) -> float:
    return math.inf if value == "+Inf" else float(value)


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
    """Exact count of probes slower than ``threshold`` (a bucket bound) and the buckets."""
    client = _client(url)
    start, end = to_seconds(window_start), to_seconds(window_end)
    spans = [(lo, hi) for lo, hi, _ in windows(maintenance, start, end)]
    metric = f"{conv.PROBE_LATENCY_SECONDS}_bucket"
    source = f"prometheus {client.url}"
    bounds = client.label_values("le", selector(metric, pop=pop), start, end)
    issues: list[DataIssue] = []
    if "+Inf" not in bounds:
        issue = DataIssue("missing_series", f"no {metric} series for pop {pop!r}")
        return LatencyEvidence(sli, pop, threshold, 0, 0, issues=(issue,), source=source)
    below = [b for b in bounds if _le(b) <= threshold]
    at = max(below, key=_le) if below else None
    if at is None or not math.isclose(_le(at), threshold):
        issues.append(
            DataIssue(
                "other",
                f"no {metric} bucket at {threshold:g} s (bounds {sorted(bounds, key=_le)}); "
                f"counted over {at or 0} s instead, which can only overstate the slow share",
            )
        )
    counts: dict[str, int] = {}
    for le in dict.fromkeys(b for b in ("+Inf", at) if b is not None):
        series = _raw(client, metric, start, end, targets, pop=pop, le=le)
        counts[le] = 0
        for labels, samples in series:
            counted = count_increases(samples, start, end, spans)
            counts[le] += counted.counted
            issues += [
                DataIssue(
                    "counter_reset",
                    f"{metric} target {labels.get(conv.LABEL_TARGET)} le {le} was reset",
                    to_datetime(t),
                )
                for t in counted.resets
            ]
    total = counts["+Inf"]
    over = total - (counts[at] if at is not None else 0)
    # The chart only: other buckets from increase() (extrapolated, rounded), exact ones kept.
    expr = f"sum by (le) (increase({selector(metric, pop=pop)}[{range_ms(end - start)}]))"
    chart = {r.get("le", ""): round(v) for r, v in client.vector(expr, end)}
    chart.update(counts)
    buckets = tuple(sorted(((_le(le), n) for le, n in chart.items() if le), key=lambda b: b[0]))
    return LatencyEvidence(sli, pop, threshold, over, total, buckets, tuple(issues), source)


def replication_lag(
    url: str | PrometheusClient,
    window_start: datetime,
    window_end: datetime,
    *,
    pop: str,
    step: float,
    sli: str = "replication_lag",
) -> LagEvidence:
    """The worst origin->peer heartbeat lag of ``pop`` every ``step`` seconds."""
    client = _client(url)
    start, end = to_seconds(window_start), to_seconds(window_end)
    metric = conv.PG_REPLICATION_LAG_SECONDS
    expr = f"max by (pop) ({selector(metric, pop=pop)})"
    found = client.query_range(expr, start, end, step)
    source = f"prometheus {client.url}"
    if not found:
        issue = DataIssue("missing_series", f"no {metric} series for pop {pop!r}")
        return LagEvidence(sli, pop, (), step, (issue,), source)
    samples = sorted(found[0][1])
    issues = [
        DataIssue(
            "gap",
            f"{metric}: no value for {hi - lo:.0f} s",
            to_datetime(lo),
            to_datetime(hi),
        )
        for lo, hi in find_gaps([t for t, _ in samples], start, end, GAP_INTERVALS * step)
    ]
    points = tuple((to_datetime(t), v) for t, v in samples)
    return LagEvidence(sli, pop, points, step, tuple(issues), source)


def pops(url: str | PrometheusClient, window_start: datetime, window_end: datetime) -> list[str]:
    """The PoPs with probe counters in the window (from the index: cheap)."""
    client = _client(url)
    return client.label_values(
        conv.LABEL_POP, conv.PROBE_RESULTS_TOTAL, to_seconds(window_start), to_seconds(window_end)
    )
