"""The customer-self-care demo service (edgesla.selfcare) as a component of the local stack:
a real ASGI server (uvicorn) reading subscriber documents from MongoDB and writing to both
PostgreSQL masters — the target of the load test's HTTP calls."""

from __future__ import annotations

import requests

from edgesla import selfcare as service
from edgesla.stack import mongo, postgres
from edgesla.stack.layout import HOST, PG_NODES, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = ["answers", "check", "start", "url"]


def url(layout: Layout) -> str:
    return f"http://{HOST}:{layout.selfcare_port}"


def start(layout: Layout) -> ProcessRecord:
    argv = service.build_argv(
        f"{HOST}:{layout.selfcare_port}",
        mongo.uri(layout),
        [postgres.dsn(layout, node) for node in PG_NODES],
    )
    return spawn(argv, layout.log_dir / "selfcare.log")


def check(layout: Layout) -> tuple[bool, str]:
    """GET /healthz: the service answers and reaches MongoDB and every master."""
    return service.check(url(layout))


def answers(layout: Layout) -> tuple[bool, str]:
    """The service answers ``/healthz`` at all (a backend may be down)."""
    try:
        status = requests.get(f"{url(layout)}/healthz", timeout=2).status_code
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    return True, f"answers (HTTP {status})"
