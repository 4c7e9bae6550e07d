"""Read the raw samples of the slices a scan named, and correct the fleet's counts there.

A slice ``(lo, hi]`` of a PoP is short (minutes to an hour). Its raw samples (from ``lo`` minus
the 5-minute lookback, so the sample before a reset or a gap is there too) give, per series,

* each **reset**: the first sample below the one before it; the value before it was lost from
  ``x@end - x@start`` and is added back to the count (to the excluded events when the reset
  fell in a maintenance window);
* each **gap** of each target (``_counters.classify_gaps``: probed, or unobserved), exactly as
  the per-PoP path finds it — the same samples, the same rules.

A gap across a maintenance bound hides the value at that bound: such a PoP is handed to the
per-PoP path (returned as odd).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence

from edgesla import conventions as conv
from edgesla import promql
from edgesla.report.inputs._client import PrometheusClient, RawSeries
from edgesla.report.inputs._counters import (
    LOOKBACK,
    Gap,
    classify_gaps,
    lookback_range,
    runs_per_target,
)
from edgesla.report.inputs._evidence import Parts, SeriesCount
from edgesla.slo import sli as kinds
from edgesla.slo.period import Period

__all__ = ["read_slices"]

Span = tuple[float, float]


def _fetch(
    client: PrometheusClient,
    metric: str,
    pop: str,
    filters: Sequence[str],
    lo: float,
    hi: float,
    queries: list[str],
) -> list[RawSeries]:
    series = promql.selector(metric, promql.equals(conv.LABEL_POP, pop), *filters)
    expr = f"{series}{lookback_range(hi - lo)}"
    queries.append(f"{expr} @ {hi:.3f}")
    return client.raw(expr, hi)


def read_slices(
    client: PrometheusClient,
    sli: kinds.CounterSli,
    sliced: Mapping[str, Sequence[Span]],
    parts: Mapping[str, Parts],
    period: Period,
    maintenance: Sequence[Span],
    filters: Sequence[str],
    max_gap: float,
) -> set[str]:
    """Correct ``parts`` with every reset and gap in the slices; the PoPs to count per PoP."""
    start, end = period.start.timestamp(), period.end.timestamp()
    odd: set[str] = set()
    for pop, spans in sliced.items():
        entry = parts[pop]
        by_key = {tuple(sorted(s.labels.items())): s for s in entry.series}
        found: dict[tuple[str, float], Gap] = {}
        for lo, hi in spans:
            lo, hi = max(lo, start), min(hi, end)
            # a gap that began in the slice may end a little after it: read on a lookback
            reach = min(hi + LOOKBACK, end)
            counters = _fetch(client, sli.metric, pop, filters, lo, reach, entry.queries)
            ups = _fetch(client, conv.PROBE_UP, pop, filters, lo, reach, entry.queries)
            _resets(counters, by_key, lo, hi, start, end, maintenance)
            runs = runs_per_target(counters, histogram=sli.group_label == "le")
            for target, gap in _gaps(ups, runs, lo, reach, start, end, max_gap):
                found[(target, gap.start)] = gap
        entry.gaps += [(target, gap) for (target, _), gap in found.items()]
        entry.gaps.sort(key=lambda item: (item[1].start, item[0]))
        bounds = [t for span in maintenance for t in span]
        if any(
            g.start < t < g.end and g.end - g.start > LOOKBACK
            for _, g in entry.gaps
            for t in bounds
        ):
            odd.add(pop)
    return odd


def _resets(
    counters: Sequence[RawSeries],
    by_key: Mapping[tuple[tuple[str, str], ...], SeriesCount],
    lo: float,
    hi: float,
    start: float,
    end: float,
    maintenance: Sequence[Span],
) -> None:
    for labels, samples in counters:
        count = by_key.get(tuple(sorted(labels.items())))
        if count is None:
            continue
        for (_, before), (t, value) in itertools.pairwise(samples):
            if value >= before or not (lo < t <= hi and start < t <= end):
                continue
            count.resets.append(t)
            count.reset_values.append(before)
            window = next(
                (i for i, (m_lo, m_hi) in enumerate(maintenance) if m_lo < t <= m_hi), None
            )
            if window is None:
                count.counted += round(before)
            else:
                count.excluded[window] = count.excluded.get(window, 0) + round(before)


def _gaps(
    ups: Sequence[RawSeries],
    runs: Mapping[str, Sequence[tuple[float, float]]],
    lo: float,
    hi: float,
    start: float,
    end: float,
    max_gap: float,
) -> list[tuple[str, Gap]]:
    """The real gaps among the slice's samples: not those its own edges would invent."""
    fetched_lo = lo - LOOKBACK
    times: dict[str, list[float]] = defaultdict(list)
    for labels, samples in ups:
        times[labels.get(conv.LABEL_TARGET, "?")] += [t for t, _ in samples]
    out = []
    for target in sorted(times):
        for gap in classify_gaps(sorted(times[target]), runs.get(target, []), start, end, max_gap):
            from_edge = gap.start <= start and fetched_lo > start
            to_edge = gap.end >= end and hi < end
            inside = gap.end > lo and gap.start <= hi
            if inside and not from_edge and not to_edge:
                out.append((target, gap))
    return out
