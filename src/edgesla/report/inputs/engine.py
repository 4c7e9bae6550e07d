"""The evidence engine: for one objective and the PoPs to judge, the evidence of each PoP.

One entry point for every Prometheus SLI kind (``slo.sli``), one PoP or 2,000:

* ``fleet`` (the default): a few queries per objective for the whole fleet — counters at the
  period's bounds, the report roll-ups (or a raw scan) for resets and gaps, raw reads only of
  the slices that need them (``fleet``, ``lag.fleet``);
* ``per-pop``: every raw sample of every PoP (``prometheus``, ``lag.per_pop``): slow, the
  reference the fleet path is tested against (``edgesla report --evidence per-pop``).

Both give the same counts, issues and figures. Each answer records how it was counted and
the queries sent (``Answer``: the report's provenance).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from edgesla import conventions as conv
from edgesla.report.inputs import fleet, lag
from edgesla.report.inputs import prometheus as single
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import Maintenance
from edgesla.report.model import AvailabilityEvidence, LagEvidence, LatencyEvidence
from edgesla.slo import sli as kinds
from edgesla.slo.period import Period
from edgesla.slo.spec import AvailabilityObjective, LagObjective, LatencyObjective

__all__ = ["STRATEGIES", "Answer", "Engine", "Strategy"]

Strategy = Literal["fleet", "per-pop"]
STRATEGIES: tuple[Strategy, ...] = ("fleet", "per-pop")
Evidence = AvailabilityEvidence | LatencyEvidence | LagEvidence
ProbeObjective = AvailabilityObjective | LatencyObjective | LagObjective


@dataclass
class Answer:
    """The evidence of each PoP for one objective, and how it was obtained."""

    by_pop: dict[str, Evidence] = field(default_factory=dict)
    #: how the counts were proven clean ("report roll-ups ...", "raw samples", ...)
    source: str = ""
    queries: list[str] = field(default_factory=list)
    #: PoPs the fleet path counted one by one (odd series), and those whose slices it read raw
    per_pop: list[str] = field(default_factory=list)
    sliced: list[str] = field(default_factory=list)


def _one_by_one(pops: Iterable[str], read: Callable[[str], Evidence]) -> Answer:
    """The per-pop strategy: ``read`` each PoP's raw samples, one PoP after the other."""
    answer = Answer(source="raw samples, PoP by PoP")
    for pop in pops:
        evidence = read(pop)
        answer.by_pop[pop] = evidence
        answer.queries += evidence.queries
    return answer


class Engine:
    """Evidence from one Prometheus (or compatible) server for one period."""

    def __init__(
        self,
        client: PrometheusClient,
        period: Period,
        maintenance: Maintenance = (),
        strategy: Strategy = "fleet",
        *,
        rollups: bool = True,
    ) -> None:
        """``rollups=False`` proves counts clean from raw samples even where the report
        roll-ups are recorded (the fallback, tested against them)."""
        self.rollups = rollups
        self.client = client
        self.period = period
        self.maintenance = tuple(maintenance)
        self.strategy = strategy
        self._interval: dict[tuple[str, ...], float] = {}

    def _scrape_interval(self, sli: kinds.CounterSli, targets: tuple[str, ...]) -> float:
        filters = sli.filters(targets)
        if filters not in self._interval:
            self._interval[filters] = fleet.scrape_interval(self.client, self.period, filters)
        return self._interval[filters]

    def answer(self, objectives: Mapping[str, ProbeObjective]) -> Answer:
        """Evidence for each PoP of ``objectives`` (PoP -> the objective with its overrides)."""
        first = next(iter(objectives.values()))
        lags = {p: o.threshold for p, o in objectives.items() if isinstance(o, LagObjective)}
        if lags:
            return self._lag(lags)
        slow = {p: o for p, o in objectives.items() if isinstance(o, LatencyObjective)}
        if slow:
            targets = next(iter(slow.values())).targets
            return self._latency(targets, {p: o.threshold for p, o in slow.items()})
        assert isinstance(first, AvailabilityObjective)
        sli = kinds.of_objective(first)
        assert isinstance(sli, kinds.CounterSli)
        return self._availability(sli, first.targets, list(objectives))

    def _availability(
        self, sli: kinds.CounterSli, targets: tuple[str, ...], pops: Sequence[str]
    ) -> Answer:
        period, answer = self.period, Answer()
        wanted = targets or None
        if self.strategy == "per-pop":
            return _one_by_one(
                pops,
                lambda pop: single.availability(
                    self.client,
                    period.start,
                    period.end,
                    pop=pop,
                    targets=wanted,
                    maintenance=self.maintenance,
                    sli=sli.key,
                ),
            )
        stats = fleet.FleetStats()
        answer.by_pop = dict(
            fleet.availability_fleet(
                self.client,
                period.start,
                period.end,
                pops=pops,
                targets=wanted,
                maintenance=self.maintenance,
                sli=sli.key,
                stats=stats,
                scrape_interval=self._scrape_interval(sli, targets),
                rollups=self.rollups,
            )
        )
        return self._stats(answer, stats)

    def _latency(self, targets: tuple[str, ...], thresholds: dict[str, float]) -> Answer:
        period, answer = self.period, Answer()
        wanted = targets or None
        if self.strategy == "per-pop":
            return _one_by_one(
                thresholds,
                lambda pop: single.latency(
                    self.client,
                    period.start,
                    period.end,
                    pop=pop,
                    threshold=thresholds[pop],
                    targets=wanted,
                    maintenance=self.maintenance,
                ),
            )
        stats = fleet.FleetStats()
        answer.by_pop = dict(
            fleet.latency_fleet(
                self.client,
                period,
                thresholds=thresholds,
                targets=wanted,
                maintenance=self.maintenance,
                stats=stats,
                scrape_interval=self._scrape_interval(kinds.PROBE_LATENCY, targets),
                rollups=self.rollups,
            )
        )
        return self._stats(answer, stats)

    def _lag(self, thresholds: dict[str, float]) -> Answer:
        if self.strategy == "per-pop":
            return _one_by_one(
                thresholds, lambda pop: lag.per_pop(self.client, self.period, pop, thresholds[pop])
            )
        answer = Answer()
        found = lag.fleet(
            self.client, self.period, thresholds, queries=answer.queries, rollups=self.rollups
        )
        answer.by_pop = dict(found)
        rolled = any(
            q.startswith(f"sum_over_time({conv.ROLLUP_LAG_WITHIN}") for q in answer.queries
        )
        answer.source = (
            "report roll-ups (recording rules) and raw samples at the edges"
            if rolled
            else "raw samples (one subquery per threshold)"
        )
        return answer

    @staticmethod
    def _stats(answer: Answer, stats: fleet.FleetStats) -> Answer:
        answer.source = stats.source
        answer.queries = list(stats.query_texts)
        answer.per_pop = stats.per_pop
        answer.sliced = stats.sliced
        return answer
