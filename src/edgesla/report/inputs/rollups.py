"""Report roll-ups: recording rules that let a fleet report skip 30 days of raw samples.

The fleet path (``fleet``) takes its exact counts from each counter's values at the period's
bounds, but must also know where the counts are not clean — a counter reset, a scrape gap —
to read those slices raw (``scan``). Over raw samples that is a scan of every sample of the
period (``scan.raw_scan``: 89 s for 2,000 PoPs x 30 days at 15 s on 2 cores). These rules
record the same facts per PoP every 5 minutes as the data arrives; the report then reads
8,640 points a PoP whatever the scrape interval (``benchmarks/report_scale.py``).

What each rule answers (``conventions.ROLLUP_*``):

* resets: counter resets in the last 6 min (windows overlap by 1 min, so a reset between two
  evaluations is never missed; scrape intervals up to 1 min);
* fewest samples of any target in 5 min (a gap), and how many targets had any sample;
* seconds in which any target of the PoP had ``up == 0`` and the outages begun (``downtime``:
  the exact per-PoP path's definitions, to a 5 s step);
* failures summed per PoP: the budget-burn chart only, never a verdict.

Each roll-up point describes the 5 minutes up to its evaluation, and a group's evaluations keep
one phase. The report reads the points whose 5 minutes lie wholly in the period, and the raw
samples of the two partial slices left at its edges (each under 5 minutes: cheap). Where a
point shows a reset or a gap — or is missing (rules loaded later, Prometheus down) — its 5
minutes become a slice to read raw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from edgesla import conventions as conv
from edgesla import promql
from edgesla.promql import one_of, range_ms
from edgesla.report.inputs import downtime
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs.scan import Scan, locate
from edgesla.slo.sli import REPLICATION_LAG

__all__ = ["GROUP_NAME", "Cover", "cover", "rollup_scan", "rule_group", "threshold_label"]

GROUP_NAME = "edgesla-report-rollups"
_STEP = conv.ROLLUP_INTERVAL_SECONDS
_RESULTS, _UP = conv.PROBE_RESULTS_TOTAL, conv.PROBE_UP
_BY_POP = f"by ({conv.LABEL_POP}, {conv.LABEL_REGION})"


def _on_grid(inner: str, fn: str) -> str:
    """``fn`` of ``inner`` over the 5 minutes before the evaluation, on the lag's 15-s grid."""
    step = promql.range_ms(REPLICATION_LAG.step_seconds)
    return f"{fn}(({inner})[{promql.range_ms(_STEP)}:{step}] offset 1ms)"


def rule_group(
    lag_thresholds: Iterable[float] = (conv.REPLICATION_LAG_THRESHOLD_SECONDS,),
) -> dict[str, Any]:
    """The Prometheus rule group (``groups:`` item) that records the roll-ups;
    ``lag_thresholds``: those of the SLO spec's lag objectives (each gets its count)."""
    worst = REPLICATION_LAG.worst()
    lag = [
        {"record": conv.ROLLUP_LAG_STEPS, "expr": _on_grid(worst, "count_over_time")},
        {"record": conv.ROLLUP_LAG_MAX, "expr": _on_grid(worst, "max_over_time")},
        *(
            {
                "record": conv.ROLLUP_LAG_WITHIN,
                "expr": _on_grid(f"{worst} <= bool {threshold!r}", "sum_over_time"),
                "labels": {"threshold": threshold_label(threshold)},
            }
            for threshold in sorted(set(lag_thresholds))
        ),
    ]
    rules = [
        (conv.ROLLUP_RESETS, f"sum {_BY_POP} (resets({_RESULTS}[6m]))"),
        (conv.ROLLUP_MIN_SAMPLES, f"min {_BY_POP} (count_over_time({_UP}[5m]))"),
        (conv.ROLLUP_TARGETS, f"count {_BY_POP} (count_over_time({_UP}[5m]))"),
        (conv.ROLLUP_DOWN_SECONDS, downtime.down_expr(_STEP)),
        (conv.ROLLUP_OUTAGES, downtime.outages_expr(_STEP)),
        (
            conv.ROLLUP_FAILURES,
            f'sum {_BY_POP} ({_RESULTS}{{{conv.LABEL_RESULT}!="success"}})',
        ),
    ]
    return {
        "name": GROUP_NAME,
        "interval": f"{_STEP // 60}m",
        "rules": [*({"record": record, "expr": expr} for record, expr in rules), *lag],
    }


def threshold_label(threshold: float) -> str:
    """The ``threshold`` label of a lag roll-up: ``1``, ``0.5``."""
    return f"{threshold:g}"


def _pop(labels: dict[str, str]) -> str:
    return labels.get(conv.LABEL_POP, "")


@dataclass(frozen=True)
class Cover:
    """The roll-up points that lie wholly inside the window: evaluations ``first`` .. ``last``."""

    first: float
    last: float
    step: float = _STEP

    @property
    def points(self) -> int:
        return round((self.last - self.first) / _STEP) + 1

    def range(self) -> str:
        """A range, read at ``last``, holding ``first`` and not the point before it (half a
        step of margin: the same on closed (Prometheus 2) and left-open (3) ranges)."""
        return range_ms(self.last - self.first + _STEP / 2)


def rollup_scan(
    client: PrometheusClient,
    start: float,
    end: float,
    scrape_interval: float,
    filters: Sequence[str],
    maintenance: Sequence[tuple[float, float]] = (),
) -> Scan | None:
    """The roll-ups over the window, or None when they cannot cover it (rules not loaded,
    not evaluated up to the end, or a window too short for a whole slice).

    Only for the whole PoP: with ``filters`` (targets, probers), the roll-ups (per PoP) do not
    apply.
    """
    if filters:
        return None
    queries: list[str] = []
    found = cover(client, start, end, queries)
    if found is None:
        return None
    scan = _scan(client, found, start, end, scrape_interval)
    scan.queries[:0] = queries
    downtime.minus_maintenance(client, scan.downtime, scan.outages, maintenance, (), scan.queries)
    return scan


def cover(client: PrometheusClient, start: float, end: float, queries: list[str]) -> Cover | None:
    """Where the rule group's evaluations fall in the window.

    A roll-up point describes the 5 minutes up to its evaluation, and evaluations keep one
    phase (Prometheus aligns a group's evaluations to its interval plus a fixed offset), so the
    latest point at or before the end fixes them all. The first point used is the first whose
    5 minutes lie after the start; the raw samples before it and after the last are checked
    apart, so nothing before the window is held against it.
    """
    expr = f"max(timestamp({conv.ROLLUP_MIN_SAMPLES}))"
    queries.append(expr)
    latest = client.vector(expr, end)
    if not latest:
        return None
    last = latest[0][1]
    first = last - _STEP * ((last - start - _STEP) // _STEP)
    return Cover(first, last) if start + _STEP <= first <= last else None


def _scan(
    client: PrometheusClient, cover: Cover, start: float, end: float, scrape_interval: float
) -> Scan:
    scan = Scan(source="report roll-ups (recording rules) and raw samples at the edges")
    window, at = cover.range(), cover.last

    def per_pop(expr: str, when: float = at) -> dict[str, float]:
        scan.queries.append(expr)
        return {_pop(labels): value for labels, value in client.vector(expr, when)}

    covered = per_pop(f"count_over_time({conv.ROLLUP_MIN_SAMPLES}[{window}])")
    resets = per_pop(f"sum_over_time({conv.ROLLUP_RESETS}[{window}])")
    fewest = per_pop(f"min_over_time({conv.ROLLUP_MIN_SAMPLES}[{window}])")
    least_targets = per_pop(f"min_over_time({conv.ROLLUP_TARGETS}[{window}])")
    down = per_pop(f"sum_over_time({conv.ROLLUP_DOWN_SECONDS}[{window}])")
    begun = per_pop(f"sum_over_time({conv.ROLLUP_OUTAGES}[{window}])")
    targets_now = per_pop(f"count {_BY_POP} ({_UP})", end)
    pops = set(covered) | set(targets_now)
    per_slice = _STEP / scrape_interval
    troubled = {
        pop
        for pop in pops
        if covered.get(pop, 0) < cover.points
        or resets.get(pop, 0) > 0
        or fewest.get(pop, 0) < per_slice - 1
        or least_targets.get(pop, 0) < targets_now.get(pop, 0)
    }
    if troubled:
        _locate_in_rollups(client, scan, sorted(troubled), cover, per_slice, targets_now)
    head_lo, head_hi = start, cover.first - _STEP
    edges = [(head_lo, head_hi), (cover.last, end)]
    for lo, hi in edges:
        if hi - lo > 0:
            locate(client, scan, sorted(pops), lo, hi, hi - lo, scrape_interval, ())
    edge_down = [downtime.down_seconds(client, lo, hi, queries=scan.queries) for lo, hi in edges]
    edge_begun = [downtime.outages(client, lo, hi, queries=scan.queries) for lo, hi in edges]
    for pop in pops:
        scan.downtime[pop] = down.get(pop, 0.0) + sum(d.get(pop, 0.0) for d in edge_down)
        scan.outages[pop] = round(begun.get(pop, 0)) + sum(o.get(pop, 0) for o in edge_begun)
    return scan


def _locate_in_rollups(
    client: PrometheusClient,
    scan: Scan,
    pops: Sequence[str],
    cover: Cover,
    per_slice: float,
    targets_now: dict[str, float],
) -> None:
    """The 5-minute slices of ``pops`` whose roll-up shows a reset or a gap, or is missing.

    The roll-up points are read as they are stored (a range selector), never through a range
    query: its 5-minute lookback would fill a missing point with the one before it, and hide
    the first slice of a gap.
    """
    which = "{" + one_of(conv.LABEL_POP, pops) + "}"
    series: dict[str, dict[str, dict[float, float]]] = {}
    for name in (conv.ROLLUP_RESETS, conv.ROLLUP_MIN_SAMPLES, conv.ROLLUP_TARGETS):
        expr = f"{name}{which}[{cover.range()}]"
        scan.queries.append(expr)
        for labels, values in client.raw(expr, cover.last):
            found = {round(t, 3): v for t, v in values}
            series.setdefault(name, {})[_pop(labels)] = found
    grid = [round(cover.first + i * _STEP, 3) for i in range(cover.points)]
    for pop in pops:
        resets = series.get(conv.ROLLUP_RESETS, {}).get(pop, {})
        fewest = series.get(conv.ROLLUP_MIN_SAMPLES, {}).get(pop, {})
        targets = series.get(conv.ROLLUP_TARGETS, {}).get(pop, {})
        for t in grid:
            if (
                t not in fewest
                or resets.get(t, 0) > 0
                or fewest[t] < per_slice - 1
                or targets.get(t, 0) < targets_now.get(pop, 0)
            ):
                scan.add(pop, t - _STEP - (60 if resets.get(t, 0) > 0 else 0), t)
