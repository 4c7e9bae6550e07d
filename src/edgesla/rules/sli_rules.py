"""Step 1: SLI recording rules — error ratios over every burn-rate window, per PoP and
fleet-wide, and the exact 5-minute counts; for guarded alerts (spec ``alerting:``) also the
events and the error ratio's lower confidence bound over every window."""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla.rules import sli
from edgesla.rules.confidence import wilson_lower_promql
from edgesla.rules.model import UNGUARDED, Group, Guard, Recording, Rule, Scope, Slo

__all__ = ["sli_group"]


def _fleet(slo: Slo, window: str, part: str) -> str:
    pick = sli.bad if part == "bad" else sli.total
    return "sum(" + " or ".join(pick(slo, s, window) for s in slo.scopes) + ")"


def _guard_rules(slo: Slo, scope: Scope, guard: Guard) -> list[Rule]:
    """Events over each window (5m is recorded anyway) and, under ``bound: wilson``, the
    lower bound of the ratio from the ratio and events recorded just before it."""
    labels = sli.scope_labels(slo, scope)
    rules: list[Rule] = []
    for window in conv.BURN_RATE_WINDOWS:
        events = conv.RULE_POP_EVENTS.format(window=window)
        if events != conv.RULE_POP_EVENTS_5M:
            rules.append(Recording(events, sli.total(slo, scope, window), labels))
        if guard.bound == "wilson":
            ratio = sli.recorded(conv.RULE_POP_ERROR_RATIO.format(window=window), slo, scope)
            lower = wilson_lower_promql(ratio, sli.recorded(events, slo, scope), guard.confidence)
            rules.append(
                Recording(conv.RULE_POP_ERROR_RATIO_LOWER.format(window=window), lower, labels)
            )
    return rules


def sli_group(slo: Slo, guard: Guard = UNGUARDED) -> Group:
    rules: list[Rule] = []
    for scope in slo.scopes:
        labels = sli.scope_labels(slo, scope)
        if slo.kind == "replication_lag":
            rules.append(sli.breach_rule(slo, scope))
        rules.append(Recording(conv.RULE_POP_ERRORS_5M, sli.bad(slo, scope, "5m"), labels))
        rules.append(Recording(conv.RULE_POP_EVENTS_5M, sli.total(slo, scope, "5m"), labels))
        for window in conv.BURN_RATE_WINDOWS:
            ratio = f"{sli.bad(slo, scope, window)}\n/\n{sli.total(slo, scope, window)}"
            rules.append(Recording(conv.RULE_POP_ERROR_RATIO.format(window=window), ratio, labels))
        if guard.guarded:
            rules += _guard_rules(slo, scope, guard)
    for window in conv.BURN_RATE_WINDOWS:
        ratio = f"{_fleet(slo, window, 'bad')}\n/\n{_fleet(slo, window, 'all')}"
        rules.append(
            Recording(
                conv.RULE_FLEET_ERROR_RATIO.format(window=window), ratio, {conv.LABEL_SLO: slo.name}
            )
        )
    return Group(
        f"edgesla-slo-{slo.name}-sli",
        tuple(rules),
        f"SLO {slo.name} ({slo.kind}): error ratios = sum(increase(bad)) / sum(increase(all))",
    )
