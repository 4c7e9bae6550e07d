"""The plain map from a config's ``prober:`` key to its function.

The config loader accepts exactly these keys (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from edgesla.probes import _pg as pg_pools
from edgesla.probes import (
    etcd,
    kube_apiserver,
    mongodb_query,
    mongodb_replication,
    postgres_convergence,
    postgres_query,
    postgres_replication,
)
from edgesla.probes._duty import Duty, ProbeFn

__all__ = ["DUTIES", "PROBERS", "close_all"]

PROBERS: Final[Mapping[str, ProbeFn]] = {
    "postgres_query": postgres_query.probe,
    "postgres_replication": postgres_replication.probe,
    "postgres_convergence": postgres_convergence.probe,
    "mongodb_query": mongodb_query.probe,
    "mongodb_replication": mongodb_replication.probe,
    "etcd": etcd.probe,
    "kube_apiserver": kube_apiserver.probe,
}

#: Background duties the exporter runs beside a prober (edgesla.probes._duty).
DUTIES: Final[Mapping[str, tuple[Duty, ...]]] = {
    "postgres_replication": (
        Duty("beat", postgres_replication.beat, every=lambda t: float(t.heartbeat_interval)),
    ),
    "mongodb_query": (
        Duty(
            "id_sample",
            mongodb_query.sample,
            every=lambda _t: mongodb_query.ID_SAMPLE_CHECK_EVERY,
            budget=mongodb_query.ID_SAMPLE_TIMEOUT,
        ),
    ),
}


def close_all() -> None:
    """Close every pooled connection the probers hold (exporter shutdown)."""
    pg_pools.close_all()
    mongodb_query.close_all()
