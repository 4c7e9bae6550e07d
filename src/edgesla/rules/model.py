"""What the rule steps work on and what they produce: frozen, typed, no I/O.

    RulesModel ──(steps)──▶ RuleSet(groups of Recording | Alert) ──(writer)──▶ YAML

``RulesModel`` is the SLO spec (and fleet) as the rules see it: each objective that the
exporter's data can answer as an ``Slo`` with its *scopes* — the default scope (every PoP
without an override) and one scope per PoP with an override. Each scope carries the
objective and threshold in force there, so no step has to re-apply overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = [
    "UNGUARDED",
    "Alert",
    "FleetPopRef",
    "Group",
    "Guard",
    "Recording",
    "Rule",
    "RuleSet",
    "RulesModel",
    "Scope",
    "Skipped",
    "SliKind",
    "Slo",
]

#: The SLIs the exporter's series can answer (load-test SLIs are not among them).
SliKind = Literal["probe_success", "controlplane_ready", "latency", "replication_lag"]


@dataclass(frozen=True)
class Scope:
    """The PoPs one set of rules covers: all but ``excluded`` (default) or exactly ``pop``."""

    objective: Decimal
    #: seconds: the latency or lag threshold in force here (None for availability SLIs)
    threshold: float | None
    pop: str | None = None
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Slo:
    name: str
    kind: SliKind
    #: probe target names the SLI is limited to (empty: all)
    targets: tuple[str, ...]
    scopes: tuple[Scope, ...]
    description: str = ""

    @property
    def default(self) -> Scope:
        return self.scopes[0]


@dataclass(frozen=True)
class Skipped:
    """An objective of the spec that gets no rules, and why."""

    name: str
    sli: str
    reason: str


@dataclass(frozen=True)
class FleetPopRef:
    name: str
    region: str


@dataclass(frozen=True)
class Guard:
    """How cautious the burn-rate alerts are (the spec's ``alerting:`` and ``confidence``)."""

    #: "wilson": a pair fires on the error ratio's lower confidence bound, not the ratio
    bound: Literal["none", "wilson"] = "none"
    confidence: float = 0.95
    #: a pair fires only while its long window holds at least this many events (0: always)
    min_events: int = 0

    @property
    def guarded(self) -> bool:
        return self.bound != "none" or self.min_events > 0


#: Today's plain burn-rate alerts (the spec without ``alerting:``).
UNGUARDED = Guard()


@dataclass(frozen=True)
class RulesModel:
    slos: tuple[Slo, ...]
    #: the spec's window in seconds (error budget and burn-rate factors derive from it)
    window_seconds: float
    skipped: tuple[Skipped, ...] = ()
    #: the PoPs of --fleet (each gets an absent-data alert); empty without --fleet
    fleet: tuple[FleetPopRef, ...] = ()
    #: how the file was made, for its DO NOT EDIT header
    command: str = "edgesla rules"
    spec_source: str = "<built-in default SLO spec>"
    guard: Guard = UNGUARDED


@dataclass(frozen=True)
class Recording:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
    alert: str
    expr: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    #: Prometheus duration, or None for no ``for:`` (fires on the first true evaluation)
    for_: str | None = None
    #: Why this ``for:`` (written as a comment above the rule)
    comment: str = ""
    #: The series the alert watches, without its threshold: a test checks that a real
    #: Prometheus scraping a real exporter returns series for it.
    signal: str = ""


Rule = Recording | Alert


@dataclass(frozen=True)
class Group:
    name: str
    rules: tuple[Rule, ...]
    comment: str = ""


@dataclass(frozen=True)
class RuleSet:
    header: tuple[str, ...]
    groups: tuple[Group, ...]

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return tuple(r for g in self.groups for r in g.rules if isinstance(r, Alert))

    @property
    def recordings(self) -> tuple[Recording, ...]:
        return tuple(r for g in self.groups for r in g.rules if isinstance(r, Recording))
