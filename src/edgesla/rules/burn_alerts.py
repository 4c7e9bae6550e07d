"""Step 3: per-SLO alerts — multi-window multi-burn-rate (and, for replication lag, the lag
staying over its threshold).

One alert rule per severity and scope: the default scope's rule leaves out the PoPs that
have overrides, each of those gets its own rule with its own objective.

Guarded (spec ``alerting:``): each pair compares the error ratio's lower confidence bound
(``edgesla.rules.confidence``) with its threshold instead of the ratio, and/or needs
``min_events`` events in its long window.
"""

from __future__ import annotations

from decimal import Decimal

from edgesla import conventions as conv
from edgesla import promql
from edgesla.durations import format_duration
from edgesla.rules import sli
from edgesla.rules.burnrate import BURN_WINDOWS, Severity, budget, decimal_text
from edgesla.rules.model import UNGUARDED, Alert, Group, Guard, Rule, Scope, Slo

__all__ = ["ALERT_BURN", "ALERT_LAG_HIGH", "slo_alert_group"]

ALERT_BURN: dict[Severity, str] = {
    "page": "EdgeslaSloBurnRatePage",
    "ticket": "EdgeslaSloBurnRateTicket",
}
ALERT_LAG_HIGH = "EdgeslaPgReplicationLagHigh"
#: Lag over the threshold this long without a break is a stalled subscription, not a
#: bulk load: page even while the burn-rate alert (which needs 2 % of the budget) is quiet.
LAG_HIGH_FOR = "5m"
_BURN_COMMENT = (
    "no for: the short window already confirms the burn is still going on; a for: would "
    "only delay a page that five nines (25.9 s per 30 d) cannot afford"
)
_RUNBOOK = {
    "probe_success": "Find the failing targets: sum by (target, reason) "
    '(increase(edgesla_probe_failures_total{pop="{{ $labels.pop }}"}[1h])); then '
    "`edgesla probe --config <pop.yaml>` on the PoP shows each target's detail.",
    "controlplane_ready": "Check the control plane: edgesla_etcd_member_healthy, "
    "edgesla_kube_apiserver_readyz_check_up and the etcd/apiserver logs of the PoP.",
    "latency": "Look at the latency histogram by target: histogram_quantile(0.99, sum by "
    '(target, le) (rate(edgesla_probe_latency_seconds_bucket{pop="{{ $labels.pop }}"}[5m]))); '
    "check database load and slow queries.",
    "replication_lag": "Check edgesla_pg_replication_lag_seconds by origin/peer, "
    "edgesla_pg_subscription_worker_up and the subscriber's PostgreSQL log (apply errors, "
    "conflicts, long transactions).",
}


def _ratio(slo: Slo, scope: Scope, window: str, guard: Guard) -> str:
    wilson = guard.bound == "wilson"
    record = conv.RULE_POP_ERROR_RATIO_LOWER if wilson else conv.RULE_POP_ERROR_RATIO
    return sli.recorded(record.format(window=window), slo, scope)


def _guard_words(guard: Guard) -> tuple[str, str]:
    """How the description names the value, and what it adds about the guard."""
    if not guard.guarded:
        return "error ratio", ""
    words = []
    if guard.bound == "wilson":
        words.append(
            f"the {decimal_text(Decimal(repr(guard.confidence)) * 100)} % lower confidence "
            "bound (Wilson score, continuity-corrected) of the error ratio clears the threshold"
        )
    if guard.min_events:
        words.append(f"the long window holds at least {guard.min_events} events")
    value = "error ratio at least" if guard.bound == "wilson" else "error ratio"
    return value, " Guarded against low traffic: " + " and ".join(words) + "."


def _burn(slo: Slo, scope: Scope, severity: Severity, window_seconds: float, guard: Guard) -> Alert:
    pairs = [b for b in BURN_WINDOWS if b.severity == severity]
    branches = []
    for pair in pairs:
        limit = decimal_text(pair.threshold(window_seconds, scope.objective))
        events = ""
        if guard.min_events:
            total = sli.recorded(conv.RULE_POP_EVENTS.format(window=pair.long), slo, scope)
            events = f"\n  and\n  {total} >= {guard.min_events}"
        branches.append(
            f"(\n  {_ratio(slo, scope, pair.long, guard)} > {limit}\n"
            f"  and\n  {_ratio(slo, scope, pair.short, guard)} > {limit}{events}\n)"
        )
    value, guard_text = _guard_words(guard)
    rates = " or ".join(
        f"{decimal_text(p.factor(window_seconds))}× over {p.long} and {p.short}" for p in pairs
    )
    window = format_duration(window_seconds)
    objective = decimal_text(scope.objective * 100)
    return Alert(
        ALERT_BURN[severity],
        "\nor\n".join(branches),
        {**sli.scope_labels(slo, scope), conv.LABEL_SEVERITY: severity},
        {
            "summary": "{{ $labels.pop }}: SLO {{ $labels.slo }} burns its error budget "
            + ("fast" if severity == "page" else "steadily"),
            "description": f"PoP {{{{ $labels.pop }}}} ({{{{ $labels.region }}}}): {value} "
            "{{ $value | humanizePercentage }} over "
            f"{pairs[0].long} or {pairs[1].long}; it burns the {window} error budget of "
            f"objective {objective}% (budget {decimal_text(budget(scope.objective) * 100)}%) "
            f"at {rates}.{guard_text}",
            "runbook": _RUNBOOK[slo.kind],
        },
        comment=_BURN_COMMENT,
        signal=_ratio(slo, scope, pairs[0].long, guard),
    )


def _lag_high(slo: Slo, scope: Scope) -> Alert:
    assert scope.threshold is not None
    lag = conv.PG_REPLICATION_LAG_SECONDS + promql.matchers(sli.scope_matcher(scope))
    return Alert(
        ALERT_LAG_HIGH,
        f"{lag} > {scope.threshold!r}",
        {**sli.scope_labels(slo, scope), conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: replication {{ $labels.origin }} -> "
            "{{ $labels.peer }} lags {{ $value | humanizeDuration }}",
            "description": "PoP {{ $labels.pop }} ({{ $labels.region }}): the newest heartbeat "
            "from {{ $labels.origin }} seen on {{ $labels.peer }} is "
            "{{ $value | humanizeDuration }} old, over the "
            f"{format_duration(scope.threshold)} threshold for {LAG_HIGH_FOR}.",
            "runbook": "Replication is stalled, not just slow: check "
            "edgesla_pg_subscription_worker_up, pg_stat_subscription on the peer and its "
            "PostgreSQL log (apply errors, conflicts); a long transaction on the origin holds "
            "back logical decoding.",
        },
        for_=LAG_HIGH_FOR,
        comment=f"for: {LAG_HIGH_FOR}: bulk loads and vacuum may lag for a minute or two "
        "(the 99.9 % lag objective allows 43 min per 30 d); 5 min without catching up is a "
        "stall",
        signal=lag,
    )


def slo_alert_group(slo: Slo, window_seconds: float, guard: Guard = UNGUARDED) -> Group:
    rules: list[Rule] = []
    for scope in slo.scopes:
        rules.append(_burn(slo, scope, "page", window_seconds, guard))
        rules.append(_burn(slo, scope, "ticket", window_seconds, guard))
        if slo.kind == "replication_lag":
            rules.append(_lag_high(slo, scope))
    return Group(
        f"edgesla-slo-{slo.name}-alerts",
        tuple(rules),
        f"SLO {slo.name}: multi-window multi-burn-rate alerts (SRE Workbook)",
    )
