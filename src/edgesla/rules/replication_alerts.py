"""Step 5: PostgreSQL logical-replication alerts that come before the lag SLO burns.

(The lag SLO's own burn-rate alerts and ``EdgeslaPgReplicationLagHigh`` are per SLO, in
``burn_alerts``: they need its threshold.)
"""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla.rules.model import Alert, Group

__all__ = ["ALERT_APPLY_ERRORS", "ALERT_WORKER_DOWN", "replication_group"]

ALERT_WORKER_DOWN = "EdgeslaPgSubscriptionWorkerDown"
ALERT_APPLY_ERRORS = "EdgeslaPgSubscriptionApplyErrors"
_WORKER_FOR = "1m"
_APPLY_ERRORS = f"increase({conv.PG_SUBSCRIPTION_APPLY_ERRORS_TOTAL}[5m])"


def replication_group() -> Group:
    worker_down = Alert(
        ALERT_WORKER_DOWN,
        f"{conv.PG_SUBSCRIPTION_WORKER_UP} == 0",
        {conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: subscription {{ $labels.subscription }} on "
            "{{ $labels.node }} has no apply worker",
            "description": "PoP {{ $labels.pop }} ({{ $labels.region }}): the apply worker of "
            "subscription {{ $labels.subscription }} on {{ $labels.node }} is not running: "
            "changes from its publisher are not applied and replication lag grows.",
            "runbook": "On {{ $labels.node }}: SELECT * FROM pg_stat_subscription; check the "
            "PostgreSQL log for the worker's last error; ALTER SUBSCRIPTION ... ENABLE if it "
            "was disabled (disable_on_error).",
        },
        for_=_WORKER_FOR,
        comment=f"for: {_WORKER_FOR}: PostgreSQL restarts a failed apply worker after "
        "wal_retrieve_retry_interval (5 s); one still down after a minute will not come back",
        signal=conv.PG_SUBSCRIPTION_WORKER_UP,
    )
    apply_errors = Alert(
        ALERT_APPLY_ERRORS,
        f"{_APPLY_ERRORS} > 0",
        {conv.LABEL_SEVERITY: "ticket"},
        {
            "summary": "{{ $labels.pop }}: subscription {{ $labels.subscription }} on "
            "{{ $labels.node }} fails to apply changes",
            "description": "PoP {{ $labels.pop }} ({{ $labels.region }}): {{ $value }} apply "
            "errors in 5 min on {{ $labels.node }} ({{ $labels.subscription }}); each error "
            "restarts the worker, and a conflict that repeats stops replication.",
            "runbook": "Read the error in {{ $labels.node }}'s PostgreSQL log (unique "
            "violation, missing row...): resolve the conflicting row, or skip the transaction "
            "with ALTER SUBSCRIPTION ... SKIP (lsn) once understood.",
        },
        comment="no for: the 5-minute increase already spans several probe runs",
        signal=_APPLY_ERRORS,
    )
    return Group(
        "edgesla-replication",
        (worker_down, apply_errors),
        "PostgreSQL logical replication: failures that precede lag",
    )
