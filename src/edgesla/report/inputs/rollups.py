"""Report roll-ups: recording rules that let a fleet report skip 30 days of raw samples.

``fleet.availability_fleet`` takes its exact counts from each counter's value at the window's
end and start (two instant queries), but must also prove the counts clean: no counter reset,
no scrape gap. Over raw samples that is a scan of every sample of the window (``resets``,
``count_over_time``), which grows with the number of samples: 89 s for 2,000 PoPs x 30 days
at 15 s on 2 cores (47 s from these roll-ups: ``benchmarks/report_scale.py``). These rules
record the same facts per PoP every 5 minutes as the data arrives; the report then reads
8,640 points a PoP whatever the scrape interval.

What each rule answers (``conventions.ROLLUP_*``):

* resets: counter resets in the last 6 min (windows overlap by 1 min, so a reset between two
  evaluations is never missed; scrape intervals up to 1 min);
* fewest samples of any target in 5 min (a gap), and how many targets had any sample;
* seconds in which any target of the PoP had ``up == 0`` (``downtime``: the exact per-PoP
  path's definition, to a 5 s step);
* failures summed per PoP: the budget-burn chart only, never a verdict.

Each roll-up point describes the 5 minutes up to its evaluation, and a group's evaluations keep
one phase. The report reads the points whose 5 minutes lie wholly in the window, and the raw
samples of the two partial slices left at its edges (each under 5 minutes: cheap). A PoP whose
roll-ups miss an evaluation in the window (rules loaded later, Prometheus down) goes to the
exact per-PoP path, like a PoP with a reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgesla import conventions as conv
from edgesla.report.inputs import downtime
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import range_ms

__all__ = ["GROUP_NAME", "Scan", "raw_scan", "rollup_scan", "rule_group"]

GROUP_NAME = "edgesla-report-rollups"
_STEP = conv.ROLLUP_INTERVAL_SECONDS
_RESULTS, _UP = conv.PROBE_RESULTS_TOTAL, conv.PROBE_UP
_BY_POP = f"by ({conv.LABEL_POP}, {conv.LABEL_REGION})"


def rule_group() -> dict[str, Any]:
    """The Prometheus rule group (``groups:`` item) that records the roll-ups."""
    rules = [
        (conv.ROLLUP_RESETS, f"sum {_BY_POP} (resets({_RESULTS}[6m]))"),
        (conv.ROLLUP_MIN_SAMPLES, f"min {_BY_POP} (count_over_time({_UP}[5m]))"),
        (conv.ROLLUP_TARGETS, f"count {_BY_POP} (count_over_time({_UP}[5m]))"),
        (conv.ROLLUP_DOWN_SECONDS, downtime.down_expr(_STEP)),
        (
            conv.ROLLUP_FAILURES,
            f'sum {_BY_POP} ({_RESULTS}{{{conv.LABEL_RESULT}!="success"}})',
        ),
    ]
    return {
        "name": GROUP_NAME,
        "interval": f"{_STEP // 60}m",
        "rules": [{"record": record, "expr": expr} for record, expr in rules],
    }


@dataclass
class Scan:
    """What the window's samples say per PoP, beyond the counters' end values."""

    #: PoPs whose counts cannot be taken from end - start (reset, gap, no cover)
    suspect: set[str] = field(default_factory=set)
    #: seconds in which any target was down, maintenance left out (``downtime``)
    downtime: dict[str, float] = field(default_factory=dict)
    queries: int = 0
    source: str = "raw samples"


def _pop(labels: dict[str, str]) -> str:
    return labels.get(conv.LABEL_POP, "")


def raw_scan(
    client: PrometheusClient,
    start: float,
    end: float,
    scrape_interval: float,
    lookback: float,
    targets: Sequence[str] | None,
    maintenance: Sequence[tuple[float, float]] = (),
) -> Scan:
    """Every raw sample of the window: exact, and as slow as the window is long."""
    scan = Scan(queries=3)
    window = range_ms(end - start)
    keep = _keep(targets)
    resets = client.vector(f"resets({_RESULTS}[{range_ms(end - start + lookback)}])", end)
    # the samples of [start, end): one at the end stands for time after it (1 ms before the
    # end, the range's ends fall between samples, whether Prometheus closes ranges or not)
    before_end = end - 0.001
    seen = client.vector(f"count_over_time({_UP}[{window}])", before_end)
    ups = {
        _key(labels): v
        for labels, v in client.vector(f"sum_over_time({_UP}[{window}])", before_end)
    }
    expected = int((end - start) // scrape_interval)
    scan.suspect |= {_pop(labels) for labels, n in resets if n > 0 and keep(labels)}
    down_targets: dict[str, list[float]] = {}
    for labels, n in seen:
        if not keep(labels):
            continue
        if n < expected - 1:
            scan.suspect.add(_pop(labels))
        zeros = n - ups.get(_key(labels), n)
        scan.downtime.setdefault(_pop(labels), 0.0)
        if zeros > 0:
            down_targets.setdefault(_pop(labels), []).append(zeros * scrape_interval)
    # One target down: its down time is the PoP's. More: when they overlapped, Prometheus says.
    several = [pop for pop, spans in down_targets.items() if len(spans) > 1]
    scan.downtime |= {pop: spans[0] for pop, spans in down_targets.items() if len(spans) == 1}
    if several:
        scan.queries += 1
        scan.downtime |= downtime.down_seconds(
            client, start, end, scrape_interval, pops=several, targets=targets
        )
    scan.queries += downtime.minus_maintenance(client, scan.downtime, maintenance, targets)
    return scan


def rollup_scan(
    client: PrometheusClient,
    start: float,
    end: float,
    scrape_interval: float,
    lookback: float,
    targets: Sequence[str] | None,
    maintenance: Sequence[tuple[float, float]] = (),
) -> Scan | None:
    """The roll-ups over the window, or None when they cannot cover it (rules not loaded,
    not evaluated up to the end, or a window too short for a whole slice).

    Only for the whole PoP: with ``targets`` given, the roll-ups (per PoP) do not apply.
    """
    if targets is None:
        cover = _cover(client, start, end)
        if cover is not None:
            scan = _scan(client, cover, start, end, scrape_interval, lookback)
            scan.queries += downtime.minus_maintenance(client, scan.downtime, maintenance)
            return scan
    return None


@dataclass(frozen=True)
class _Cover:
    """The roll-up points that lie wholly inside the window: evaluations ``first`` .. ``last``."""

    first: float
    last: float

    @property
    def points(self) -> int:
        return round((self.last - self.first) / _STEP) + 1

    def range(self) -> str:
        """A range, read at ``last``, holding ``first`` and not the point before it (half a
        step of margin: the same on closed (Prometheus 2) and left-open (3) ranges)."""
        return range_ms(self.last - self.first + _STEP / 2)


def _cover(client: PrometheusClient, start: float, end: float) -> _Cover | None:
    """Where the rule group's evaluations fall in the window.

    A roll-up point describes the 5 minutes up to its evaluation, and evaluations keep one
    phase (Prometheus aligns a group's evaluations to its interval plus a fixed offset), so the
    latest point at or before the end fixes them all. The first point used is the first whose
    5 minutes lie after the start; the raw samples before it and after the last are checked
    apart (``_raw_slice``), so nothing before the window is held against it.
    """
    latest = client.vector(f"max(timestamp({conv.ROLLUP_MIN_SAMPLES}))", end)
    if not latest:
        return None
    last = latest[0][1]
    first = last - _STEP * ((last - start - _STEP) // _STEP)
    return _Cover(first, last) if start + _STEP <= first <= last else None


def _scan(
    client: PrometheusClient,
    cover: _Cover,
    start: float,
    end: float,
    scrape_interval: float,
    lookback: float,
) -> Scan:
    # the phase (``_cover``), five roll-up reads and the targets now; the edges count theirs
    scan = Scan(queries=7, source="report roll-ups (recording rules) and raw samples at the edges")
    window, at = cover.range(), cover.last

    def per_pop(expr: str) -> dict[str, float]:
        return {_pop(labels): value for labels, value in client.vector(expr, at)}

    covered = per_pop(f"count_over_time({conv.ROLLUP_MIN_SAMPLES}[{window}])")
    resets = per_pop(f"sum_over_time({conv.ROLLUP_RESETS}[{window}])")
    fewest = per_pop(f"min_over_time({conv.ROLLUP_MIN_SAMPLES}[{window}])")
    least_targets = per_pop(f"min_over_time({conv.ROLLUP_TARGETS}[{window}])")
    down = per_pop(f"sum_over_time({conv.ROLLUP_DOWN_SECONDS}[{window}])")
    targets_now = {_pop(labels): n for labels, n in client.vector(f"count {_BY_POP} ({_UP})", end)}
    pops = set(covered) | set(targets_now)
    head = _raw_slice(client, start, cover.first - _STEP, scrape_interval, lookback, pops)
    tail = _raw_slice(client, cover.last, end, scrape_interval, lookback, pops)
    per_slice = _STEP / scrape_interval
    for pop in pops:
        if (
            covered.get(pop, 0) < cover.points
            or resets.get(pop, 0) > 0
            or fewest.get(pop, 0) < per_slice - 1
            or least_targets.get(pop, 0) < targets_now.get(pop, 0)
            or pop in head.suspect
            or pop in tail.suspect
        ):
            scan.suspect.add(pop)
        edges = head.downtime.get(pop, 0.0) + tail.downtime.get(pop, 0.0)
        scan.downtime[pop] = down.get(pop, 0.0) + edges
    scan.queries += head.queries + tail.queries
    return scan


def _raw_slice(
    client: PrometheusClient,
    lo: float,
    hi: float,
    scrape_interval: float,
    lookback: float,
    pops: set[str],
) -> Scan:
    """Resets, gaps and downtime per PoP in the raw samples of ``(lo, hi]``, a slice shorter
    than one roll-up step."""
    out = Scan()
    if hi - lo <= 0:
        return out
    span = range_ms(hi - lo)
    with_lookback = range_ms(hi - lo + lookback)
    resets = client.vector(f"sum {_BY_POP} (resets({_RESULTS}[{with_lookback}]))", hi)
    fewest = client.vector(f"min {_BY_POP} (count_over_time({_UP}[{span}]))", hi)
    expected = (hi - lo) / scrape_interval
    seen = {_pop(labels): n for labels, n in fewest}
    out.suspect = {_pop(labels) for labels, n in resets if n > 0}
    out.suspect |= {pop for pop in pops if seen.get(pop, 0) < expected - 1}
    out.downtime = downtime.down_seconds(client, lo, hi)
    out.queries = 2 + (hi - lo > downtime.MIN_SPAN_SECONDS)
    return out


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _keep(targets: Sequence[str] | None) -> Any:
    def keep(labels: dict[str, str]) -> bool:
        return targets is None or labels.get(conv.LABEL_TARGET) in targets

    return keep
