"""What the period's samples say per PoP beyond the counters' values at its bounds: where
counters reset and where samples are missing (``slices`` to read raw), the downtime, the
outages.

The fleet path takes each counter's exact count from its values at the period's bounds;
that is exact only where the counter did not reset, and a gap (no samples) may hide time in
which nothing was measured. A scan finds the PoPs where either happened and *where*: slices
of the period, short enough to read raw (``slices``). Two scans give the same answers:

* ``raw_scan`` here: every raw sample of the period (``resets``, ``count_over_time``), then
  hour slices located for the few PoPs concerned; time grows with the number of samples;
* ``rollups.rollup_scan``: the report roll-ups (recording rules evaluated every 5 minutes as
  the data arrives): 8,640 points a PoP for 30 days whatever the scrape interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edgesla import conventions as conv
from edgesla.promql import matchers, one_of, range_ms
from edgesla.report.inputs import downtime
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._counters import LOOKBACK_EDGE

__all__ = ["HOUR", "Scan", "locate", "raw_scan"]

HOUR = 3600.0
_RESULTS, _UP = conv.PROBE_RESULTS_TOTAL, conv.PROBE_UP
_BY_POP = f"by ({conv.LABEL_POP}, {conv.LABEL_REGION})"

Span = tuple[float, float]


@dataclass
class Scan:
    """Per PoP: slices to read raw, downtime (maintenance left out), outages begun."""

    slices: dict[str, list[Span]] = field(default_factory=dict)
    downtime: dict[str, float] = field(default_factory=dict)
    outages: dict[str, int] = field(default_factory=dict)
    #: True when the outage counts are upper bounds (a raw scan's, from ``changes()``)
    outages_bound: bool = False
    queries: list[str] = field(default_factory=list)
    source: str = "raw samples"

    @property
    def suspect(self) -> set[str]:
        return set(self.slices)

    def add(self, pop: str, lo: float, hi: float) -> None:
        """A slice ``(lo, hi]`` of ``pop`` to read raw; overlapping slices are merged."""
        merged: list[Span] = []
        for a, b in sorted([*self.slices.get(pop, []), (lo, hi)]):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        self.slices[pop] = merged


def _pop(labels: dict[str, str]) -> str:
    return labels.get(conv.LABEL_POP, "")


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def raw_scan(
    client: PrometheusClient,
    start: float,
    end: float,
    scrape_interval: float,
    lookback: float,
    filters: Sequence[str],
    maintenance: Sequence[Span] = (),
) -> Scan:
    """Every raw sample of the window: exact, and as slow as the window is long."""
    scan = Scan(outages_bound=True)
    window = range_ms(end - start)
    results, up = _RESULTS + matchers(*filters), _UP + matchers(*filters)

    def vector(expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        scan.queries.append(expr)
        return client.vector(expr, at)

    resets = vector(f"resets({results}[{range_ms(end - start + lookback + LOOKBACK_EDGE)}])", end)
    # the samples of [start, end): one at the end stands for time after it (1 ms before the
    # end, the range's ends fall between samples, whether Prometheus closes ranges or not)
    before_end = end - 0.001
    seen = vector(f"count_over_time({up}[{window}])", before_end)
    ups = {_key(labels): v for labels, v in vector(f"sum_over_time({up}[{window}])", before_end)}
    changes = {_key(labels): v for labels, v in vector(f"changes({up}[{window}])", before_end)}
    expected = int((end - start) // scrape_interval)
    troubled = {_pop(labels) for labels, n in resets if n > 0}
    down_targets: dict[str, list[float]] = {}
    for labels, n in seen:
        pop = _pop(labels)
        if n < expected - 1:
            troubled.add(pop)
        zeros = n - ups.get(_key(labels), n)
        scan.downtime.setdefault(pop, 0.0)
        scan.outages.setdefault(pop, 0)
        if zeros > 0:
            down_targets.setdefault(pop, []).append(zeros * scrape_interval)
            # k changes hold at most k // 2 + 1 down spans: an upper bound
            scan.outages[pop] += int(changes.get(_key(labels), 0)) // 2 + 1
    # One target down: its down time is the PoP's. More: when they overlapped, Prometheus says.
    several = [pop for pop, spans in down_targets.items() if len(spans) > 1]
    scan.downtime |= {pop: spans[0] for pop, spans in down_targets.items() if len(spans) == 1}
    if several:
        scan.downtime |= downtime.down_seconds(
            client, start, end, pops=several, filters=filters, queries=scan.queries
        )
    downtime.minus_maintenance(
        client, scan.downtime, scan.outages, maintenance, filters, scan.queries
    )
    if troubled:
        locate(client, scan, sorted(troubled), start, end, HOUR, scrape_interval, filters)
    return scan


def locate(
    client: PrometheusClient,
    scan: Scan,
    pops: Sequence[str],
    start: float,
    end: float,
    width: float,
    scrape_interval: float,
    filters: Sequence[str],
) -> None:
    """Add to ``scan`` the slices of ``width`` seconds of ``[start, end]`` (the last one
    shorter) in which ``pops`` had a reset or fewer samples than expected, or none at all."""
    which = one_of(conv.LABEL_POP, pops)
    results, up = _RESULTS + matchers(which, *filters), _UP + matchers(which, *filters)

    def exprs(span: float) -> tuple[str, str]:
        # resets look 5 minutes further back: one between two slices is never missed
        return (
            f"sum {_BY_POP} (resets({results}[{range_ms(span + 300)}]))",
            f"min {_BY_POP} (count_over_time({up}[{range_ms(span)}]))",
        )

    full = int((end - start) // width)
    ends = [start + width * (i + 1) for i in range(full)]
    found: dict[tuple[str, float], tuple[float, float]] = {}  # (pop, end) -> (resets, fewest)
    if full:
        for index, expr in enumerate(exprs(width)):
            scan.queries.append(expr)
            for labels, values in client.query_range(expr, ends[0], ends[-1], width):
                for t, v in values:
                    key = (_pop(labels), t)
                    pair = found.get(key, (0.0, 0.0))
                    found[key] = (v, pair[1]) if index == 0 else (pair[0], v)
    if not ends or ends[-1] < end:
        last = ends[-1] if ends else start
        ends.append(end)
        for index, expr in enumerate(exprs(end - last)):
            scan.queries.append(expr)
            for labels, v in client.vector(expr, end):
                key = (_pop(labels), end)
                pair = found.get(key, (0.0, 0.0))
                found[key] = (v, pair[1]) if index == 0 else (pair[0], v)
    for pop in pops:
        for i, t in enumerate(ends):
            lo = ends[i - 1] if i else start
            resets, fewest = found.get((pop, t), (0.0, 0.0))
            if resets > 0 or fewest < (t - lo) / scrape_interval - 1:
                scan.add(pop, lo, t)
