"""Spec (+ fleet) → RulesModel, checking what only the rules care about.

The spec loader already rejects unknown keys and SLIs. Here, each problem is collected
(all of them reported at once, ConfigError, exit 2), named by its place in the spec:

* the window must be a duration at least as long as the longest alert window (3d);
* every PoP of ``pops:`` must be in ``--fleet`` when one is given;
* a latency threshold (also per PoP) must be a bucket bound of the exporter's histogram;
* the error budget must be small enough for every burn factor to be able to fire
  (factor x (1 - objective) < 1: an error ratio never exceeds 1).
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.durations import format_duration
from edgesla.fleet import Fleet
from edgesla.rules.burnrate import BURN_WINDOWS, budget, decimal_text, longest_window_seconds
from edgesla.rules.model import FleetPopRef, Guard, RulesModel, Scope, Skipped, Slo
from edgesla.slo.spec import (
    AvailabilityObjective,
    LagObjective,
    LatencyObjective,
    SloSpec,
)

__all__ = ["build_model"]

AnyObjective = AvailabilityObjective | LatencyObjective | LagObjective
_LOADTEST_REASON = (
    "load-test data is not in the exporter's series (the SLA report judges it from "
    "`edgesla loadtest` results)"
)


def _objective(o: AnyObjective) -> Decimal:
    return Decimal(repr(o.ratio))


def _threshold(o: AnyObjective) -> float | None:
    return o.threshold if isinstance(o, LatencyObjective | LagObjective) else None


def _skip_reason(o: AnyObjective) -> str | None:
    if o.from_loadtest:
        return _LOADTEST_REASON
    return None


def _check_window(spec: SloSpec) -> list[str]:
    seconds = spec.window_seconds
    longest = longest_window_seconds()
    if seconds is None:
        return [
            "window: 'loadtest' has no fixed length, so the burn rates (budget "
            "share × window / alert window) are undefined; set a duration such as 30d for "
            "`edgesla rules` (the report can keep its own spec with window: loadtest)"
        ]
    if seconds < longest:
        return [
            f"window: {format_duration(seconds)} is shorter than the longest alert "
            f"window ({format_duration(longest)}); use a window of at least "
            f"{format_duration(longest)}, e.g. 30d"
        ]
    return []


def _check_fleet(spec: SloSpec, fleet: Fleet | None) -> list[str]:
    if fleet is None:
        return []
    return [
        f"pops.{pop}: PoP {pop!r} is not in the fleet inventory; add it to the "
        f"fleet file or remove its overrides (fleet PoPs: {', '.join(sorted(fleet.names))})"
        for pop in spec.pops
        if pop not in fleet.names
    ]


def _check_objective(where: str, o: AnyObjective, window: float) -> list[str]:
    problems: list[str] = []
    if isinstance(o, LatencyObjective) and not any(
        math.isclose(o.threshold, b) for b in conv.LATENCY_BUCKETS_SECONDS
    ):
        bounds = ", ".join(format_duration(b) for b in conv.LATENCY_BUCKETS_SECONDS)
        problems.append(
            f"{where}.threshold: {format_duration(o.threshold)} is not a bucket bound of "
            f"{conv.PROBE_LATENCY_SECONDS}, so the share of slower probes cannot be counted "
            f"exactly; use one of: {bounds}"
        )
    worst = max(BURN_WINDOWS, key=lambda b: b.factor(window))
    threshold = worst.threshold(window, _objective(o))
    if threshold >= 1:
        factor = worst.factor(window)
        lowest = ((Decimal(1) - Decimal(1) / factor) * 100).quantize(
            Decimal("0.01"), rounding=ROUND_CEILING
        )
        problems.append(
            f"{where}: objective {decimal_text(_objective(o) * 100)}% leaves an error budget "
            f"of {decimal_text(budget(_objective(o)) * 100)}%; the {decimal_text(factor)}× "
            f"burn-rate alert ({worst.long}/{worst.short}) would need an error ratio of "
            f"{decimal_text(threshold)} > 1 and could never fire; use an objective above "
            f"{lowest}%"
        )
    return problems


def _slo(spec: SloSpec, index: int, o: AnyObjective) -> tuple[Slo, list[str]]:
    assert spec.window_seconds is not None
    where = f"objectives[{index}] (name: {o.name})"
    problems = _check_objective(where, o, spec.window_seconds)
    overridden = tuple(sorted(pop for pop, items in spec.pops.items() if o.name in items))
    scopes = [Scope(_objective(o), _threshold(o), excluded=overridden)]
    for pop in overridden:
        local = next(x for x in spec.objectives_for(pop) if x.name == o.name)
        problems += _check_objective(f"pops.{pop}.{o.name}", local, spec.window_seconds)
        scopes.append(Scope(_objective(local), _threshold(local), pop=pop))
    kind = "latency" if isinstance(o, LatencyObjective) else o.sli
    assert kind in ("probe_success", "controlplane_ready", "latency", "replication_lag")
    targets = () if isinstance(o, LagObjective) else o.targets
    return Slo(o.name, kind, targets, tuple(scopes), o.description), problems


def build_model(
    spec: SloSpec,
    fleet: Fleet | None = None,
    *,
    source: str = "<built-in default SLO spec>",
    command: str = "edgesla rules",
) -> RulesModel:
    """The model the rule steps need; ConfigError listing every problem found."""
    problems = _check_window(spec) + _check_fleet(spec, fleet)
    slos: list[Slo] = []
    skipped: list[Skipped] = []
    for index, objective in enumerate(spec.objectives):
        reason = _skip_reason(objective)
        if reason is not None:
            sli = objective.sli + (", source loadtest" if objective.sli == "latency" else "")
            skipped.append(Skipped(objective.name, sli, reason))
            continue
        if spec.window_seconds is None:
            continue  # reported by _check_window; burn rates need a length
        slo, found = _slo(spec, index, objective)
        slos.append(slo)
        problems += found
    if problems:
        raise ConfigError(
            f"{source}: cannot generate rules:\n" + "\n".join(f"  {p}" for p in problems)
        )
    assert spec.window_seconds is not None
    pops = () if fleet is None else tuple(FleetPopRef(p.name, p.region) for p in fleet.pops)
    guard = Guard(spec.alerting.guard, spec.confidence, spec.alerting.min_events)
    return RulesModel(
        tuple(slos),
        spec.window_seconds,
        tuple(skipped),
        pops,
        command=command,
        spec_source=source,
        guard=guard,
    )
