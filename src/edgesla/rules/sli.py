"""The SLIs as the rules use them: bad and all events per PoP, from ``edgesla.slo.sli``.

The SLI kinds themselves (which series, how counted, their PromQL) are defined once in
``edgesla.slo.sli``; here each rules ``Slo`` picks its kind and adds what only the rules
need: the scope's matcher (``pop="x"``, or ``pop!~"x|y"`` for the default scope) and the
``sum by (pop, region)`` that makes every ratio ``bad / all`` of exact sums of increases
(never a mean of ratios). Replication lag is sampled by a recorded 0/1 series (``LAG_BREACH``,
1 while the PoP's worst origin→peer lag is over the threshold) at every rule evaluation.
"""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla import promql
from edgesla.rules.model import Recording, Scope, Slo
from edgesla.slo import sli as kinds
from edgesla.slo.sli.replication_lag import BREACH

__all__ = ["LAG_BREACH", "bad", "breach_rule", "recorded", "scope_matcher", "total"]

BY = f"{conv.LABEL_POP}, {conv.LABEL_REGION}"
LAG_BREACH = BREACH
_COUNTERS = {
    "probe_success": kinds.PROBE_SUCCESS,
    "controlplane_ready": kinds.CONTROLPLANE_READY,
}


def scope_matcher(scope: Scope) -> str:
    """``pop="x"`` for a PoP's own scope, ``pop!~"x|y"`` for the default one (or nothing)."""
    if scope.pop is not None:
        return promql.equals(conv.LABEL_POP, scope.pop)
    return promql.none_of(conv.LABEL_POP, scope.excluded)


def recorded(record: str, slo: Slo, scope: Scope) -> str:
    """The selector of a rule recorded for ``slo``'s ``scope``, e.g. ``record{slo="x",pop="y"}``."""
    return record + promql.matchers(promql.equals(conv.LABEL_SLO, slo.name), scope_matcher(scope))


def _sum(inner: str) -> str:
    return f"sum by ({BY}) ({inner})"


def _breach(slo: Slo, scope: Scope) -> str:
    return LAG_BREACH + promql.matchers(
        promql.equals(conv.LABEL_SLO, slo.name), scope_matcher(scope)
    )


def total(slo: Slo, scope: Scope, window: str) -> str:
    """All events of the scope's PoPs over ``window``."""
    if slo.kind == "latency":
        filters = kinds.PROBE_LATENCY.filters(slo.targets, scope_matcher(scope))
        return kinds.PROBE_LATENCY.total(filters, window, _sum)
    if slo.kind == "replication_lag":
        return kinds.REPLICATION_LAG.total(_breach(slo, scope), window, _sum)
    counter = _COUNTERS[slo.kind]
    return counter.total(counter.filters(slo.targets, scope_matcher(scope)), window, _sum)


def bad(slo: Slo, scope: Scope, window: str) -> str:
    """Bad events of the scope's PoPs over ``window``."""
    if slo.kind == "latency":
        assert scope.threshold is not None
        filters = kinds.PROBE_LATENCY.filters(slo.targets, scope_matcher(scope))
        return kinds.PROBE_LATENCY.bad(filters, window, _sum, scope.threshold)
    if slo.kind == "replication_lag":
        return kinds.REPLICATION_LAG.bad(_breach(slo, scope), window, _sum)
    counter = _COUNTERS[slo.kind]
    return counter.bad(counter.filters(slo.targets, scope_matcher(scope)), window, _sum)


def breach_rule(slo: Slo, scope: Scope) -> Recording:
    """The 0/1 lag-breach series of a replication_lag SLO's scope."""
    assert scope.threshold is not None
    expr = kinds.REPLICATION_LAG.breach((scope_matcher(scope),), scope.threshold)
    return Recording(LAG_BREACH, expr, scope_labels(slo, scope))


def scope_labels(slo: Slo, scope: Scope) -> dict[str, str]:
    """Static labels of a scope's rules: the SLO's name, and the PoP of a PoP's own scope
    (which also keeps its rules distinct from the default scope's for promtool)."""
    labels = {conv.LABEL_SLO: slo.name}
    if scope.pop is not None:
        labels[conv.LABEL_POP] = scope.pop
    return labels
