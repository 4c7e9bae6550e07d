"""The shapes of an SLI definition: what every kind says about itself.

An SLI kind answers, once, every question the report, the rules and the dashboards ask:

* which series carry it and how its events are counted (``CounterSli``: exact increases of a
  counter family, grouped by one label; ``TimeShareSli``: the share of sampled steps in
  which a gauge stays within a threshold; ``LoadTestSli``: counts from ``edgesla loadtest``
  results);
* the PromQL of its bad and total events over a window (rules, dashboards);
* its words: what is counted and what the verdict bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from edgesla import promql

__all__ = ["CounterSli", "LoadTestSli", "ObjectiveKind", "Sli", "TimeShareSli", "Words"]

ObjectiveKind = Literal["availability", "latency", "replication_lag"]


@dataclass(frozen=True)
class Words:
    """How a result of this kind is said, in every output alike."""

    #: what is counted, plural: "probes", "requests", "lag samples"
    noun: str
    #: what the confidence bound is a bound of: "the true availability"
    bounded: str


@dataclass(frozen=True)
class CounterSli:
    """Events counted exactly from one counter family of the exporter.

    ``metric`` is the family counted for the report, grouped by ``group_label`` (``result``
    for probe outcomes, ``le`` for histogram buckets); ``probers`` limits it to targets of
    these probers (control plane). ``good_total`` turns the group counts into (good, all).
    """

    key: str
    kind: ObjectiveKind
    words: Words
    metric: str
    group_label: str
    probers: tuple[str, ...] = ()

    def filters(self, targets: tuple[str, ...] = (), *extra: str) -> tuple[str, ...]:
        """The matchers selecting this SLI's series: probers, targets, then ``extra`` (empty
        ones left out, so a whole-PoP SLI has none)."""
        found = (promql.one_of("prober", self.probers), promql.one_of("target", targets), *extra)
        return tuple(m for m in found if m)

    def good_total(self, groups: Mapping[str, int], threshold: float | None) -> tuple[int, int]:
        """(good, all) events from the counts per ``group_label`` value."""
        if self.group_label == "le":
            assert threshold is not None
            return groups.get(promql.le(threshold), 0), groups.get("+Inf", 0)
        return groups.get("success", 0), sum(groups.values())


@dataclass(frozen=True)
class TimeShareSli:
    """The share of steps of a fixed grid in which a gauge stays at or under a threshold.

    The PoP's value at a step is the worst (``max``) of its series (every origin→peer pair);
    a step without a value is unobserved, never good.
    """

    key: str
    kind: ObjectiveKind
    words: Words
    metric: str
    #: the grid: one step every this many seconds, at absolute multiples of it
    step_seconds: float


@dataclass(frozen=True)
class LoadTestSli:
    """Requests of ``edgesla loadtest`` runs: counted from the results directory."""

    key: str
    kind: ObjectiveKind
    words: Words


Sli = CounterSli | TimeShareSli | LoadTestSli
