"""The SLIs as PromQL over the exporter's series: bad events and all events, per PoP.

Every expression here is ``sum by (pop, region) (...)`` over one scope's PoPs, so a ratio
is ``bad / all`` with both sides exact sums of increases (never a mean of ratios):

* probe_success, controlplane_ready: ``edgesla_probe_results_total``, bad = result="failure"
  (controlplane_ready: only the etcd and kube_apiserver probers);
* latency (source probes): all = the histogram's ``_count``, bad = ``_count`` minus the
  bucket whose bound is the threshold (an exact count: the threshold is a bound);
* replication_lag: a recorded 0/1 series (1 while the worst origin→peer lag of the PoP is
  over the threshold), sampled at every rule evaluation: bad = its sum over the window,
  all = its count, so the ratio is the share of time in breach.
"""

from __future__ import annotations

import math

from prometheus_client.utils import floatToGoString

from edgesla import conventions as conv
from edgesla.rules import promql
from edgesla.rules.model import Recording, Scope, Slo

__all__ = ["LAG_BREACH", "bad", "breach_rule", "scope_matcher", "total"]

BY = f"{conv.LABEL_POP}, {conv.LABEL_REGION}"
#: Per PoP (labels slo, pop, region): 1 while the PoP's worst replication lag is over the
#: objective's threshold, else 0.
LAG_BREACH = "pop:edgesla_pg_replication_lag_over_threshold:bool"
_CONTROLPLANE_PROBERS = ("etcd", "kube_apiserver")


def scope_matcher(scope: Scope) -> str:
    """``pop="x"`` for a PoP's own scope, ``pop!~"x|y"`` for the default one (or nothing)."""
    if scope.pop is not None:
        return promql.equals(conv.LABEL_POP, scope.pop)
    return promql.none_of(conv.LABEL_POP, scope.excluded)


def _filters(slo: Slo, scope: Scope, *extra: str) -> str:
    prober = (
        promql.one_of(conv.LABEL_PROBER, _CONTROLPLANE_PROBERS)
        if slo.kind == "controlplane_ready"
        else ""
    )
    return promql.matchers(
        prober, promql.one_of(conv.LABEL_TARGET, slo.targets), scope_matcher(scope), *extra
    )


def _le(threshold: float) -> str:
    """The ``le`` label value of the bucket at ``threshold``, spelled as the exporter's
    client library spells it (Prometheus 2 compares ``le`` as a string)."""
    bound = next(b for b in conv.LATENCY_BUCKETS_SECONDS if math.isclose(b, threshold))
    spelled: str = floatToGoString(bound)  # type: ignore[no-untyped-call]  # untyped library
    return spelled


def _sum(inner: str) -> str:
    return f"sum by ({BY}) ({inner})"


def _breach(slo: Slo, scope: Scope) -> str:
    return LAG_BREACH + promql.matchers(
        promql.equals(conv.LABEL_SLO, slo.name), scope_matcher(scope)
    )


def total(slo: Slo, scope: Scope, window: str) -> str:
    """All events of the scope's PoPs over ``window``."""
    if slo.kind == "latency":
        series = f"{conv.PROBE_LATENCY_SECONDS}_count{_filters(slo, scope)}"
        return _sum(f"increase({series}[{window}])")
    if slo.kind == "replication_lag":
        return _sum(f"count_over_time({_breach(slo, scope)}[{window}])")
    return _sum(f"increase({conv.PROBE_RESULTS_TOTAL}{_filters(slo, scope)}[{window}])")


def bad(slo: Slo, scope: Scope, window: str) -> str:
    """Bad events of the scope's PoPs over ``window``."""
    if slo.kind == "latency":
        assert scope.threshold is not None
        le = promql.equals("le", _le(scope.threshold))
        fast = f"{conv.PROBE_LATENCY_SECONDS}_bucket{_filters(slo, scope, le)}"
        return f"({total(slo, scope, window)} - {_sum(f'increase({fast}[{window}])')})"
    if slo.kind == "replication_lag":
        return _sum(f"sum_over_time({_breach(slo, scope)}[{window}])")
    failure = promql.equals(conv.LABEL_RESULT, "failure")
    return _sum(f"increase({conv.PROBE_RESULTS_TOTAL}{_filters(slo, scope, failure)}[{window}])")


def breach_rule(slo: Slo, scope: Scope) -> Recording:
    """The 0/1 lag-breach series of a replication_lag SLO's scope."""
    assert scope.threshold is not None
    lag = conv.PG_REPLICATION_LAG_SECONDS + promql.matchers(scope_matcher(scope))
    return Recording(
        LAG_BREACH,
        f"max by ({BY}) ({lag} > bool {scope.threshold!r})",
        scope_labels(slo, scope),
    )


def scope_labels(slo: Slo, scope: Scope) -> dict[str, str]:
    """Static labels of a scope's rules: the SLO's name, and the PoP of a PoP's own scope
    (which also keeps its rules distinct from the default scope's for promtool)."""
    labels = {conv.LABEL_SLO: slo.name}
    if scope.pop is not None:
        labels[conv.LABEL_POP] = scope.pop
    return labels
