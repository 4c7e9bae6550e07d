"""Starting and checking the service from outside: the local stack's orchestrator uses these.

``build_argv`` gives the command line that runs it as a subprocess, ``check`` asks its
``/healthz`` whether it really answers (MongoDB and every PostgreSQL node included).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import requests

from edgesla.hostport import parse_host_port
from edgesla.selfcare.settings import DEFAULT_TIMEOUT_SECONDS

__all__ = ["build_argv", "check"]


def build_argv(
    listen: str,
    mongo_uri: str,
    pg_dsns: Sequence[str],
    *,
    workers: int = 1,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> list[str]:
    """The command line that starts the service with this interpreter."""
    parse_host_port(listen)
    if not pg_dsns:
        raise ValueError("at least one PostgreSQL DSN is needed")
    argv = [sys.executable, "-m", "edgesla.selfcare", "--listen", listen, "--mongo-uri", mongo_uri]
    for dsn in pg_dsns:
        argv += ["--pg-dsn", dsn]
    return [*argv, "--workers", str(workers), "--timeout", str(timeout_seconds)]


def check(url: str, timeout: float = 2.0) -> tuple[bool, str]:
    """GET ``{url}/healthz`` (``url`` is the service's base URL): (ok, detail)."""
    target = url.rstrip("/")
    target = target if target.endswith("/healthz") else f"{target}/healthz"
    try:
        response = requests.get(target, timeout=timeout)
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    try:
        body = response.json()
        backends = body["backends"]
    except (ValueError, KeyError, TypeError):
        return False, f"HTTP {response.status_code}, not a self-care /healthz answer"
    down = [f"{b['name']} ({b['detail']})" for b in backends if not b.get("ok")]
    if response.status_code == 200 and not down:
        return True, f"answers; {len(backends)} backends up"
    return False, f"HTTP {response.status_code}; down: {', '.join(down) or '?'}"
