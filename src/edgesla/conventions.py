"""Names and numbers shared by the exporter, the rules, the dashboards and the SLA report.

One place for metric names, label keys and SLA thresholds: everything else imports them
instead of retyping strings. Units are base units (seconds, bytes), as Prometheus expects.
"""

from __future__ import annotations

from typing import Final

# --- SLA targets (seed document: five nines; CSS lookups < 200 ms; edge NoSQL < 10 ms) ---
AVAILABILITY_OBJECTIVE: Final = 0.99999
WINDOW_SECONDS_30D: Final = 30 * 24 * 3600
#: 25.92 s: the downtime five nines allow in 30 days.
DOWNTIME_BUDGET_30D_SECONDS: Final = (1 - AVAILABILITY_OBJECTIVE) * WINDOW_SECONDS_30D
CUSTOMER_CARE_LATENCY_SECONDS: Final = 0.200
EDGE_QUERY_LATENCY_SECONDS: Final = 0.010
CONFIDENCE_LEVEL: Final = 0.95
#: Replication lag objective's default threshold (the SLO spec's ``threshold`` default). A
#: postgres_replication target's heartbeat_interval may be at most half of it (config.py).
REPLICATION_LAG_THRESHOLD_SECONDS: Final = 1.0

#: Latency histogram bucket bounds, seconds. The SLO thresholds (10 ms, 200 ms) are bounds,
#: so the share of requests over a threshold is an exact count, never an interpolation.
LATENCY_BUCKETS_SECONDS: Final = (
    0.001, 0.0025, 0.005, 0.010, 0.025, 0.050, 0.100, 0.200, 0.500, 1.0, 2.5,
)  # fmt: skip

#: Probers of the control plane: probed every second by default (config.py), counted by the
#: controlplane_ready SLI, and judged against the resolution their budget needs (report).
CONTROL_PLANE_PROBERS: Final = ("etcd", "kube_apiserver")

# --- label keys present on every exporter series ---
LABEL_POP: Final = "pop"
LABEL_REGION: Final = "region"
LABEL_TARGET: Final = "target"
LABEL_PROBER: Final = "prober"
COMMON_LABELS: Final = (LABEL_POP, LABEL_REGION, LABEL_TARGET, LABEL_PROBER)

# --- metric names (prefix edgesla_), base units only ---
METRIC_PREFIX: Final = "edgesla"

# Owned by the framework (exporter), present for every target:
#: 1 when the last probe of the target succeeded, 0 otherwise; never vanishes.
PROBE_UP: Final = "edgesla_probe_up"
#: Counter of probe runs by result ("success" | "failure"): availability is an exact ratio.
PROBE_RESULTS_TOTAL: Final = "edgesla_probe_results_total"
#: Counter of failed runs by reason (closed set: edgesla.probes._result.Reason).
PROBE_FAILURES_TOTAL: Final = "edgesla_probe_failures_total"
#: 1 for the reason of the current failure, 0 for every other reason (all while up).
PROBE_FAILURE_REASON: Final = "edgesla_probe_failure_reason"
#: Histogram of the measured operation's latency, buckets at LATENCY_BUCKETS_SECONDS.
PROBE_LATENCY_SECONDS: Final = "edgesla_probe_latency_seconds"
PROBE_LAST_SUCCESS_TIMESTAMP: Final = "edgesla_probe_last_success_timestamp_seconds"
PROBE_LAST_RUN_TIMESTAMP: Final = "edgesla_probe_last_run_timestamp_seconds"
#: The target's probe interval as configured (its own, else its kind's default): the
#: resolution its counters are collected at.
PROBE_INTERVAL_SECONDS: Final = "edgesla_probe_interval_seconds"
#: Self-metrics of the exporter.
PROBE_RUN_DURATION_SECONDS: Final = "edgesla_probe_run_duration_seconds"
PROBE_OVERRUNS_TOTAL: Final = "edgesla_probe_overruns_total"
EXPORTER_SCRAPES_TOTAL: Final = "edgesla_exporter_scrapes_total"
#: Runs recorded as a timeout by the exporter at their deadline (timeout + grace) because the
#: prober had not returned (each is also a failure with reason timeout).
PROBE_DEADLINE_EXCEEDED_TOTAL: Final = "edgesla_probe_deadline_exceeded_total"
#: Runs cut off at their deadline whose prober thread has not returned yet (labels pop, region).
EXPORTER_ABANDONED_RUNS: Final = "edgesla_exporter_abandoned_runs"
#: The bound on those; beyond it an expired run keeps its place and fewer runs run at once.
EXPORTER_ABANDONED_RUNS_LIMIT: Final = "edgesla_exporter_abandoned_runs_limit"
EXPORTER_ABANDONED_LIMIT_REACHED_TOTAL: Final = "edgesla_exporter_abandoned_limit_reached_total"
#: Probe runs live now (at most max_concurrency), and the bound itself.
EXPORTER_RUNS_IN_FLIGHT: Final = "edgesla_exporter_runs_in_flight"
EXPORTER_MAX_CONCURRENCY: Final = "edgesla_exporter_max_concurrency"
#: /probe requests answered 503 because no run place freed within half their budget.
EXPORTER_PROBE_REJECTED_TOTAL: Final = "edgesla_exporter_probe_requests_rejected_total"
#: Requests that needed basic auth, by result: cached | verified | denied | busy (429).
EXPORTER_AUTH_REQUESTS_TOTAL: Final = "edgesla_exporter_auth_requests_total"
#: bcrypt verifications run (the dummy-hash ones for unknown users included).
EXPORTER_AUTH_BCRYPT_CHECKS_TOTAL: Final = "edgesla_exporter_auth_bcrypt_checks_total"
#: 1, with the exporter's version and Python's in labels (as node_exporter's build_info).
EXPORTER_BUILD_INFO: Final = "edgesla_exporter_build_info"
#: How the last PoP-config reload went (SIGHUP, POST /-/reload), as Prometheus names it.
EXPORTER_CONFIG_LAST_RELOAD_SUCCESSFUL: Final = "edgesla_exporter_config_last_reload_successful"
EXPORTER_CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP: Final = (
    "edgesla_exporter_config_last_reload_success_timestamp_seconds"
)
#: 1 for the reason the last reload was refused: config | sources | identity.
EXPORTER_CONFIG_LAST_RELOAD_FAILURE_REASON: Final = (
    "edgesla_exporter_config_last_reload_failure_reason"
)
#: How the last re-read of the web config (--web.config.file) went: 1 ok, 0 refused.
EXPORTER_WEB_CONFIG_LAST_RELOAD_SUCCESSFUL: Final = (
    "edgesla_exporter_web_config_last_reload_successful"
)
LABEL_RESULT: Final = "result"
LABEL_REASON: Final = "reason"

# postgres_replication (labels: origin, peer, node, subscription, slot, application_name)
#: Apply delay of the latest heartbeat; while one is missing, the age of the oldest missing one.
PG_REPLICATION_LAG_SECONDS: Final = "edgesla_pg_replication_lag_seconds"
PG_HEARTBEAT_SEQ: Final = "edgesla_pg_heartbeat_seq"
#: Half-width of the lag's error bar (round trips; + the origin's clock offset error where the
#: origin's clock is read; +Inf for a lower bound). Labels origin, peer.
PG_REPLICATION_LAG_ERROR_SECONDS: Final = "edgesla_pg_replication_lag_error_seconds"
#: A node's clock minus the exporter's, from a timed clock_timestamp() round trip (label node).
PG_CLOCK_OFFSET_SECONDS: Final = "edgesla_pg_clock_offset_seconds"
PG_CLOCK_OFFSET_ERROR_SECONDS: Final = "edgesla_pg_clock_offset_error_seconds"  # ± half the RTT
#: The target's heartbeat_interval: the lag's resolution, for the report to check its threshold.
PG_HEARTBEAT_INTERVAL_SECONDS: Final = "edgesla_pg_heartbeat_interval_seconds"
PG_SUBSCRIPTION_WORKER_UP: Final = "edgesla_pg_subscription_worker_up"
PG_SUBSCRIPTION_RECEIPT_AGE_SECONDS: Final = "edgesla_pg_subscription_last_receipt_age_seconds"
PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL: Final = "edgesla_pg_subscription_apply_errors_total"
PG_SUBSCRIPTION_SYNC_ERRORS_TOTAL: Final = "edgesla_pg_subscription_sync_errors_total"
PG_SUBSCRIPTION_CONFLICTS_TOTAL: Final = "edgesla_pg_subscription_conflicts_total"  # + type
PG_WALSENDER_LAG_SECONDS: Final = "edgesla_pg_walsender_lag_seconds"  # + kind=write|flush|replay
PG_WALSENDER_IDLE: Final = "edgesla_pg_walsender_idle"  # 1 when the lag columns are NULL
PG_WALSENDER_DISTANCE_BYTES: Final = "edgesla_pg_walsender_distance_bytes"
PG_SLOT_ACTIVE: Final = "edgesla_pg_replication_slot_active"

# postgres_convergence (labels: table; node, peer for a pair; node alone for one node's rows)
#: Rows that differ between node and peer (only on one, or different content), rows modified
#: within the settle time left out; absent when the comparison failed (see _success).
PG_CONVERGENCE_DIVERGENT_ROWS: Final = "edgesla_pg_convergence_divergent_rows"
#: 1 when the comparison of the table on the pair ran to the end, 0 when it failed.
PG_CONVERGENCE_SUCCESS: Final = "edgesla_pg_convergence_success"
PG_CONVERGENCE_DURATION_SECONDS: Final = "edgesla_pg_convergence_duration_seconds"
#: Rows of the table on the node that were compared (older than the settle time), and those
#: left out as too recent.
PG_CONVERGENCE_SETTLED_ROWS: Final = "edgesla_pg_convergence_settled_rows"
PG_CONVERGENCE_UNSETTLED_ROWS: Final = "edgesla_pg_convergence_unsettled_rows"

# mongodb_replication (labels: member, state)
MONGO_MEMBER_HEALTH: Final = "edgesla_mongodb_member_health"
MONGO_MEMBER_STATE: Final = "edgesla_mongodb_member_state"  # 1 for the member's state label
MONGO_PRIMARY_PRESENT: Final = "edgesla_mongodb_primary_present"
MONGO_MEMBER_LAG_SECONDS: Final = "edgesla_mongodb_member_lag_seconds"  # signed, >= 0 behind

# etcd (labels: member); names follow etcd's own where they mirror them
ETCD_MEMBER_HEALTHY: Final = "edgesla_etcd_member_healthy"
ETCD_MEMBER_HAS_LEADER: Final = "edgesla_etcd_server_has_leader"
ETCD_MEMBER_IS_LEADER: Final = "edgesla_etcd_server_is_leader"
ETCD_LEADER_CHANGES_TOTAL: Final = "edgesla_etcd_server_leader_changes_seen_total"
ETCD_PROPOSALS_FAILED_TOTAL: Final = "edgesla_etcd_server_proposals_failed_total"
ETCD_WAL_FSYNC_P99_SECONDS: Final = "edgesla_etcd_disk_wal_fsync_p99_seconds"
ETCD_QUORUM_OK: Final = "edgesla_etcd_quorum_ok"

# kube_apiserver (labels: endpoint, check, lease)
KUBE_LIVEZ_UP: Final = "edgesla_kube_apiserver_livez_up"
KUBE_READYZ_UP: Final = "edgesla_kube_apiserver_readyz_up"
KUBE_READYZ_CHECK_UP: Final = "edgesla_kube_apiserver_readyz_check_up"  # + check
KUBE_LEASE_AGE_SECONDS: Final = "edgesla_kube_lease_age_seconds"  # since renewTime; + lease
KUBE_LEASE_DURATION_SECONDS: Final = "edgesla_kube_lease_duration_seconds"
KUBE_LEASE_FRESH: Final = "edgesla_kube_lease_fresh"  # age <= leaseDuration

# control-plane redundancy (labels: component=etcd|kube-apiserver): a single point of
# failure is visible as healthy <= 1 (or healthy < quorum for etcd)
CONTROLPLANE_MEMBERS_CONFIGURED: Final = "edgesla_controlplane_members_configured"
CONTROLPLANE_MEMBERS_HEALTHY: Final = "edgesla_controlplane_members_healthy"

# --- recording rules and alerts of `edgesla rules` (Prometheus naming: level:metric:ops) ---
#: Label carrying the SLO spec's objective name on every SLO rule and alert.
LABEL_SLO: Final = "slo"
LABEL_SEVERITY: Final = "severity"
#: Windows of the multi-window multi-burn-rate alerts (SRE Workbook, chapter 5).
BURN_RATE_WINDOWS: Final = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
#: Per PoP (labels slo, pop, region): the share of bad events over the window; "{window}" is
#: one of BURN_RATE_WINDOWS, e.g. pop:edgesla_slo_errors:ratio_rate5m.
RULE_POP_ERROR_RATIO: Final = "pop:edgesla_slo_errors:ratio_rate{window}"
#: Fleet-wide (label slo): bad events of every PoP over all events of every PoP.
RULE_FLEET_ERROR_RATIO: Final = "fleet:edgesla_slo_errors:ratio_rate{window}"
#: Per PoP (labels slo, pop, region): the objective in force there (per-PoP overrides applied).
RULE_POP_OBJECTIVE: Final = "pop:edgesla_slo_objective:ratio"
#: Per PoP: bad and all events over 5 m (exact counts, summed for long windows: unlike a mean
#: of ratios, a sum of counts is not biased by uneven traffic).
RULE_POP_ERRORS_5M: Final = "pop:edgesla_slo_errors:increase5m"
RULE_POP_EVENTS_5M: Final = "pop:edgesla_slo_events:increase5m"
#: Guarded alerts only (spec ``alerting:``): all events over every burn-rate window (5m is
#: RULE_POP_EVENTS_5M), and the error ratio's lower confidence bound (Wilson, corrected).
RULE_POP_EVENTS: Final = "pop:edgesla_slo_events:increase{window}"
RULE_POP_ERROR_RATIO_LOWER: Final = "pop:edgesla_slo_errors:ratio_lower_bound{window}"
#: Per PoP: error budget left over the spec's window, 1 = untouched, <= 0 = spent.
RULE_POP_BUDGET_REMAINING: Final = "pop:edgesla_slo_error_budget_remaining:ratio"

#: Report roll-ups (group of `edgesla rules`, evaluated every 5 min): what the fleet report needs
#: from 30 days of raw samples, recorded as the data arrives, so a report reads 8,640 points a PoP
#: instead of every scrape. Verdict counts still come from the raw counters' end values.
ROLLUP_INTERVAL_SECONDS: Final = 300
ROLLUP_RESETS: Final = "pop:edgesla_probe_results_resets:sum6m"  # 6 m: overlaps, misses none
ROLLUP_MIN_SAMPLES: Final = "pop:edgesla_probe_up_samples:min5m"  # fewest scrapes of a target
ROLLUP_TARGETS: Final = "pop:edgesla_probe_up_series:count5m"  # targets scraped at all
ROLLUP_DOWN_SECONDS: Final = "pop:edgesla_probe_down_seconds:sum5m"  # any target up == 0
ROLLUP_FAILURES: Final = "pop:edgesla_probe_failures:sum"  # budget-burn chart only
ROLLUP_OUTAGES: Final = "pop:edgesla_probe_outages:count5m"  # down spans begun (5-s steps)
#: Replication lag on the 15-s step grid, per 5 minutes: steps with a value, the worst value,
#: and (label threshold) steps within each threshold of the SLO spec's lag objectives
ROLLUP_LAG_STEPS: Final = "pop:edgesla_pg_replication_lag_steps:count5m"
ROLLUP_LAG_MAX: Final = "pop:edgesla_pg_replication_lag_seconds:max5m"
ROLLUP_LAG_WITHIN: Final = "pop:edgesla_pg_replication_lag_within_steps:count5m"

# --- the load generator's own /metrics (`edgesla loadtest --metrics-listen`, Locust master) ---
# labels: pop, region, profile, operation (and result on the counter)
LOADTEST_REQUESTS_TOTAL: Final = "edgesla_loadtest_requests_total"  # + result=success|failure
#: Response time measured from the intended start (coordinated omission corrected), buckets
#: at LATENCY_BUCKETS_SECONDS.
LOADTEST_LATENCY_SECONDS: Final = "edgesla_loadtest_latency_seconds"
LOADTEST_LATE_STARTS_TOTAL: Final = "edgesla_loadtest_late_starts_total"
#: Intended arrivals per second of the traffic shape at this moment, per operation.
LOADTEST_TARGET_RATE: Final = "edgesla_loadtest_target_requests_per_second"
LOADTEST_USERS: Final = "edgesla_loadtest_users"  # no operation label
LOADTEST_GENERATOR_CPU_RATIO: Final = "edgesla_loadtest_generator_cpu_ratio"  # 0..1 per core
LABEL_OPERATION: Final = "operation"
LABEL_PROFILE: Final = "profile"
JOB_LOADTEST: Final = "edgesla-loadtest"

# --- Prometheus job names used by the local stack and the generated scrape configs ---
JOB_EXPORTER: Final = "edgesla-exporter"
JOB_ETCD: Final = "etcd"

# --- local PoP stack schema names (PostgreSQL and MongoDB) ---
PG_DATABASE: Final = "edgesla"
PG_TABLE_SUBSCRIBER: Final = "subscriber"
PG_TABLE_BILLING: Final = "billing_account"
PG_TABLE_HEARTBEAT: Final = "repl_heartbeat"
PG_REPLICATED_TABLES: Final = (PG_TABLE_SUBSCRIBER, PG_TABLE_BILLING, PG_TABLE_HEARTBEAT)
MONGO_DATABASE: Final = "edge"
MONGO_SUBSCRIBERS: Final = "subscribers"
MONGO_SUBSCRIBER_ID_FIELD: Final = "subscriber.id"
#: The access identities a BNG's Access-Request carries, as the subscriber documents hold
#: them: the PPPoE User-Name and the access node's line id (Agent-Circuit-Id, RFC 4679).
MONGO_ACCESS_USERNAME_FIELD: Final = "access.username"
MONGO_ACCESS_CIRCUIT_ID_FIELD: Final = "access.circuitId"
MONGO_ACCESS_FIELDS: Final = (MONGO_ACCESS_USERNAME_FIELD, MONGO_ACCESS_CIRCUIT_ID_FIELD)
