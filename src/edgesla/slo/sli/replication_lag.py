"""replication_lag: the share of time the PoP's worst origin→peer lag stays within a threshold.

Sampled on a fixed grid: one step every ``STEP_SECONDS`` at absolute multiples of it (so
every path — the per-PoP range query, the fleet-wide subquery, the roll-ups — looks at the
same instants). At each step the PoP's value is the worst (``max``) of its pairs' lag *plus
its error bar* (``edgesla_pg_replication_lag_error_seconds``; the lag alone where an older
exporter sends none): a step is good only when the lag is within the threshold even at the top
of its error bar (``≤``), bad otherwise (an infinite error bar is never good), and unobserved
when no pair has a value (never good). The rules record the same 0/1 step as a series
(``BREACH``, at their evaluation interval).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edgesla import conventions as conv
from edgesla import promql
from edgesla.slo.sli._base import TimeShareSli, Words

__all__ = ["BREACH", "REPLICATION_LAG", "STEP_SECONDS", "ReplicationLag"]

Agg = Callable[[str], str]
#: The grid: the exporter's default scrape interval.
STEP_SECONDS = 15.0
#: Per PoP (labels slo, pop, region): 1 while the PoP's worst replication lag is over the
#: objective's threshold, else 0.
BREACH = "pop:edgesla_pg_replication_lag_over_threshold:bool"
_BY = f"{conv.LABEL_POP}, {conv.LABEL_REGION}"


@dataclass(frozen=True)
class ReplicationLag(TimeShareSli):
    def _upper(self, filters: Sequence[str]) -> str:
        """Each pair's lag at the top of its error bar (the lag alone without one)."""
        lag = promql.selector(self.metric, *filters)
        error = promql.selector(conv.PG_REPLICATION_LAG_ERROR_SECONDS, *filters)
        return f"({lag} + {error}) or {lag}"

    def worst(self, filters: Sequence[str] = ()) -> str:
        """The PoP's value at an instant: its worst pair's lag, error bar included."""
        return f"max by ({_BY}) ({self._upper(filters)})"

    def breach(self, filters: Sequence[str], threshold: float) -> str:
        """1 while the worst lag (error bar included) is over ``threshold``, else 0."""
        return f"max by ({_BY}) (({self._upper(filters)}) > bool {threshold!r})"

    def total(self, breach_series: str, window: str, agg: Agg) -> str:
        """Sampled steps over ``window`` of a recorded breach series."""
        return agg(f"count_over_time({breach_series}[{window}])")

    def bad(self, breach_series: str, window: str, agg: Agg) -> str:
        """Steps in breach over ``window``."""
        return agg(f"sum_over_time({breach_series}[{window}])")


REPLICATION_LAG = ReplicationLag(
    key="replication_lag",
    kind="replication_lag",
    words=Words(noun="lag samples", bounded="the true share of time"),
    metric=conv.PG_REPLICATION_LAG_SECONDS,
    step_seconds=STEP_SECONDS,
)
