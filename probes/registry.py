"""The plain map from a config's ``prober:`` key to its function.

The config loader accepts exactly these keys (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from probes import _pg as pg_pools
from probes import (
    etcd,
    kube_apiserver,
    mongodb_query,
    mongodb_replication,
    postgres_convergence,
    postgres_query,
    postgres_replication,
)
from probes._result import ProbeResult

__all__ = ["BEATERS", "PROBERS", "close_all"]

ProbeFn = Callable[[Any, float], ProbeResult]

PROBERS: Final[Mapping[str, ProbeFn]] = {
    "postgres_query": postgres_query.probe,
    "postgres_replication": postgres_replication.probe,
    "postgres_convergence": postgres_convergence.probe,
    "mongodb_query": mongodb_query.probe,
    "mongodb_replication": mongodb_replication.probe,
    "etcd": etcd.probe,
    "kube_apiserver": kube_apiserver.probe,
}

#: Background duties run by the exporter beside a prober, at the target's heartbeat_interval.
BEATERS: Final[Mapping[str, ProbeFn]] = {
    "postgres_replication": postgres_replication.beat,
}


def close_all() -> None:
    """Close every pooled connection the probers hold (exporter shutdown)."""
    pg_pools.close_all()
    mongodb_query.close_all()
