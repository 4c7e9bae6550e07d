"""Replication-lag evidence: the share of grid steps in which a PoP's worst lag is within
its threshold (``slo.sli.replication_lag``), for one PoP or the whole fleet.

The grid: steps at absolute multiples of ``STEP_SECONDS`` in ``[start, end)``. Both paths
look at exactly those instants, so they count the same:

* ``per_pop``: a range query of the PoP's worst lag, one point per step (the reference);
* ``fleet``: per PoP, ``count_over_time`` and ``sum_over_time`` of ``worst <= bool T`` over a
  subquery of the same grid (``offset 1ms`` keeps the end step out), a query per threshold.

A step without a value is unobserved (``<= bool`` also makes a NaN lag count as over). Runs of
missing steps become ``unobserved`` data issues. The chart: the worst lag of each of
``chart_points`` bins (a range query of ``max_over_time`` over the same grid, either path).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from edgesla import conventions as conv
from edgesla import promql
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import to_datetime
from edgesla.report.inputs._counters import GAP_INTERVALS
from edgesla.report.inputs.rollups import Cover, cover, threshold_label
from edgesla.report.model import DataIssue, LagEvidence
from edgesla.slo.period import Period
from edgesla.slo.sli import REPLICATION_LAG

__all__ = ["CHART_POINTS", "fleet", "grid", "per_pop"]

STEP = REPLICATION_LAG.step_seconds
CHART_POINTS = 240
SUBQUERY_POINTS = 5_000_000  # PoPs x steps in one raw-scan subquery (see _parts)
_METRIC = conv.PG_REPLICATION_LAG_SECONDS


def grid(period: Period) -> tuple[float, float, int]:
    """(first step, last step, steps) of the grid in [start, end)."""
    start, end = period.start.timestamp(), period.end.timestamp()
    first = math.ceil(start / STEP) * STEP
    last = math.ceil(end / STEP) * STEP - STEP
    return first, last, max(0, round((last - first) / STEP) + 1)


def _holds_step(lo: float, hi: float) -> bool:
    """Whether ``[lo, hi)`` holds a grid step. Not ``hi - lo >= STEP``: an edge slice the
    roll-ups leave (they keep a phase of their own, to the millisecond) may be a few seconds
    long and still hold one step."""
    return math.ceil(lo / STEP) * STEP < hi


def _bin(period: Period, points: int) -> float:
    """Chart bin width: a whole number of steps, at most ``points`` bins."""
    return max(1, math.ceil(period.seconds / points / STEP)) * STEP


def _pop_matcher(pops: Sequence[str] | None) -> tuple[str, ...]:
    return (promql.one_of(conv.LABEL_POP, sorted(pops)),) if pops is not None else ()


def _chart(
    client: PrometheusClient,
    period: Period,
    pops: Sequence[str] | None,
    points: int,
    queries: list[str],
) -> dict[str, tuple[tuple[datetime, float], ...]]:
    """The worst lag of each bin of whole steps, the last bin cut at the period's end; a
    query per group of PoPs whose subquery holds at most ``SUBQUERY_POINTS`` points (a range
    query evaluates its subquery over the whole period at once)."""
    first, _, steps = grid(period)
    if not steps:
        return {}
    if pops is not None and len(pops) > 1 and len(pops) * steps > SUBQUERY_POINTS:
        size = max(1, SUBQUERY_POINTS // steps)
        ordered = sorted(pops)
        out: dict[str, tuple[tuple[datetime, float], ...]] = {}
        for i in range(0, len(ordered), size):
            out |= _chart(client, period, ordered[i : i + size], points, queries)
        return out
    per_bin = round(_bin(period, points) / STEP)
    worst = REPLICATION_LAG.worst(_pop_matcher(pops))

    def expr(n: int) -> str:
        span = f"{promql.range_ms(n * STEP)}:{promql.range_ms(STEP)}"
        return f"max_over_time(({worst})[{span}] offset 1ms)"

    bins: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    full, rest = divmod(steps, per_bin)
    width = per_bin * STEP
    if full:
        queries.append(expr(per_bin))
        for labels, values in client.query_range(
            expr(per_bin), first + width, first + full * width, width
        ):
            bins[labels.get(conv.LABEL_POP, "")] += [(to_datetime(t), v) for t, v in values]
    if rest:
        queries.append(expr(rest))
        at = first + steps * STEP
        for labels, value in client.vector(expr(rest), at):
            bins[labels.get(conv.LABEL_POP, "")].append((to_datetime(at), value))
    return {pop: tuple(values) for pop, values in bins.items()}


def _missing_issues(missing: Sequence[float]) -> list[DataIssue]:
    """Runs of ``GAP_INTERVALS`` or more missing steps, as ``unobserved`` issues."""
    out: list[DataIssue] = []
    run: list[float] = []
    for t in [*missing, math.inf]:
        if run and t - run[-1] > STEP + 1e-6:
            if len(run) >= GAP_INTERVALS:
                lo, hi = run[0], run[-1] + STEP
                out.append(
                    DataIssue(
                        "unobserved",
                        f"{_METRIC}: no value for {hi - lo:.0f} s",
                        to_datetime(lo),
                        to_datetime(hi),
                        hi - lo,
                    )
                )
            run = []
        run.append(t)
    return out


def _heartbeats(
    client: PrometheusClient, period: Period, thresholds: Mapping[str, float], queries: list[str]
) -> dict[str, list[DataIssue]]:
    """Per PoP, what its heartbeat interval (as exported at the period's end) means for its
    threshold: beats further apart than half the threshold cannot show the lag within it."""
    expr = f"max by ({conv.LABEL_POP}) ({conv.PG_HEARTBEAT_INTERVAL_SECONDS}" + (
        "{" + promql.one_of(conv.LABEL_POP, sorted(thresholds)) + "})"
    )
    queries.append(expr)
    every = {
        labels.get(conv.LABEL_POP, ""): value
        for labels, value in client.vector(expr, period.end.timestamp())
    }
    out: dict[str, list[DataIssue]] = {}
    for pop, threshold in thresholds.items():
        interval = every.get(pop)
        if interval is None:
            out[pop] = [
                DataIssue(
                    "other",
                    f"no {conv.PG_HEARTBEAT_INTERVAL_SECONDS} at the period's end (an exporter "
                    "older than the heartbeat-resolution lag?): its lag may read up to one "
                    "heartbeat interval high",
                )
            ]
        elif interval > threshold / 2:
            out[pop] = [
                DataIssue(
                    "incomplete",
                    f"heartbeats every {interval:g} s cannot show the lag within "
                    f"{threshold:g} s (it reads up to one interval off); set the target's "
                    f"heartbeat_interval to at most {threshold / 2:g} s",
                    seconds=interval,
                )
            ]
    return out


def _evidence(
    pop: str,
    period: Period,
    good: int,
    steps: int,
    missing: Sequence[float],
    chart: tuple[tuple[datetime, float], ...],
    source: str,
    queries: Sequence[str],
    notes: Sequence[DataIssue] = (),
) -> LagEvidence:
    _, _, expected = grid(period)
    if steps == 0:
        issue = DataIssue(
            "missing_series", f"no {_METRIC} series for pop {pop!r}", period.start, period.end
        )
        return LagEvidence(
            REPLICATION_LAG.key,
            pop,
            (),
            STEP,
            (issue,),
            source,
            counted=(0, 0),
            period_seconds=period.seconds,
            queries=tuple(queries),
        )
    return LagEvidence(
        REPLICATION_LAG.key,
        pop,
        chart,
        STEP,
        (*_missing_issues(missing), *notes),
        source,
        counted=(good, steps),
        period_seconds=period.seconds,
        unobserved_seconds=(expected - steps) * STEP,
        queries=tuple(queries),
    )


def per_pop(
    client: PrometheusClient,
    period: Period,
    pop: str,
    threshold: float,
    chart_points: int = CHART_POINTS,
) -> LagEvidence:
    """Every step of the PoP's worst lag, counted here."""
    queries: list[str] = []
    first, last, steps = grid(period)
    worst = REPLICATION_LAG.worst((promql.equals(conv.LABEL_POP, pop),))
    queries.append(worst)
    found = client.query_range(worst, first, last, STEP) if steps else []
    values = dict(found[0][1]) if found else {}
    good = sum(1 for v in values.values() if v <= threshold)
    expected = [first + i * STEP for i in range(steps)]
    missing = [t for t in expected if t not in values]
    chart = _chart(client, period, [pop], chart_points, queries).get(pop, ())
    source = f"prometheus {client.url}"
    notes = _heartbeats(client, period, {pop: threshold}, queries).get(pop, [])
    return _evidence(pop, period, good, len(values), missing, chart, source, queries, notes)


def _raw_counts(
    client: PrometheusClient,
    pops: Sequence[str],
    threshold: float,
    lo: float,
    hi: float,
    queries: list[str],
) -> tuple[dict[str, float], dict[str, float]]:
    """(steps within ``threshold``, steps with a value) per PoP on the grid steps of
    ``[lo, hi)``, counted by a subquery over raw samples (the roll-ups' edges ``lo``, ``hi``
    need not be multiples of the step)."""
    good: dict[str, float] = defaultdict(float)
    counted: dict[str, float] = defaultdict(float)
    if not _holds_step(lo, hi):
        return dict(good), dict(counted)
    worst = REPLICATION_LAG.worst(_pop_matcher(pops))
    step = promql.range_ms(STEP)
    for part_lo, part_hi in _parts(lo, hi, len(pops)):
        span = promql.range_ms(part_hi - part_lo)
        within = f"(({worst}) <= bool {threshold!r})[{span}:{step}] offset 1ms"
        for fn, into in (("sum_over_time", good), ("count_over_time", counted)):
            expr = f"{fn}({within})"
            queries.append(expr)
            for labels, value in client.vector(expr, part_hi):
                into[labels.get(conv.LABEL_POP, "")] += value
    return dict(good), dict(counted)


def _parts(lo: float, hi: float, pops: int) -> list[tuple[float, float]]:
    """``[lo, hi)`` cut at step multiples into parts of at most ``SUBQUERY_POINTS`` points
    for ``pops`` PoPs: Prometheus holds a subquery's whole matrix at once, and refuses one
    over its ``--query.max-samples`` (default 50 million: 300 PoPs x 30 days at 15 s)."""
    steps = max(1, SUBQUERY_POINTS // max(1, pops))
    parts: list[tuple[float, float]] = []
    while lo < hi:
        parts.append((lo, min(hi, lo + steps * STEP)))
        lo = parts[-1][1]
    return parts


def _rolled_counts(
    client: PrometheusClient,
    found: Cover,
    period: Period,
    pops: Sequence[str],
    threshold: float,
    queries: list[str],
) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Counts from the report roll-ups (``found``: where their points lie) for the PoPs
    whose roll-ups cover the period (the edge slices read raw); returns them and the PoPs
    they do not cover."""
    first, last, _ = grid(period)
    which = "{" + promql.one_of(conv.LABEL_POP, sorted(pops)) + "}"
    label = promql.equals("threshold", threshold_label(threshold))
    within = conv.ROLLUP_LAG_WITHIN + "{" + promql.one_of(conv.LABEL_POP, sorted(pops)) + ", "
    within += label + "}"
    span = found.range()

    def per_pop(expr: str) -> dict[str, float]:
        queries.append(expr)
        return {
            labels.get(conv.LABEL_POP, ""): value
            for labels, value in client.vector(expr, found.last)
        }

    points = per_pop(f"count_over_time({within}[{span}])")
    good = per_pop(f"sum_over_time({within}[{span}])")
    counted = per_pop(f"sum_over_time({conv.ROLLUP_LAG_STEPS}{which}[{span}])")
    covered = [pop for pop in pops if points.get(pop, 0) >= found.points]
    head = _raw_counts(client, covered, threshold, first, found.first - found.step, queries)
    tail = _raw_counts(client, covered, threshold, found.last, last + STEP, queries)
    out_good, out_counted = {}, {}
    for pop in covered:
        out_good[pop] = good.get(pop, 0) + head[0].get(pop, 0) + tail[0].get(pop, 0)
        out_counted[pop] = counted.get(pop, 0) + head[1].get(pop, 0) + tail[1].get(pop, 0)
    return out_good, out_counted, [pop for pop in pops if pop not in covered]


def fleet(
    client: PrometheusClient,
    period: Period,
    thresholds: Mapping[str, float],
    chart_points: int = CHART_POINTS,
    queries: list[str] | None = None,
    *,
    rollups: bool = True,
) -> dict[str, LagEvidence]:
    """Every PoP of ``thresholds`` (PoP -> its threshold) in a few queries, which are added
    to ``queries`` (the evidence of each PoP lists none of them). The report roll-ups are
    read where they cover the period (``rollups=False``: raw samples for every PoP)."""
    queries = queries if queries is not None else []
    first, last, steps = grid(period)
    by_threshold: dict[float, list[str]] = defaultdict(list)
    for pop, threshold in thresholds.items():
        by_threshold[threshold].append(pop)
    good: dict[str, float] = {}
    counted: dict[str, float] = {}
    found = cover(client, first, last + STEP, queries) if rollups else None
    rolled_pops: set[str] = set()
    for threshold, pops in sorted(by_threshold.items()):
        rest = list(pops)
        if found is not None:
            rolled_good, rolled_counted, rest = _rolled_counts(
                client, found, period, pops, threshold, queries
            )
            good |= rolled_good
            counted |= rolled_counted
            rolled_pops |= set(rolled_counted)
        if rest:
            raw_good, raw_counted = _raw_counts(
                client, rest, threshold, first, last + STEP, queries
            )
            good |= raw_good
            counted |= raw_counted
    raw_pops = [pop for pop in thresholds if pop not in rolled_pops]
    charts = _chart(client, period, raw_pops, chart_points, queries) if raw_pops else {}
    if found is not None and rolled_pops:
        charts |= _rolled_chart(client, found, period, sorted(rolled_pops), chart_points, queries)
    source = f"prometheus {client.url}"
    out = {}
    short = [p for p in thresholds if 0 < counted.get(p, 0) < steps]
    missing = _locate_missing(client, period, short, queries) if short else {}
    notes = _heartbeats(client, period, thresholds, queries)
    for pop in thresholds:
        n = round(counted.get(pop, 0))
        out[pop] = _evidence(
            pop,
            period,
            round(good.get(pop, 0)),
            n,
            missing.get(pop, ()),
            charts.get(pop, ()),
            source,
            (),
            notes.get(pop, ()),
        )
    return out


def _rolled_chart(
    client: PrometheusClient,
    found: Cover,
    period: Period,
    pops: Sequence[str],
    points: int,
    queries: list[str],
) -> dict[str, tuple[tuple[datetime, float], ...]]:
    """The worst lag per chart bin from the roll-ups' 5-minute maxima (bins of whole roll-up
    slices, aligned on their evaluations), the edge slices from raw samples: every judged
    step is in exactly one bin."""
    first, last, _ = grid(period)
    which = "{" + promql.one_of(conv.LABEL_POP, pops) + "}"
    per = max(1, math.ceil(period.seconds / points / found.step))
    width = per * found.step
    full, lead = divmod(found.points, per)
    out: dict[str, list[tuple[datetime, float]]] = defaultdict(list)

    def add(expr: str, at: float) -> None:
        queries.append(expr)
        for labels, value in client.vector(expr, at):
            out[labels.get(conv.LABEL_POP, "")].append((to_datetime(at), value))

    def raw_max(lo: float, hi: float) -> None:
        if _holds_step(lo, hi):
            span = f"{promql.range_ms(hi - lo)}:{promql.range_ms(STEP)}"
            worst = REPLICATION_LAG.worst(_pop_matcher(pops))
            add(f"max_over_time(({worst})[{span}] offset 1ms)", hi)

    def maxima(n: int) -> str:
        """The worst of ``n`` roll-up points read at the last one (half a step of margin)."""
        span = promql.range_ms(n * found.step - found.step / 2)
        return f"max_over_time({conv.ROLLUP_LAG_MAX}{which}[{span}])"

    raw_max(first, found.first - found.step)
    if lead:
        add(maxima(lead), found.first + (lead - 1) * found.step)
    if full:
        expr = maxima(per)
        queries.append(expr)
        lo = found.first + (lead + per - 1) * found.step
        for labels, values in client.query_range(expr, lo, found.last, width):
            out[labels.get(conv.LABEL_POP, "")] += [(to_datetime(t), v) for t, v in values]
    raw_max(found.last, last + STEP)
    return {pop: tuple(sorted(found_)) for pop, found_ in out.items()}


def _locate_missing(
    client: PrometheusClient, period: Period, pops: Sequence[str], queries: list[str]
) -> dict[str, list[float]]:
    """The missing steps of ``pops`` (PoPs with fewer values than steps): a range query of
    their worst lag, one point per step — only for these few PoPs."""
    first, last, steps = grid(period)
    worst = REPLICATION_LAG.worst(_pop_matcher(pops))
    queries.append(worst)
    expected = [first + i * STEP for i in range(steps)]
    out = {}
    for labels, values in client.query_range(worst, first, last, STEP):
        have = {t for t, _ in values}
        out[labels.get(conv.LABEL_POP, "")] = [t for t in expected if t not in have]
    return out
