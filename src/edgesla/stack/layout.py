"""Where each component of the local PoP stack lives: ports on 127.0.0.1 and paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "COMPONENT_NAMES",
    "DEFAULT_BASE_PORT",
    "DEFAULT_SUBSCRIBERS",
    "HOST",
    "REPLICATION_HOST",
    "VICTORIA_METRICS",
    "Layout",
    "component_names",
    "default_state_dir",
]

HOST = "127.0.0.1"
#: The PostgreSQL masters also listen here, and their subscriptions connect to each other
#: through this address only (127.0.0.0/8 is all loopback on Linux): a packet filter rule on
#: it cuts the replication link and nothing else — the exporter and clients use HOST.
REPLICATION_HOST = "127.0.0.2"
DEFAULT_BASE_PORT = 19400
#: Synthetic subscribers `stack up` seeds unless told otherwise.
DEFAULT_SUBSCRIBERS = 10_000
ETCD_MEMBERS = ("etcd1", "etcd2", "etcd3")
PG_NODES = ("pg-a", "pg-b")
#: Every component, in the order `stack up` starts them and `stack status` lists them.
COMPONENT_NAMES = (
    *PG_NODES, *ETCD_MEMBERS, "mongo", "alertmanager", "prometheus", "selfcare", "exporter",
)  # fmt: skip
#: Started only on request (``stack up --with-victoria-metrics``), just before Prometheus.
VICTORIA_METRICS = "victoriametrics"

KIND_POSTGRES = "postgresql"
KIND_MONGO = "mongodb"
KIND_ETCD = "etcd"
KIND_PROMETHEUS = "prometheus"
KIND_SELFCARE = "selfcare"
KIND_EXPORTER = "exporter"
KIND_ALERTMANAGER = "alertmanager"
KIND_VICTORIA_METRICS = "victoriametrics"


def component_names(*, victoria_metrics: bool = False) -> tuple[str, ...]:
    """A stack's components, in the order ``stack up`` starts them and ``status`` lists them."""
    if not victoria_metrics:
        return COMPONENT_NAMES
    at = COMPONENT_NAMES.index("prometheus")
    return (*COMPONENT_NAMES[:at], VICTORIA_METRICS, *COMPONENT_NAMES[at:])


def default_state_dir() -> Path:
    """``$EDGESLA_STATE_DIR``, else ``.edgesla`` in the current directory."""
    return Path(os.environ.get("EDGESLA_STATE_DIR", ".edgesla"))


@dataclass(frozen=True)
class Layout:
    """Ports are ``base_port + offset``; every path is inside ``state_dir``.

    offset  component          offset  component
    0       pg-a               5-7     etcd1-3 peer
    1       pg-b               8       prometheus
            (pg-a and pg-b also on REPLICATION_HOST, for the replication link only)
    2-4     etcd1-3 client     9       mongo
    10      exporter (the PoP's edgesla exporter, scraped by Prometheus)
    11      selfcare (the customer-self-care demo service, HTTP)
    12      loadtest metrics (``edgesla loadtest``'s /metrics while a run is on; not bound by
            the stack itself, so it is not in ``ports_to_bind``)
    13      alertmanager (receives the alerts of the stack's Prometheus)
    14      victoriametrics (only with ``stack up --with-victoria-metrics``: the long-term
            store the stack's Prometheus remote-writes to; without it the block ends at 13)
    """

    state_dir: Path
    base_port: int = DEFAULT_BASE_PORT

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "stack.lock"

    @property
    def pop_config(self) -> Path:
        return self.state_dir / "pop.yaml"

    def pg_port(self, node: str) -> int:
        return self.base_port + PG_NODES.index(node)

    def etcd_client_port(self, member: str) -> int:
        return self.base_port + 2 + ETCD_MEMBERS.index(member)

    def etcd_peer_port(self, member: str) -> int:
        return self.base_port + 5 + ETCD_MEMBERS.index(member)

    @property
    def prometheus_port(self) -> int:
        return self.base_port + 8

    @property
    def mongo_port(self) -> int:
        return self.base_port + 9

    @property
    def exporter_port(self) -> int:
        return self.base_port + 10

    @property
    def selfcare_port(self) -> int:
        return self.base_port + 11

    @property
    def loadtest_metrics_port(self) -> int:
        return self.base_port + 12

    @property
    def alertmanager_port(self) -> int:
        return self.base_port + 13

    @property
    def victoriametrics_port(self) -> int:
        return self.base_port + 14

    def ports_to_bind(self, *, victoria_metrics: bool = False) -> dict[int, str]:
        """Every port the stack listens on (on HOST), with the component that needs it."""
        ports = {self.pg_port(n): n for n in PG_NODES}
        for m in ETCD_MEMBERS:
            ports[self.etcd_client_port(m)] = f"{m} (client)"
            ports[self.etcd_peer_port(m)] = f"{m} (peer)"
        ports[self.prometheus_port] = "prometheus"
        ports[self.mongo_port] = "mongo"
        ports[self.selfcare_port] = "selfcare"
        ports[self.exporter_port] = "exporter"
        ports[self.alertmanager_port] = "alertmanager"
        if victoria_metrics:
            ports[self.victoriametrics_port] = VICTORIA_METRICS
        return ports
