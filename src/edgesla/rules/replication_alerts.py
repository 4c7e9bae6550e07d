"""Step 5: PostgreSQL logical-replication alerts that come before the lag SLO burns.

(The lag SLO's own burn-rate alerts and ``EdgeslaPgReplicationLagHigh`` are per SLO, in
``burn_alerts``: they need its threshold.)
"""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla.rules.model import Alert, Group

__all__ = [
    "ALERT_APPLY_ERRORS",
    "ALERT_ROWS_DIVERGED",
    "ALERT_ROWS_UNCHECKED",
    "ALERT_WORKER_DOWN",
    "replication_group",
]

ALERT_WORKER_DOWN = "EdgeslaPgSubscriptionWorkerDown"
ALERT_APPLY_ERRORS = "EdgeslaPgSubscriptionApplyErrors"
ALERT_ROWS_DIVERGED = "EdgeslaPgRowsDiverged"
ALERT_ROWS_UNCHECKED = "EdgeslaPgConvergenceUnchecked"
_WORKER_FOR = "1m"
_DIVERGED_FOR = "15m"
_UNCHECKED_FOR = "30m"
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
        (worker_down, apply_errors, *_convergence_alerts()),
        "PostgreSQL logical replication: failures that precede lag",
    )


def _convergence_alerts() -> tuple[Alert, Alert]:
    """The postgres_convergence prober: rows the masters disagree on, and a comparison that
    keeps failing (then the divergent count is missing, never 0)."""
    diverged = Alert(
        ALERT_ROWS_DIVERGED,
        f"{conv.PG_CONVERGENCE_DIVERGENT_ROWS} > 0",
        {conv.LABEL_SEVERITY: "ticket"},
        {
            "summary": "{{ $labels.pop }}: {{ $value }} rows of {{ $labels.table }} differ "
            "between {{ $labels.node }} and {{ $labels.peer }}",
            "description": "PoP {{ $labels.pop }} ({{ $labels.region }}): {{ $value }} rows of "
            "{{ $labels.table }} older than the settle time differ between {{ $labels.node }} "
            "and {{ $labels.peer }} (on one only, or different content): last-write-wins did "
            "not converge, and clients read different data depending on the master.",
            "runbook": "`edgesla probe --config pop.yaml --target {{ $labels.target }}` names "
            "a few keys. Compare them on both masters (modified_at, modified_by); find how the "
            "write bypassed replication (disabled subscription, ALTER SUBSCRIPTION ... SKIP, "
            "a disabled LWW trigger, session_replication_role); re-apply the newest version "
            "of each row on the master that lacks it.",
        },
        for_=_DIVERGED_FOR,
        comment=f"for: {_DIVERGED_FOR}: rows still in flight are left out by the settle time "
        "already; a divergence seen by every run for 15 minutes (3 runs at a 5-minute "
        "interval) does not heal by itself",
        signal=conv.PG_CONVERGENCE_DIVERGENT_ROWS,
    )
    unchecked = Alert(
        ALERT_ROWS_UNCHECKED,
        f"{conv.PG_CONVERGENCE_SUCCESS} == 0",
        {conv.LABEL_SEVERITY: "ticket"},
        {
            "summary": "{{ $labels.pop }}: convergence of {{ $labels.table }} on "
            "{{ $labels.node }}/{{ $labels.peer }} is not checked",
            "description": "PoP {{ $labels.pop }} ({{ $labels.region }}): the comparison of "
            "{{ $labels.table }} between {{ $labels.node }} and {{ $labels.peer }} keeps "
            "failing: whether the masters hold the same rows is unknown.",
            "runbook": "`edgesla probe --config pop.yaml --target {{ $labels.target }}` says "
            "why (unreachable node, authentication, permission denied on the table, timeout: "
            "raise the target's timeout for big tables).",
        },
        for_=_UNCHECKED_FOR,
        comment=f"for: {_UNCHECKED_FOR}: several runs at the usual 5-minute interval; unknown "
        "is not converged, but not urgent either",
        signal=conv.PG_CONVERGENCE_SUCCESS,
    )
    return diverged, unchecked
