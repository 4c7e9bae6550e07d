"""PoP downtime computed by Prometheus: the time in which any of a PoP's targets was down,
and the outages (down spans) it was made of.

The same definitions as the exact per-PoP path (``_counters.down_seconds``, ``down_outages``:
a sample of ``up == 0`` stands for the time until the next sample; the PoP is down while any
target is): a subquery takes, every ``step`` seconds, each target's latest ``up`` sample, and
the PoP is down at that step when the lowest is 0; an outage begins at a step that is down
when the step before was not. Exact to the step.

Used where reading raw samples into the report would cost too much: the report roll-up of
each 5 minutes (``rollups.rule_group``), the raw slices at a window's edges, maintenance
windows (subtracted), and a fleet scan's PoPs with more than one target down at some time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edgesla import conventions as conv
from edgesla.promql import matchers, one_of, range_ms
from edgesla.report.inputs._client import PrometheusClient

__all__ = [
    "MIN_SPAN_SECONDS",
    "STEP_SECONDS",
    "down_expr",
    "down_seconds",
    "minus_maintenance",
    "outages_expr",
]

#: The subquery step of the roll-ups and edge slices: scrapes up to this often resolve exactly.
STEP_SECONDS = 5.0
#: Spans this short or shorter hold no step: ``down_seconds`` answers them without a query.
MIN_SPAN_SECONDS = 0.001
_BY = f"{conv.LABEL_POP}, {conv.LABEL_REGION}"


def _selector(pops: Iterable[str] | None, filters: Sequence[str]) -> str:
    pop = one_of(conv.LABEL_POP, sorted(pops)) if pops is not None else ""
    return conv.PROBE_UP + matchers(pop, *filters)


def _down(pops: Iterable[str] | None, filters: Sequence[str], offset: str = "") -> str:
    return f"min by ({_BY}) ({_selector(pops, filters)}{offset}) == 0"


def _subquery(inner: str, span: float, step: float) -> str:
    """``inner`` at every step in ``[t - span, t)``: ``offset 1ms`` moves the subquery's range
    to ``[t - span - 1ms, t - 1ms]``, whose ends are never on a step when ``t`` is, so
    back-to-back spans count each step once, on Prometheus 2 (ranges closed at both ends) as
    on 3 (left-open)."""
    return f"({inner})[{range_ms(span)}:{range_ms(step)}] offset 1ms"


def down_expr(
    span: float,
    step: float = STEP_SECONDS,
    pops: Iterable[str] | None = None,
    filters: Sequence[str] = (),
) -> str:
    """Seconds down per PoP in the ``span`` seconds before the evaluation time ``t``."""
    return f"count_over_time({_subquery(_down(pops, filters), span, step)}) * {step:g}"


def outages_expr(
    span: float,
    step: float = STEP_SECONDS,
    pops: Iterable[str] | None = None,
    filters: Sequence[str] = (),
) -> str:
    """Outages begun per PoP in the ``span`` seconds before ``t``: steps down whose step before
    was not."""
    begun = f"({_down(pops, filters)}) unless ({_down(pops, filters, f' offset {step:g}s')})"
    return f"count_over_time({_subquery(begun, span, step)})"


def down_seconds(
    client: PrometheusClient,
    lo: float,
    hi: float,
    step: float = STEP_SECONDS,
    pops: Iterable[str] | None = None,
    filters: Sequence[str] = (),
    queries: list[str] | None = None,
) -> dict[str, float]:
    """Seconds of ``[lo, hi)`` in which each PoP was down; PoPs never down are left out."""
    if hi - lo <= MIN_SPAN_SECONDS:
        return {}
    expr = down_expr(hi - lo, step, pops, filters)
    if queries is not None:
        queries.append(expr)
    return {labels.get(conv.LABEL_POP, ""): v for labels, v in client.vector(expr, hi)}


def outages(
    client: PrometheusClient,
    lo: float,
    hi: float,
    pops: Iterable[str] | None = None,
    filters: Sequence[str] = (),
    queries: list[str] | None = None,
) -> dict[str, int]:
    """Outages begun in ``[lo, hi)`` per PoP (PoPs with none left out)."""
    if hi - lo <= MIN_SPAN_SECONDS:
        return {}
    expr = outages_expr(hi - lo, STEP_SECONDS, pops, filters)
    if queries is not None:
        queries.append(expr)
    return {labels.get(conv.LABEL_POP, ""): round(v) for labels, v in client.vector(expr, hi)}


def minus_maintenance(
    client: PrometheusClient,
    downtime: dict[str, float],
    outages_: dict[str, int],
    maintenance: Sequence[tuple[float, float]],
    filters: Sequence[str] = (),
    queries: list[str] | None = None,
) -> None:
    """Take the downtime inside each maintenance span, and the outages begun in one, off."""
    down_pops = [pop for pop, seconds in downtime.items() if seconds > 0]
    if not down_pops:
        return
    for lo, hi in maintenance:
        for pop, seconds in down_seconds(
            client, lo, hi, pops=down_pops, filters=filters, queries=queries
        ).items():
            if pop in downtime:
                downtime[pop] = max(0.0, downtime[pop] - seconds)
        for pop, n in outages(client, lo, hi, down_pops, filters, queries).items():
            if pop in outages_:
                outages_[pop] = max(0, outages_[pop] - n)
