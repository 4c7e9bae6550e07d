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

#: Latency histogram bucket bounds, seconds. The SLO thresholds (10 ms, 200 ms) are bounds,
#: so the share of requests over a threshold is an exact count, never an interpolation.
LATENCY_BUCKETS_SECONDS: Final = (
    0.001, 0.0025, 0.005, 0.010, 0.025, 0.050, 0.100, 0.200, 0.500, 1.0, 2.5,
)  # fmt: skip

# --- label keys present on every exporter series ---
LABEL_POP: Final = "pop"
LABEL_REGION: Final = "region"
LABEL_TARGET: Final = "target"
LABEL_PROBER: Final = "prober"
COMMON_LABELS: Final = (LABEL_POP, LABEL_REGION, LABEL_TARGET, LABEL_PROBER)

# --- metric names (prefix edgesla_) ---
METRIC_PREFIX: Final = "edgesla"
PROBE_UP: Final = "edgesla_probe_up"
PROBE_RESULTS_TOTAL: Final = "edgesla_probe_results_total"
PROBE_LATENCY_SECONDS: Final = "edgesla_probe_latency_seconds"
PROBE_LAST_SUCCESS_TIMESTAMP: Final = "edgesla_probe_last_success_timestamp_seconds"

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
