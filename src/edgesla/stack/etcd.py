"""A three-member etcd cluster on loopback: the control plane's store."""

from __future__ import annotations

import requests

from edgesla.stack.binaries import Binaries
from edgesla.stack.http import get_json
from edgesla.stack.layout import ETCD_MEMBERS, HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = ["answers", "check", "client_url", "start"]


def client_url(layout: Layout, member: str) -> str:
    return f"http://{HOST}:{layout.etcd_client_port(member)}"


def _peer_url(layout: Layout, member: str) -> str:
    return f"http://{HOST}:{layout.etcd_peer_port(member)}"


def start(layout: Layout, member: str, binaries: Binaries) -> ProcessRecord:
    cluster = ",".join(f"{m}={_peer_url(layout, m)}" for m in ETCD_MEMBERS)
    return spawn(
        [
            str(binaries.etcd),
            "--name",
            member,
            "--data-dir",
            str(layout.data_dir / member),
            "--listen-client-urls",
            client_url(layout, member),
            "--advertise-client-urls",
            client_url(layout, member),
            "--listen-peer-urls",
            _peer_url(layout, member),
            "--initial-advertise-peer-urls",
            _peer_url(layout, member),
            "--initial-cluster",
            cluster,
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            f"edgesla-{layout.base_port}",
            "--heartbeat-interval",
            "100",
            "--election-timeout",
            "1000",
            "--logger",
            "zap",
            "--log-outputs",
            "stderr",
        ],
        layout.log_dir / f"{member}.log",
    )


def check(layout: Layout, member: str) -> tuple[bool, str]:
    """The member's own /health says true (which needs a leader): (ok, detail)."""
    try:
        status, body = get_json(f"{client_url(layout, member)}/health")
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    healthy = status == 200 and isinstance(body, dict) and body.get("health") == "true"
    return healthy, "healthy, has leader" if healthy else f"unhealthy (HTTP {status}: {body})"


def answers(layout: Layout, member: str) -> tuple[bool, str]:
    """The member serves ``/health`` at all, true or false (without quorum it says false)."""
    try:
        status, body = get_json(f"{client_url(layout, member)}/health")
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    if not isinstance(body, dict) or "health" not in body:
        return False, f"HTTP {status}, not an etcd /health answer"
    return True, f"answers (health {body['health']})"
