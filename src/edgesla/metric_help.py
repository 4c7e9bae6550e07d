"""HELP texts of the probe-specific metrics (names live in edgesla.conventions)."""

from __future__ import annotations

from typing import Final

from edgesla import conventions as c

__all__ = ["HELP", "help_for"]

HELP: Final[dict[str, str]] = {
    c.PG_REPLICATION_LAG_SECONDS: "End-to-end replication lag origin->peer: age of the oldest "
    "heartbeat written on the origin and not yet applied on the peer (0: none missing), "
    "measured every heartbeat_interval.",
    c.PG_HEARTBEAT_SEQ: "Sequence number of the newest heartbeat from the origin seen on the peer.",
    c.PG_REPLICATION_LAG_ERROR_SECONDS: "Half-width of the replication lag's error bar: round "
    "trips, plus the origin's clock offset error where its clock is read (+Inf: lower bound).",
    c.PG_CLOCK_OFFSET_SECONDS: "The node's clock minus the exporter's, from a timed "
    "clock_timestamp() round trip (shortest of the last 8).",
    c.PG_CLOCK_OFFSET_ERROR_SECONDS: "Error bound of the clock offset: half that round trip.",
    c.PG_HEARTBEAT_INTERVAL_SECONDS: "The target's heartbeat_interval: how often the lag is "
    "measured.",
    c.PG_SUBSCRIPTION_WORKER_UP: "1 when the subscription's apply worker runs.",
    c.PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS: "Seconds since the subscription last received a "
    "message from its publisher (grows while the publisher is idle).",
    c.PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL: "Errors applying changes (pg_stat_subscription_stats).",
    c.PG_SUBSCRIPTION_SYNC_ERRORS_TOTAL: "Errors in initial table sync "
    "(pg_stat_subscription_stats).",
    c.PG_SUBSCRIPTION_CONFLICTS_TOTAL: "Conflicts met while applying changes, by type "
    "(PostgreSQL >= 18).",
    c.PG_WALSENDER_LAG_SECONDS: "pg_stat_replication write/flush/replay lag; absent while idle.",
    c.PG_WALSENDER_IDLE: "1 when pg_stat_replication shows no lag because nothing is in flight "
    "(NULL lag columns), 0 otherwise.",
    c.PG_WALSENDER_DISTANCE_BYTES: "WAL bytes between the publisher's current LSN and the "
    "subscriber's replayed LSN.",
    c.PG_SLOT_ACTIVE: "1 when the replication slot is in use by a walsender.",
    c.PG_CONVERGENCE_DIVERGENT_ROWS: "Rows of the table that differ between node and peer (on "
    "one only, or different content), rows modified within the settle time left out; absent "
    "when the comparison failed.",
    c.PG_CONVERGENCE_SUCCESS: "1 when the comparison of the table on node and peer ran to the "
    "end, 0 when it failed (the probe's reason says why).",
    c.PG_CONVERGENCE_DURATION_SECONDS: "Seconds the comparison of the table on node and peer "
    "took (the slower node's queries, summed over the steps).",
    c.PG_CONVERGENCE_SETTLED_ROWS: "Rows of the table on the node older than the settle time: "
    "the rows compared.",
    c.PG_CONVERGENCE_UNSETTLED_ROWS: "Rows of the table on the node modified within the settle "
    "time: left out of the comparison.",
    c.MONGO_MEMBER_HEALTH: "1 when the replica-set member is healthy (replSetGetStatus).",
    c.MONGO_MEMBER_STATE: "1 for the member's current replica-set state.",
    c.MONGO_PRIMARY_PRESENT: "1 when the replica set has a primary.",
    c.MONGO_MEMBER_LAG_SECONDS: "Signed seconds the member's optime is behind the primary's "
    "(negative: ahead, not lagging).",
    c.ETCD_MEMBER_HEALTHY: "1 when the etcd member's /health reports healthy.",
    c.ETCD_MEMBER_HAS_LEADER: "1 when the etcd member knows a leader.",
    c.ETCD_MEMBER_IS_LEADER: "1 when the etcd member is the leader.",
    c.ETCD_LEADER_CHANGES_TOTAL: "Leader changes seen by the etcd member.",
    c.ETCD_PROPOSALS_FAILED_TOTAL: "Failed raft proposals on the etcd member.",
    c.ETCD_WAL_FSYNC_P99_SECONDS: "99th percentile of the member's WAL fsync duration.",
    c.ETCD_QUORUM_OK: "1 when enough etcd members are healthy for quorum.",
    c.KUBE_LIVEZ_UP: "1 when the apiserver's /livez answers ok.",
    c.KUBE_READYZ_UP: "1 when the apiserver's /readyz answers ok.",
    c.KUBE_READYZ_CHECK_UP: "1 when the named /readyz?verbose check passes.",
    c.KUBE_LEASE_AGE_SECONDS: "Seconds since the leader Lease was last renewed.",
    c.KUBE_LEASE_DURATION_SECONDS: "The leader Lease's leaseDurationSeconds.",
    c.KUBE_LEASE_FRESH: "1 when the Lease was renewed within its duration.",
    c.CONTROLPLANE_MEMBERS_CONFIGURED: "Control-plane members configured, by component.",
    c.CONTROLPLANE_MEMBERS_HEALTHY: "Control-plane members healthy, by component "
    "(<= 1 healthy, or below quorum for etcd: a single point of failure).",
    # the load generator's own /metrics (loadtests/metrics.py)
    c.LOADTEST_REQUESTS_TOTAL: "Requests the load generator made, by operation and result "
    "(success | failure).",
    c.LOADTEST_LATENCY_SECONDS: "Response time of successful requests, measured from the "
    "intended start (the open-model slot): a late start is charged to the request.",
    c.LOADTEST_LATE_STARTS_TOTAL: "Requests that started more than 5 ms after their intended "
    "time (the generator could not keep up with the schedule).",
    c.LOADTEST_TARGET_RATE: "Intended arrivals per second of the traffic shape at this moment "
    "(0 outside the run).",
    c.LOADTEST_USERS: "Locust users running now, over all workers.",
    c.LOADTEST_GENERATOR_CPU_RATIO: "CPU of the busiest load-generator process as a share of "
    "one core (0..1); near 1 the generator, not the target, limits the run.",
}


def help_for(name: str) -> str:
    return HELP.get(name, f"edgesla probe measurement {name}.")
