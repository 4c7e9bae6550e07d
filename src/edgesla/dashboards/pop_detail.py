"""PoP detail: one PoP's probes, latency against the SLA thresholds, replication, control
plane and SLO burn rates. Opened from the fleet overview with ``var-pop`` set."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builder

from edgesla import conventions as conv
from edgesla.dashboards import _query as q
from edgesla.dashboards._panels import (
    Item,
    assemble,
    latency_thresholds,
    mapping,
    series,
    stat_panel,
    state_timeline,
    thresholds,
    timeseries_panel,
)
from edgesla.dashboards._variables import datasource, label_variable
from edgesla.rules.burnrate import BURN_WINDOWS, decimal_text
from edgesla.slo.spec import DEFAULT_LAG_THRESHOLD_SECONDS

__all__ = ["TITLE", "UID", "build"]

UID: Final = "edgesla-pop-detail"
TITLE: Final = "edgesla / PoP detail"

_UP: Final = {"1": ("up", "green"), "0": ("down", "red")}
_YES: Final = {"1": ("yes", "green"), "0": ("no", "red")}
#: Burn-rate factors of the multi-window alerts (SRE Workbook): 2 %, 5 %, 10 % of a 30-day
#: budget in 1 h, 6 h and 3 d; 1 = spending exactly the budget.
#: The alerts' burn factors over the default 30-day window (rules.burnrate), in the colours
#: of their severity: 1 (ticket, 3 d), 3 (ticket, 1 d), 6 (page, 6 h), 14.4 (page, 1 h).
_BURN_COLOURS: Final = ("yellow", "orange", "red", "dark-red")
_BURN_FACTORS: Final = tuple(
    zip(
        sorted(float(w.factor(conv.WINDOW_SECONDS_30D)) for w in BURN_WINDOWS),
        _BURN_COLOURS,
        strict=True,
    )
)


def _fires_at() -> str:
    """ "14.4 (1 h), 6 (6 h) and 3 (1 d)": the page and the first ticket alert's factors."""
    pairs = [
        (w.factor(conv.WINDOW_SECONDS_30D), w.long.replace("h", " h").replace("d", " d"))
        for w in BURN_WINDOWS[:3]
    ]
    said = [f"{decimal_text(f)} ({window})" for f, window in pairs]
    return ", ".join(said[:-1]) + " and " + said[-1]


def _probes() -> list[Item]:
    by_target = (conv.LABEL_TARGET,)
    results = q.selector(conv.PROBE_RESULTS_TOTAL, q.POP)
    reason = q.selector(conv.PROBE_FAILURE_REASON, q.POP)
    success = q.selector(conv.PROBE_RESULTS_TOTAL, q.POP, f'{conv.LABEL_RESULT}="success"')
    return [
        builder.Row("Probes"),
        state_timeline(
            "Probe success by target",
            "edgesla_probe_up: 1 when the target's last probe succeeded.",
            series(f"max by (target) ({q.selector(conv.PROBE_UP, q.POP)})", "{{target}}"),
            states=_UP,
        ),
        timeseries_panel(
            "Availability by target",
            "Successful probe runs over all runs (exact counts) in each rate window.",
            series(
                f"sum by (target) (increase({success}[{q.RATE}])) / "
                f"sum by (target) (increase({results}[{q.RATE}]))",
                "{{target}}",
            ),
            unit="percentunit",
        ),
        timeseries_panel(
            "Failures by reason",
            "Failed probe runs per second, by target and reason (timeout, refused, auth, ...).",
            series(
                f"sum by (target, reason) (rate({q.selector(conv.PROBE_FAILURES_TOTAL, q.POP)}"
                f"[{q.RATE}]))",
                "{{target}}: {{reason}}",
            ),
            unit="ops",
        ),
        state_timeline(
            "Current failure reason",
            "edgesla_probe_failure_reason: one lane per failing target and reason; a target "
            "without a failure shows one ok lane.",
            series(
                f"max by (target, reason) ({reason}) == 1 "
                f"or on (target) max by (target) ({reason}) * 0",
                "{{target}} {{reason}}",
            ),
            states={"1": ("failing", "red"), "0": ("ok", "green")},
        ),
        builder.Row("Latency against the SLA thresholds (10 ms edge query, 200 ms care lookup)"),
        *(
            timeseries_panel(
                f"Probe latency p{label} by target",
                f"histogram_quantile({quant}) of edgesla_probe_latency_seconds; dashed lines: "
                "the 10 ms and 200 ms SLA thresholds.",
                series(
                    q.quantile(quant, conv.PROBE_LATENCY_SECONDS, by_target, q.POP),
                    "{{target}}",
                ),
                unit="s",
                limits=latency_thresholds(),
                width=8,
            )
            for quant, label in ((0.5, "50"), (0.99, "99"), (0.999, "99.9"))
        ),
        timeseries_panel(
            "Share of probes slower than the thresholds",
            "Exact: the thresholds are bucket bounds, so this is a count, not an estimate.",
            *(
                series(
                    q.share_slower(limit, conv.PROBE_LATENCY_SECONDS, by_target, q.POP),
                    f"{{{{target}}}} > {limit * 1000:g} ms",
                )
                for limit in (conv.EDGE_QUERY_LATENCY_SECONDS, conv.CUSTOMER_CARE_LATENCY_SECONDS)
            ),
            unit="percentunit",
            width=24,
        ),
    ]


def _replication() -> list[Item]:
    sub = (q.POP,)
    return [
        builder.Row("PostgreSQL multi-master replication"),
        timeseries_panel(
            "Replication lag origin → peer",
            "Age on the peer of the newest heartbeat row applied from the origin: end-to-end "
            "lag of logical replication. Dashed: the lag objective's threshold.",
            series(
                f"max by (origin, peer) ({q.selector(conv.PG_REPLICATION_LAG_SECONDS, *sub)})",
                "{{origin}} → {{peer}}",
            ),
            unit="s",
            limits=thresholds((DEFAULT_LAG_THRESHOLD_SECONDS, "red")),
        ),
        state_timeline(
            "Subscription apply workers",
            "1 when the subscription's apply worker runs.",
            series(
                f"max by (node, subscription) ({q.selector(conv.PG_SUBSCRIPTION_WORKER_UP, *sub)})",
                "{{node}}: {{subscription}}",
            ),
            states=_UP,
        ),
        timeseries_panel(
            "Subscription errors and conflicts",
            "Apply and initial-sync errors (pg_stat_subscription_stats) and conflicts by type "
            "(PostgreSQL >= 18), per rate window.",
            *(
                series(
                    f"sum by (node, subscription{extra}) "
                    f"(increase({q.selector(metric, *sub)}[{q.RATE}]))",
                    f"{{{{subscription}}}} {what}",
                )
                for metric, what, extra in (
                    (conv.PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL, "apply errors", ""),
                    (conv.PG_SUBSCRIPTION_SYNC_ERRORS_TOTAL, "sync errors", ""),
                    (conv.PG_SUBSCRIPTION_CONFLICTS_TOTAL, "conflicts {{type}}", ", type"),
                )
            ),
        ),
        timeseries_panel(
            "Seconds since last message from the publisher",
            "Grows while the publisher is idle; a stalled subscription shows here first.",
            series(
                f"max by (node, subscription) "
                f"({q.selector(conv.PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS, *sub)})",
                "{{node}}: {{subscription}}",
            ),
            unit="s",
        ),
        timeseries_panel(
            "Divergent rows between the masters",
            "Rows of each compared table that differ between two masters (on one only, or "
            "different content), rows modified within the settle time left out "
            "(postgres_convergence). Anything above 0 that stays: last-write-wins did not "
            "converge. A gap: the comparison failed (next panel).",
            series(
                f"max by (table, node, peer) "
                f"({q.selector(conv.PG_CONVERGENCE_DIVERGENT_ROWS, *sub)})",
                "{{table}} {{node}} ↔ {{peer}}",
            ),
            limits=thresholds((1, "red")),
        ),
        state_timeline(
            "Convergence comparisons",
            "1 when the comparison of the table on the two masters ran to the end; 0: it "
            "failed, and whether they agree is unknown (the probe's failure reason says why).",
            series(
                f"min by (table, node, peer) ({q.selector(conv.PG_CONVERGENCE_SUCCESS, *sub)})",
                "{{table}} {{node}} ↔ {{peer}}",
            ),
            states=_YES,
        ),
        builder.Row("MongoDB replica set"),
        timeseries_panel(
            "Member lag behind the primary",
            "Signed seconds (negative: ahead). An idle primary writes a no-op every 10 s, so "
            "an idle set drifts up to 10 s.",
            series(
                f"max by (member) ({q.selector(conv.MONGO_MEMBER_LAG_SECONDS, *sub)})",
                "{{member}}",
            ),
            unit="s",
        ),
        state_timeline(
            "Member health and primary",
            "Each member's health (replSetGetStatus) and whether the set has a primary.",
            series(f"max by (member) ({q.selector(conv.MONGO_MEMBER_HEALTH, *sub)})", "{{member}}"),
            series(f"max({q.selector(conv.MONGO_PRIMARY_PRESENT, *sub)})", "primary present"),
            states=_UP,
        ),
    ]


def _control_plane() -> list[Item]:
    sub = (q.POP,)
    return [
        builder.Row("Control plane"),
        stat_panel(
            "etcd quorum",
            "1 when enough etcd members are healthy for quorum.",
            series(f"min({q.selector(conv.ETCD_QUORUM_OK, *sub)})"),
            limits=thresholds((1, "green"), base="red"),
        ).mappings(mapping(_YES)),
        stat_panel(
            "etcd leaders",
            "Members that are leader now: anything but 1 is an election or a split.",
            series(f"sum({q.selector(conv.ETCD_MEMBER_IS_LEADER, *sub)})"),
            limits=thresholds((1, "green"), (2, "red"), base="red"),
        ),
        stat_panel(
            "Failures tolerated",
            "Members that may still fail before quorum (etcd) or service (apiserver) is "
            "lost: 0 is a single point of failure.",
            series(q.tolerated(*sub, by=())),
            limits=thresholds((1, "green"), base="red"),
        ),
        stat_panel(
            "Leader changes",
            "Leader changes seen over the dashboard's time range (max over members).",
            series(f"max(increase({q.selector(conv.ETCD_LEADER_CHANGES_TOTAL, *sub)}[{q.RANGE}]))"),
            limits=thresholds((1, "yellow"), (3, "red")),
        ),
        stat_panel(
            "Failed raft proposals",
            "Failed proposals over the dashboard's time range (sum over members).",
            series(
                f"sum(increase({q.selector(conv.ETCD_PROPOSALS_FAILED_TOTAL, *sub)}[{q.RANGE}]))"
            ),
            limits=thresholds((1, "red")),
        ),
        stat_panel(
            "apiserver /readyz",
            "Endpoints whose /readyz answers ok (needs a kube_apiserver target).",
            series(f"sum({q.selector(conv.KUBE_READYZ_UP, *sub)})"),
            limits=thresholds((1, "green"), base="red"),
        ),
        state_timeline(
            "etcd members",
            "Per member: healthy (/health) and knows a leader.",
            series(
                f"max by (member) ({q.selector(conv.ETCD_MEMBER_HEALTHY, *sub)})",
                "{{member}} healthy",
            ),
            series(
                f"max by (member) ({q.selector(conv.ETCD_MEMBER_HAS_LEADER, *sub)})",
                "{{member}} has leader",
            ),
            states=_YES,
        ),
        timeseries_panel(
            "Members healthy vs configured",
            "Per component; healthy <= 1 (or below quorum for etcd) is a single point of failure.",
            series(
                f"max by (component) ({q.selector(conv.CONTROLPLANE_MEMBERS_HEALTHY, *sub)})",
                "{{component}} healthy",
            ),
            series(
                f"max by (component) ({q.selector(conv.CONTROLPLANE_MEMBERS_CONFIGURED, *sub)})",
                "{{component}} configured",
            ),
        ),
        timeseries_panel(
            "etcd WAL fsync p99",
            "99th percentile of each member's WAL fsync: slow disks cost leader elections.",
            series(
                f"max by (member) ({q.selector(conv.ETCD_WAL_FSYNC_P99_SECONDS, *sub)})",
                "{{member}}",
            ),
            unit="s",
            limits=thresholds((0.010, "yellow"), (0.100, "red")),
        ),
        state_timeline(
            "apiserver readiness checks",
            "Each /readyz?verbose check per endpoint (needs a kube_apiserver target).",
            series(
                f"max by (endpoint, check) ({q.selector(conv.KUBE_READYZ_CHECK_UP, *sub)})",
                "{{endpoint}}: {{check}}",
            ),
            states=_UP,
        ),
        timeseries_panel(
            "Leader lease age vs duration",
            "Seconds since each leader Lease was renewed, against its leaseDurationSeconds: "
            "age above duration means no component holds the lease.",
            series(
                f"max by (lease) ({q.selector(conv.KUBE_LEASE_AGE_SECONDS, *sub)})",
                "{{lease}} age",
            ),
            series(
                f"max by (lease) ({q.selector(conv.KUBE_LEASE_DURATION_SECONDS, *sub)})",
                "{{lease}} duration",
            ),
            series(
                f"min by (lease) ({q.selector(conv.KUBE_LEASE_FRESH, *sub)})", "{{lease}} fresh"
            ),
            unit="s",
        ),
    ]


def _slo() -> list[Item]:
    pop = (q.POP,)
    objective = q.selector(conv.RULE_POP_OBJECTIVE, *pop)
    return [
        builder.Row("SLO burn rates (recording rules of `edgesla rules`)"),
        *(
            timeseries_panel(
                f"Burn rate over {window}",
                f"Error ratio over {window} divided by the error budget (1 - objective): 1 "
                f"spends the budget exactly over the SLO window; the alerts fire at {_fires_at()}.",
                series(
                    f"max by (slo) ("
                    f"{q.selector(conv.RULE_POP_ERROR_RATIO.format(window=window), *pop)} "
                    f"/ on (slo, pop, region) (1 - {objective}))",
                    "{{slo}}",
                ),
                limits=thresholds(*_BURN_FACTORS),
                width=8,
            )
            for window in conv.BURN_RATE_WINDOWS
        ),
        timeseries_panel(
            "Error budget remaining",
            "Share of each objective's error budget left over the spec's window: 1 untouched, "
            "0 or below spent.",
            series(f"min by (slo) ({q.selector(conv.RULE_POP_BUDGET_REMAINING, *pop)})", "{{slo}}"),
            unit="percentunit",
            limits=thresholds((0.0, "orange"), (0.25, "green"), base="red"),
            width=16,
        ),
    ]


def build() -> builder.Dashboard:
    dash = (
        builder.Dashboard(TITLE)
        .uid(UID)
        .tags(["edgesla", "pop"])
        .description("One PoP: probes, latency vs SLA, replication, control plane, SLO burn.")
        .time("now-6h", "now")
        .refresh("1m")
        .with_variable(datasource())
        .with_variable(label_variable(conv.LABEL_REGION, conv.PROBE_UP, label="Region"))
        .with_variable(
            label_variable(
                conv.LABEL_POP,
                conv.PROBE_UP,
                label="PoP",
                depends_on=(conv.LABEL_REGION,),
                multi=False,
            )
        )
    )
    return assemble(dash, [*_probes(), *_replication(), *_control_plane(), *_slo()])
