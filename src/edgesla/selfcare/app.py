"""The customer-self-care HTTP API: a Starlette ASGI app.

A demo target for load tests, not a product. It looks like the self-care backend of an
ISP: the portal reads a subscriber's document from MongoDB and the billing account from
PostgreSQL, and a contact change is written to one of the PostgreSQL masters, round-robin,
so every load test exercises the multi-master (last-write-wins) path.

    GET  /healthz                           200 when MongoDB and every PostgreSQL node answer
    GET  /api/v1/subscribers/{id}           the portal view of the subscriber document
    GET  /api/v1/subscribers/{id}/billing   ?node=pg-a|<host:port>|<index>, else round-robin
    PUT  /api/v1/subscribers/{id}/contact   {"email": "..."} -> the node that took the write

Errors are JSON ``{"error": ..., "detail": ...}``: 404 unknown subscriber, 422 invalid input,
409 a newer write won, 503 a backend failed or timed out (``backend`` and a short ``cause``).
No traceback ever reaches a client.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from edgesla.selfcare import store
from edgesla.selfcare.backends import Backends, BackendUnavailable
from edgesla.selfcare.settings import Settings

__all__ = ["app_from_env", "create_app"]

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
MAX_BODY_BYTES = 4096
MAX_EMAIL_CHARS = 254


def _error(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status)


def _unknown(subscriber_id: str) -> JSONResponse:
    return _error(404, "not_found", f"no subscriber with id {subscriber_id!r}")


def _backends(request: Request) -> Backends:
    backends: Backends = request.state.backends
    return backends


def _subscriber_id(request: Request) -> str | None:
    value = str(request.path_params["subscriber_id"])
    return value if _ID.fullmatch(value) else None


async def healthz(request: Request) -> Response:
    states = await _backends(request).health()
    ok = all(s.ok for s in states)
    body = {"status": "ok" if ok else "unavailable", "backends": [s.as_json() for s in states]}
    return JSONResponse(body, status_code=200 if ok else 503)


async def get_subscriber(request: Request) -> Response:
    subscriber_id = _subscriber_id(request)
    if subscriber_id is None:
        return _unknown(str(request.path_params["subscriber_id"]))
    view = await store.subscriber(_backends(request), subscriber_id)
    return _unknown(subscriber_id) if view is None else JSONResponse(view)


async def get_billing(request: Request) -> Response:
    backends = _backends(request)
    subscriber_id = _subscriber_id(request)
    if subscriber_id is None:
        return _unknown(str(request.path_params["subscriber_id"]))
    node = None
    if (key := request.query_params.get("node")) is not None:
        node = backends.find_node(key)
        if node is None:
            known = [n.label for n in backends.nodes]
            return _error(422, "invalid_input", f"unknown node {key!r}; known: {known}")
    account = await store.billing(backends, subscriber_id, node)
    return _unknown(subscriber_id) if account is None else JSONResponse(account)


def _parse_email(raw: bytes) -> str:
    """The e-mail of a ``{"email": "..."}`` body; ValueError says what is wrong."""
    if len(raw) > MAX_BODY_BYTES:
        raise ValueError(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError("body is not valid JSON") from exc
    if not isinstance(body, dict) or set(body) != {"email"}:
        raise ValueError('body must be a JSON object with exactly one key, "email"')
    email = body["email"]
    if not isinstance(email, str) or len(email) > MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise ValueError(f"email must be an address like name@example.net, got {email!r}")
    return email


async def put_contact(request: Request) -> Response:
    subscriber_id = _subscriber_id(request)
    if subscriber_id is None:
        return _unknown(str(request.path_params["subscriber_id"]))
    try:
        email = _parse_email(await request.body())
    except ValueError as exc:
        return _error(422, "invalid_input", str(exc))
    result = await store.update_email(_backends(request), subscriber_id, email)
    if not result.found:
        return _unknown(subscriber_id)
    if not result.applied:
        return _error(
            409,
            "conflict",
            "a newer write to this subscriber won (last-write-wins)",
            node=result.node,
        )
    return JSONResponse(
        {
            "subscriberId": subscriber_id,
            "email": email,
            "node": result.node,
            "modifiedAt": result.modified_at,
            "modifiedBy": result.modified_by,
        }
    )


async def _backend_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BackendUnavailable)
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _error(
        503,
        "backend_unavailable",
        f"{exc.backend} did not answer",
        backend=exc.backend,
        cause=exc.cause,
    )


async def _internal_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises after this answer, so the server log still gets the traceback.
    return _error(500, "internal_error", type(exc).__name__)


def create_app(settings: Settings) -> Starlette:
    """The ASGI app; its backends are opened at startup and closed at shutdown (lifespan)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        backends = await Backends.open(settings)
        try:
            yield {"backends": backends}
        finally:
            await backends.close()

    prefix = "/api/v1/subscribers/{subscriber_id}"
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route(prefix, get_subscriber, methods=["GET"]),
            Route(f"{prefix}/billing", get_billing, methods=["GET"]),
            Route(f"{prefix}/contact", put_contact, methods=["PUT"]),
        ],
        exception_handlers={BackendUnavailable: _backend_unavailable, Exception: _internal_error},
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """uvicorn factory (``--factory``): settings from ``$EDGESLA_SELFCARE_SETTINGS``."""
    return create_app(Settings.from_env())
