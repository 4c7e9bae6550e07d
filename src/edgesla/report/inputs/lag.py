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
from edgesla.report.model import DataIssue, LagEvidence
from edgesla.slo.period import Period
from edgesla.slo.sli import REPLICATION_LAG

__all__ = ["CHART_POINTS", "fleet", "grid", "per_pop"]

STEP = REPLICATION_LAG.step_seconds
CHART_POINTS = 240
_METRIC = conv.PG_REPLICATION_LAG_SECONDS


def grid(period: Period) -> tuple[float, float, int]:
    """(first step, last step, steps) of the grid in [start, end)."""
    start, end = period.start.timestamp(), period.end.timestamp()
    first = math.ceil(start / STEP) * STEP
    last = math.ceil(end / STEP) * STEP - STEP
    return first, last, max(0, round((last - first) / STEP) + 1)


def _bin(period: Period, points: int) -> float:
    """Chart bin width: a whole number of steps, at most ``points`` bins."""
    return max(1, math.ceil(period.seconds / points / STEP)) * STEP


def _pop_matcher(pops: Sequence[str] | None) -> tuple[str, ...]:
    return (promql.one_of(conv.LABEL_POP, sorted(pops)),) if pops is not None else ()


def _chart(
    client: PrometheusClient, period: Period, pops: Sequence[str] | None, points: int,
    queries: list[str],
) -> dict[str, tuple[tuple[datetime, float], ...]]:  # fmt: skip
    """The worst lag of each bin of whole steps, the last bin cut at the period's end."""
    first, _, steps = grid(period)
    if not steps:
        return {}
    per_bin = round(_bin(period, points) / STEP)
    worst = REPLICATION_LAG.worst(_pop_matcher(pops))

    def expr(n: int) -> str:
        span = f"{promql.range_ms(n * STEP)}:{promql.range_ms(STEP)}"
        return f"max_over_time(({worst})[{span}] offset 1ms)"

    out: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    full, rest = divmod(steps, per_bin)
    width = per_bin * STEP
    if full:
        queries.append(expr(per_bin))
        for labels, values in client.query_range(
            expr(per_bin), first + width, first + full * width, width
        ):
            out[labels.get(conv.LABEL_POP, "")] += [(to_datetime(t), v) for t, v in values]
    if rest:
        queries.append(expr(rest))
        at = first + steps * STEP
        for labels, value in client.vector(expr(rest), at):
            out[labels.get(conv.LABEL_POP, "")].append((to_datetime(at), value))
    return {pop: tuple(found) for pop, found in out.items()}


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


def _evidence(
    pop: str,
    period: Period,
    good: int,
    steps: int,
    missing: Sequence[float],
    chart: tuple[tuple[datetime, float], ...],
    source: str,
    queries: Sequence[str],
) -> LagEvidence:
    _, _, expected = grid(period)
    if steps == 0:
        issue = DataIssue(
            "missing_series", f"no {_METRIC} series for pop {pop!r}", period.start, period.end
        )
        return LagEvidence(
            REPLICATION_LAG.key, pop, (), STEP, (issue,), source, counted=(0, 0),
            period_seconds=period.seconds, queries=tuple(queries),
        )  # fmt: skip
    return LagEvidence(
        REPLICATION_LAG.key, pop, chart, STEP, tuple(_missing_issues(missing)),
        source, counted=(good, steps), period_seconds=period.seconds,
        unobserved_seconds=(expected - steps) * STEP, queries=tuple(queries),
    )  # fmt: skip


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
    return _evidence(pop, period, good, len(values), missing, chart, source, queries)


def fleet(
    client: PrometheusClient,
    period: Period,
    thresholds: Mapping[str, float],
    chart_points: int = CHART_POINTS,
    queries: list[str] | None = None,
) -> dict[str, LagEvidence]:
    """Every PoP of ``thresholds`` (PoP -> its threshold) in a few queries, which are added
    to ``queries`` (the evidence of each PoP lists none of them)."""
    queries = queries if queries is not None else []
    first, last, steps = grid(period)
    by_threshold: dict[float, list[str]] = defaultdict(list)
    for pop, threshold in thresholds.items():
        by_threshold[threshold].append(pop)
    span = promql.range_ms(last - first + STEP)
    good: dict[str, float] = {}
    counted: dict[str, float] = {}
    for threshold, pops in sorted(by_threshold.items()):
        worst = REPLICATION_LAG.worst(_pop_matcher(pops))
        within = f"(({worst}) <= bool {threshold!r})[{span}:{promql.range_ms(STEP)}] offset 1ms"
        for fn, into in (("sum_over_time", good), ("count_over_time", counted)):
            expr = f"{fn}({within})"
            queries.append(expr)
            for labels, value in client.vector(expr, last + STEP):
                into[labels.get(conv.LABEL_POP, "")] = value
    charts = _chart(client, period, list(thresholds), chart_points, queries)
    source = f"prometheus {client.url}"
    out = {}
    short = [p for p in thresholds if 0 < counted.get(p, 0) < steps]
    missing = _locate_missing(client, period, short, queries) if short else {}
    for pop in thresholds:
        n = round(counted.get(pop, 0))
        out[pop] = _evidence(
            pop, period, round(good.get(pop, 0)), n, missing.get(pop, ()),
            charts.get(pop, ()), source, (),
        )  # fmt: skip
    return out


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
