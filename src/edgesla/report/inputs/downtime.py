"""PoP downtime computed by Prometheus: the time in which any of a PoP's targets was down.

The same definition as the exact per-PoP path (``_counters.down_seconds``: a sample of
``up == 0`` stands for the time until the next sample; the PoP is down while any target is):
a subquery takes, every ``step`` seconds, each target's latest ``up`` sample, and the PoP is
down at that step when the lowest is 0. Exact to the step.

Used where reading raw samples into the report would cost too much: the report roll-up of
each 5 minutes (``rollups.rule_group``), the raw slices at a window's edges, maintenance
windows (subtracted), and a fleet scan's PoPs with more than one target down at some time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edgesla import conventions as conv
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import one_of, range_ms

__all__ = ["MIN_SPAN_SECONDS", "STEP_SECONDS", "down_expr", "down_seconds", "minus_maintenance"]

#: The subquery step of the roll-ups and edge slices: scrapes up to this often resolve exactly.
STEP_SECONDS = 5.0
#: Spans this short or shorter hold no step: ``down_seconds`` answers them without a query.
MIN_SPAN_SECONDS = 0.001


def _matchers(pops: Iterable[str] | None, targets: Sequence[str] | None) -> str:
    parts = []
    if pops is not None:
        parts.append(one_of(conv.LABEL_POP, pops))
    if targets is not None:
        parts.append(one_of(conv.LABEL_TARGET, targets))
    return "{" + ", ".join(parts) + "}" if parts else ""


def down_expr(
    span: float,
    step: float = STEP_SECONDS,
    pops: Iterable[str] | None = None,
    targets: Sequence[str] | None = None,
) -> str:
    """Seconds down per PoP in the ``span`` seconds before the evaluation time ``t``.

    A step at ``τ`` stands for ``[τ, τ + step)`` (the latest sample at ``τ`` holds until the
    next), so the steps counted are those in ``[t - span, t)``: ``offset 1ms`` moves the
    subquery's range to ``[t - span - 1ms, t - 1ms]``, whose ends are never on a step when
    ``t`` is. Back-to-back spans count each step once, on Prometheus 2 (ranges closed at both
    ends) as on 3 (left-open).
    """
    down = (
        f"min by ({conv.LABEL_POP}, {conv.LABEL_REGION}) "
        f"({conv.PROBE_UP}{_matchers(pops, targets)}) == 0"
    )
    subquery = f"({down})[{range_ms(span)}:{range_ms(step)}] offset 1ms"
    return f"count_over_time({subquery}) * {step:g}"


def down_seconds(
    client: PrometheusClient,
    lo: float,
    hi: float,
    step: float = STEP_SECONDS,
    pops: Iterable[str] | None = None,
    targets: Sequence[str] | None = None,
) -> dict[str, float]:
    """Seconds of ``[lo, hi)`` in which each PoP was down; PoPs never down are left out."""
    if hi - lo <= MIN_SPAN_SECONDS:
        return {}
    expr = down_expr(hi - lo, step, pops, targets)
    return {labels.get(conv.LABEL_POP, ""): v for labels, v in client.vector(expr, hi)}


def minus_maintenance(
    client: PrometheusClient,
    downtime: dict[str, float],
    maintenance: Sequence[tuple[float, float]],
    targets: Sequence[str] | None = None,
) -> int:
    """Take the downtime inside each maintenance span off ``downtime``; queries sent."""
    down_pops = [pop for pop, seconds in downtime.items() if seconds > 0]
    if not down_pops:
        return 0
    for lo, hi in maintenance:
        for pop, seconds in down_seconds(client, lo, hi, pops=down_pops, targets=targets).items():
            if pop in downtime:
                downtime[pop] = max(0.0, downtime[pop] - seconds)
    return len(maintenance)
