"""Step 6: control-plane alerts — etcd leader and quorum, redundancy, leader leases.

What the exporter emits (probes/etcd.py, probes/kube_apiserver.py): per etcd target,
``edgesla_etcd_member_healthy{member}`` for every member (0 when it does not answer),
``edgesla_etcd_server_has_leader{member}`` only for members whose /metrics answered,
``edgesla_etcd_quorum_ok`` and ``edgesla_controlplane_members_{configured,healthy}
{component}``; per kube_apiserver target, ``edgesla_kube_lease_fresh{lease}``.

``for:`` times: five nines allow 25.9 s of downtime per 30 days, so a lost quorum or a
missing leader pages after 15 s — two evaluations at the 15 s default, long enough to ride
out a leader election (about one second in etcd) and still well inside a minute of outage.
Lost redundancy is no outage yet: a ticket after 1 min (a rolling restart of a member takes
10-30 s and should not open tickets).
"""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla import promql
from edgesla.rules.model import Alert, Group

__all__ = [
    "ALERT_LEASE_STALE",
    "ALERT_NO_LEADER",
    "ALERT_QUORUM_AT_RISK",
    "ALERT_QUORUM_LOST",
    "ALERT_SPOF",
    "controlplane_group",
]

ALERT_NO_LEADER = "EdgeslaEtcdNoLeader"
ALERT_QUORUM_LOST = "EdgeslaEtcdQuorumLost"
ALERT_QUORUM_AT_RISK = "EdgeslaEtcdQuorumAtRisk"
ALERT_SPOF = "EdgeslaControlPlaneSinglePointOfFailure"
ALERT_LEASE_STALE = "EdgeslaKubeLeaseStale"
OUTAGE_FOR = "15s"
LEASE_FOR = "30s"
REDUNDANCY_FOR = "1m"
ON = f"on ({conv.LABEL_POP}, {conv.LABEL_REGION}, {conv.LABEL_TARGET})"
_ETCD = promql.matchers(promql.equals("component", "etcd"))
_HEALTHY_ETCD = conv.CONTROLPLANE_MEMBERS_HEALTHY + _ETCD
_QUORUM_SIZE = f"(floor({conv.CONTROLPLANE_MEMBERS_CONFIGURED}{_ETCD} / 2) + 1)"
_WHERE = "PoP {{ $labels.pop }} ({{ $labels.region }}), target {{ $labels.target }}"


def _no_leader() -> Alert:
    by = f"{conv.LABEL_POP}, {conv.LABEL_REGION}, {conv.LABEL_TARGET}"
    return Alert(
        ALERT_NO_LEADER,
        f"count by ({by}) ({conv.ETCD_MEMBER_HEALTHY})\nunless {ON}\n"
        f"(max by ({by}) ({conv.ETCD_MEMBER_HAS_LEADER}) == 1)",
        {conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: etcd has no leader",
            "description": f"{_WHERE}: none of the {{{{ $value }}}} etcd members sees a "
            "leader (or none answers): writes fail, the Kubernetes API cannot change state.",
            "runbook": "etcdctl endpoint status --cluster -w table; look for partitions "
            "between members and for members stopped or out of disk; an election that does "
            "not finish means a majority cannot talk to each other.",
        },
        for_=OUTAGE_FOR,
        comment=f"for: {OUTAGE_FOR}: an etcd election takes about a second; 15 s without a "
        "leader is an outage, paged within the first minute",
        signal=conv.ETCD_MEMBER_HAS_LEADER,
    )


def _quorum_lost() -> Alert:
    return Alert(
        ALERT_QUORUM_LOST,
        f"{_HEALTHY_ETCD}\nand {ON}\n({conv.ETCD_QUORUM_OK} == 0)",
        {conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: etcd quorum lost",
            "description": f"{_WHERE}: only {{{{ $value }}}} etcd member(s) healthy, fewer "
            "than a majority: the cluster refuses writes and linearizable reads.",
            "runbook": "Bring the stopped members back (systemctl status etcd on each); never "
            "force a new cluster while a majority may still come back.",
        },
        for_=OUTAGE_FOR,
        comment=f"for: {OUTAGE_FOR}: quorum lost is an outage; five nines allow 25.9 s per "
        "30 d, so page fast (two evaluations at the 15 s default)",
        signal=conv.ETCD_QUORUM_OK,
    )


def _quorum_at_risk() -> Alert:
    return Alert(
        ALERT_QUORUM_AT_RISK,
        f"({_HEALTHY_ETCD} > 1)\n== {ON}\n{_QUORUM_SIZE}",
        {conv.LABEL_SEVERITY: "ticket"},
        {
            "summary": "{{ $labels.pop }}: etcd quorum at risk",
            "description": f"{_WHERE}: {{{{ $value }}}} etcd members healthy, exactly a "
            "majority: one more failure loses quorum.",
            "runbook": "Find the unhealthy member (edgesla_etcd_member_healthy == 0) and "
            "restore it today: check its service, disk and network.",
        },
        for_=REDUNDANCY_FOR,
        comment=f"for: {REDUNDANCY_FOR}: a member restarting (upgrade, reboot) is back within "
        "30 s; no outage yet, so a ticket",
        signal=conv.CONTROLPLANE_MEMBERS_HEALTHY,
    )


def _spof() -> Alert:
    return Alert(
        ALERT_SPOF,
        f"{conv.CONTROLPLANE_MEMBERS_HEALTHY} == 1\nunless {ON}\n({conv.ETCD_QUORUM_OK} == 0)",
        {conv.LABEL_SEVERITY: "ticket"},
        {
            "summary": "{{ $labels.pop }}: {{ $labels.component }} is a single point of failure",
            "description": f"{_WHERE}: only {{{{ $value }}}} {{{{ $labels.component }}}} member "
            "is healthy: redundancy is lost, the next failure is an outage.",
            "runbook": "Restore the other members (edgesla_kube_apiserver_readyz_up, "
            "edgesla_etcd_member_healthy show which are down); if only one is configured, add "
            "a second one.",
        },
        for_=REDUNDANCY_FOR,
        comment=f"for: {REDUNDANCY_FOR}: as for quorum at risk (restarts are not tickets); "
        "with etcd quorum lost the page says more, so that case is left out",
        signal=conv.CONTROLPLANE_MEMBERS_HEALTHY,
    )


def _lease_stale() -> Alert:
    on = f"on ({conv.LABEL_POP}, {conv.LABEL_REGION}, {conv.LABEL_TARGET}, lease)"
    stale = f"({conv.KUBE_LEASE_FRESH} == 0)"
    return Alert(
        ALERT_LEASE_STALE,
        f"({conv.KUBE_LEASE_AGE_SECONDS} and {on} {stale})\nor\n{stale}",
        {conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: leader lease {{ $labels.lease }} is stale",
            "description": f"{_WHERE}: lease {{{{ $labels.lease }}}} was last renewed "
            "{{ $value | humanizeDuration }} ago (0s: unreadable or missing), longer than its "
            "duration: its holder (scheduler, controller manager) is gone and no standby took "
            "over.",
            "runbook": "kubectl -n kube-system get lease {{ $labels.lease }} -o yaml; check the "
            "holder's pods/static manifests and their logs (leader election lost, cannot "
            "reach the apiserver).",
        },
        for_=LEASE_FOR,
        comment=f"for: {LEASE_FOR}: a standby takes a lease over within its duration (15 s "
        "by default); still stale 30 s later, nobody leads",
        signal=conv.KUBE_LEASE_FRESH,
    )


def controlplane_group() -> Group:
    return Group(
        "edgesla-controlplane",
        (_no_leader(), _quorum_lost(), _quorum_at_risk(), _spof(), _lease_stale()),
        "etcd leader and quorum, control-plane redundancy, leader leases",
    )
