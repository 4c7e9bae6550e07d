"""MongoDB plumbing shared by the MongoDB probers: one cached client per target, and one
mapping from pymongo's exceptions to the closed set of probe reasons.

Connections
    One ``pymongo.MongoClient`` per target and settings: a MongoClient is itself a small
    connection pool, and a new client per probe run is the connection leak of
    percona/mongodb_exporter #470/#1305. A change of settings (e.g. a rotated password)
    makes a new client; a different timeout does not (an on-demand ``/probe`` brings its
    own each time); ``close_all()`` closes them (exporter shutdown, test teardown).

Deadlines
    Each probe runs its operations under ``pymongo.timeout(timeout)`` (client-side operation
    timeout, CSOT): server selection, checking a connection out, connecting and every socket
    read share that one deadline, and a connection whose read timed out is closed by pymongo,
    never reused. The client's own ``timeoutMS``, ``serverSelectionTimeoutMS``,
    ``connectTimeoutMS`` and ``socketTimeoutMS`` (the timeout of the run that made it, at
    least ``CLIENT_TIMEOUT_FLOOR``) bound anything outside such a block, and the monitoring
    connections pymongo keeps in the background.

Errors become reasons (``reason_for``): connection refused or no server → ``refused``; any
timeout → ``timeout``; codes 18 (AuthenticationFailed) and 13 (Unauthorized) → ``auth``;
TLS → ``tls``; other server errors → ``query_error``; an unusable config (bad URI,
unreadable password file or CA file) → ``config``; anything else → ``error``.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, TypeAlias

import pymongo
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from edgesla._errors import ConfigError
from edgesla.config import MongoQueryTarget, MongoReplicationTarget
from edgesla.probes._result import ProbeResult, Reason
from edgesla.secrets import read_password, require_readable

__all__ = [
    "Client",
    "MongoTarget",
    "client_for",
    "client_or_failure",
    "close_all",
    "failure",
    "first_line",
    "reason_for",
]

#: Connections per client (per target). Probes run one operation at a time per target.
MAX_POOL_SIZE = 4
#: The client-level timeouts are never below this (a short on-demand run must not leave a
#: client whose background monitoring gives up on a merely busy server).
CLIENT_TIMEOUT_FLOOR = 1.0
#: Server error codes that mean "who you are" or "what you may do" was rejected.
_AUTH_CODES = frozenset({18, 13})  # AuthenticationFailed, Unauthorized
#: Server error codes that mean the server gave up on time.
_TIMEOUT_CODES = frozenset({50, 262})  # MaxTimeMSExpired, ExceededTimeLimit
_TLS_MARKERS = ("ssl", "tls", "certificate")
#: Server selection wraps the handshake's auth failure in its own message.
_AUTH_MARKERS = ("authentication failed", "authenticationfailed", "'code': 18,")
_REFUSED_MARKERS = ("refused", "no route", "unreachable", "name or service", "nodename")
#: What a server selection error says when the server was there to refuse or drop us.
_GONE_MARKERS = (*_REFUSED_MARKERS, "closed", "reset", "eof")

MongoTarget: TypeAlias = MongoQueryTarget | MongoReplicationTarget
Client: TypeAlias = pymongo.MongoClient[dict[str, Any]]


# --- the client cache ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Settings:
    """Everything a client is built from; a change (e.g. a rotated password) = a new client."""

    uri: str
    username: str | None
    password: str | None
    tls: bool
    tls_ca_file: str | None


_lock = threading.Lock()
_clients: dict[str, tuple[_Settings, Client]] = {}


def _settings(target: MongoTarget) -> _Settings:
    where = f"target {target.name!r}"
    password = read_password(target.password_file, target.password_env, where)
    require_readable(target.tls_ca_file, "tls_ca_file", where)
    return _Settings(
        uri=target.uri,
        username=target.username,
        password=password,
        tls=target.tls,
        tls_ca_file=str(target.tls_ca_file) if target.tls_ca_file else None,
    )


def _new_client(s: _Settings, timeout: float) -> Client:
    timeout_ms = round(max(timeout, CLIENT_TIMEOUT_FLOOR) * 1000)
    options: dict[str, Any] = {
        "maxPoolSize": MAX_POOL_SIZE,
        "timeoutMS": timeout_ms,
        "serverSelectionTimeoutMS": timeout_ms,
        "connectTimeoutMS": timeout_ms,
        "socketTimeoutMS": timeout_ms,
        "appname": "edgesla-probe",
    }
    if s.username is not None:
        options |= {"username": s.username, "password": s.password}
    if s.tls:
        options["tls"] = True
        if s.tls_ca_file is not None:
            options["tlsCAFile"] = s.tls_ca_file
    return pymongo.MongoClient(s.uri, **options)


#: how long ``close_all`` waits for the clients' closes (see ``close_in_background``)
CLOSE_WAIT_SECONDS = 1.0


def client_for(target: MongoTarget, timeout: float) -> Client:
    """The cached client of ``target`` (made on first use, remade when its settings change).

    Raises ConfigError (password source) and whatever MongoClient raises for a bad URI or
    CA file; ``probe`` turns those into results.
    """
    wanted = _settings(target)
    with _lock:
        cached = _clients.get(target.name)
        if cached is not None and cached[0] == wanted:
            return cached[1]
        client = _new_client(wanted, timeout)
        _clients[target.name] = (wanted, client)
    if cached is not None:
        close_in_background([cached[1]], wait=0.0)  # a probe never waits for it
    return client


def close_all(wait: float = CLOSE_WAIT_SECONDS) -> None:
    """Close every cached client (exporter shutdown, test teardown), waiting at most ``wait``."""
    with _lock:
        clients = [client for _, client in _clients.values()]
        _clients.clear()
    close_in_background(clients, wait)


def close_in_background(clients: list[Client], wait: float) -> None:
    """``close()`` each client on a daemon thread; wait at most ``wait`` seconds for them all.

    ``MongoClient.close()`` first ends the client's server sessions, and selects a server to
    send them to: with the server gone or stopping, that blocks for the whole server-selection
    timeout (an exporter's SIGTERM took 20 s while the stack's MongoDB stopped beside it).
    """
    threads = [threading.Thread(target=c.close, name="mongo-close", daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + wait
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


# --- errors -------------------------------------------------------------------------------


def first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def reason_for(exc: BaseException) -> Reason:
    """The closed-set reason for an exception raised while talking to MongoDB."""
    text = str(exc).lower()
    if isinstance(exc, ConfigError | ConfigurationError):
        return Reason.CONFIG
    if isinstance(exc, OperationFailure):
        if exc.code in _AUTH_CODES:
            return Reason.AUTH
        if exc.code in _TIMEOUT_CODES or exc.timeout:
            return Reason.TIMEOUT
        return Reason.QUERY_ERROR
    if isinstance(exc, ConnectionFailure) and any(m in text for m in _AUTH_MARKERS):
        return Reason.AUTH
    if isinstance(exc, ssl.SSLError) or (
        isinstance(exc, ConnectionFailure) and any(m in text for m in _TLS_MARKERS)
    ):
        return Reason.TLS
    if isinstance(exc, OSError):  # raw, i.e. not wrapped by pymongo: mostly files we read
        if isinstance(exc, TimeoutError):
            return Reason.TIMEOUT
        return Reason.REFUSED if isinstance(exc, ConnectionError) else Reason.CONFIG
    if isinstance(exc, ServerSelectionTimeoutError):
        # Server selection always "times out"; what the servers said on the way is the cause:
        # a refusal, a closed connection, or nothing at all (a server that accepts and never
        # answers its hello: "No servers found yet") — that last one is a timeout.
        if "timed out" not in text and any(m in text for m in _GONE_MARKERS):
            return Reason.REFUSED
        return Reason.TIMEOUT
    if isinstance(exc, PyMongoError) and exc.timeout:
        return Reason.TIMEOUT
    if isinstance(exc, ConnectionFailure):
        return Reason.REFUSED if any(m in text for m in _REFUSED_MARKERS) else Reason.ERROR
    return Reason.ERROR


def failure(exc: BaseException, latency: float | None = None) -> ProbeResult:
    """A failed result for ``exc``: its reason and the first line of its message."""
    detail = f"{type(exc).__name__}: {first_line(exc)}"
    return ProbeResult.fail(reason_for(exc), detail, latency)


def client_or_failure(target: MongoTarget, timeout: float) -> Client | ProbeResult:
    """The target's client, or a ``config`` failure: making a client never connects, so
    anything it raises (bad URI, unreadable password or CA file) is the config's fault."""
    try:
        return client_for(target, timeout)
    except ConfigError as exc:  # names the target, the key and the file already
        return ProbeResult.fail(Reason.CONFIG, str(exc))
    except Exception as exc:  # a probe returns every failure as a result, never raises
        return ProbeResult.fail(Reason.CONFIG, f"{type(exc).__name__}: {first_line(exc)}")
