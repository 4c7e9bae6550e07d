"""Connections for the PostgreSQL probers: one small pool per node, one error mapping.

Every PostgreSQL prober goes through two functions here:

    run(node, timeout, work)   run ``work(conn)`` on a connection to ``node``
    reason_for(exc)            the probe ``Reason`` for whatever ``run`` raised

**Pools.** Each node (DSN, TLS settings) gets a ``psycopg_pool.ConnectionPool`` of at most
two connections (a replication target's heartbeat writer and its prober may overlap), created
on first use and kept in a module-level dict guarded by a lock; ``close_all()`` closes them at
shutdown. Pools are per node, not per timeout (an on-demand ``/probe`` brings a different
timeout each time): a pooled connection gets the probe's ``statement_timeout`` on checkout. A probe
must never pile up connections on a slow database (postgres_exporter #388, #1228), so the
pools are the only long-lived state.

**Why a pool miss connects directly.** A pool connects in a background worker and only logs
the failure; the waiting client sees ``PoolTimeout`` after its whole timeout, and the cause
(refused? wrong role? bad certificate?) is lost. A probe's job is to name that cause. So a
probe takes a *ready* connection from the pool when there is one, and otherwise opens one
itself, in its own thread, with the same conninfo: a refused port is reported as ``refused``
at once, not as ``timeout`` seconds later. The pool refills itself in the background. A
pooled connection found broken (the server restarted since) is dropped and the work is
retried once on a fresh direct connection.

**Conninfo.** ``node.dsn`` plus the password read from ``password_file`` / ``password_env``
(never from the DSN, never logged), ``sslmode`` and ``sslrootcert`` (``verify-full`` checks the
server certificate and its host name), ``connect_timeout`` and
``options=-c statement_timeout=...`` equal to the probe timeout, so the server itself cancels
a statement that runs too long. libpq rounds ``connect_timeout`` up to whole seconds, at
least 2: a host that drops packets can hold a probe for 2 s even when its timeout is 0.5 s.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from edgesla._errors import ConfigError
from edgesla.config import PostgresNode
from edgesla.secrets import read_password
from probes._result import Reason

__all__ = ["close_all", "conninfo", "describe", "reason_for", "run"]

T = TypeVar("T")
Conn = psycopg.Connection[TupleRow]

_POOL_MAX_SIZE = 2
#: A pool whose connections are all failing gives up after this long, then is replaced.
_RECONNECT_TIMEOUT = 60.0


@dataclass
class _Entry:
    pool: ConnectionPool[Conn]
    password: str | None
    gave_up: bool = False


_POOLS: dict[tuple[str, str, str], _Entry] = {}
_LOCK = threading.Lock()


def conninfo(node: PostgresNode, timeout: float, password: str | None) -> str:
    """The libpq connection string for ``node``; ConfigError when its DSN cannot be parsed."""
    try:
        params = conninfo_to_dict(node.dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"{node.name}: dsn is not a valid libpq connection string") from exc
    statement_timeout = f"-c statement_timeout={max(1, round(timeout * 1000))}"
    options = f"{params.get('options') or ''} {statement_timeout}".strip()
    extra: dict[str, str | int] = {
        "sslmode": node.sslmode,
        "connect_timeout": max(2, math.ceil(timeout)),
        "options": options,
        "application_name": params.get("application_name") or "edgesla-probe",
    }
    if node.sslrootcert is not None:
        extra["sslrootcert"] = str(node.sslrootcert)
    if password is not None:
        extra["password"] = password
    return make_conninfo(node.dsn, **extra)


def run(node: PostgresNode, timeout: float, work: Callable[[Conn], T]) -> T:
    """``work(conn)`` on an autocommit connection to ``node``; raises what went wrong.

    Raises ConfigError (unreadable password, bad DSN) or the psycopg/pool exception;
    turn either into a probe reason with ``reason_for``.
    """
    password = read_password(node.password_file, node.password_env, node.name)
    info = conninfo(node, timeout, password)
    pool = _pool(node, password, info)
    if pool.get_stats().get("pool_available", 0) > 0:
        try:
            conn = pool.getconn(timeout=timeout)
        except PoolTimeout:  # taken by someone else in the meantime
            pass
        else:
            try:
                _set_statement_timeout(conn, timeout)
                return work(conn)
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
            finally:
                pool.putconn(conn)  # the pool discards a broken connection
    with psycopg.connect(info, autocommit=True) as direct:
        return work(direct)


def _set_statement_timeout(conn: Conn, timeout: float) -> None:
    """Pooled connections outlive a probe; each probe brings its own timeout."""
    conn.execute(
        "SELECT pg_catalog.set_config('statement_timeout', %s, false)",
        (f"{max(1, round(timeout * 1000))}ms",),
    )


def _pool(node: PostgresNode, password: str | None, info: str) -> ConnectionPool[Conn]:
    """The pool for this server and identity, made on first use; one per node, not per timeout."""
    key = (node.dsn, node.sslmode, str(node.sslrootcert))
    with _LOCK:
        entry = _POOLS.get(key)
        if entry is not None and (entry.gave_up or entry.password != password):
            entry.pool.close(timeout=0)  # password rotated, or the pool stopped retrying
            entry = None
        if entry is None:
            entry = _new_entry(node, info, password)
            _POOLS[key] = entry
        return entry.pool


def _new_entry(node: PostgresNode, info: str, password: str | None) -> _Entry:
    holder: list[_Entry] = []

    def gave_up(_pool: object) -> None:
        holder[0].gave_up = True

    pool: ConnectionPool[Conn] = ConnectionPool(
        info,
        kwargs={"autocommit": True},
        min_size=1,
        max_size=_POOL_MAX_SIZE,
        open=False,
        name=f"edgesla-{node.name}",
        reconnect_timeout=_RECONNECT_TIMEOUT,
        reconnect_failed=gave_up,
    )
    holder.append(_Entry(pool, password))
    pool.open(wait=False)
    return holder[0]


def close_all() -> None:
    """Close every pool (exporter shutdown, end of a test session)."""
    with _LOCK:
        entries = list(_POOLS.values())
        _POOLS.clear()
    for entry in entries:
        entry.pool.close(timeout=1.0)


# --- exceptions -> Reason ------------------------------------------------------------------

#: Connection failures carry no SQLSTATE (libpq reports them as text), so they are told
#: apart by message; first match wins.
_CONNECT_MESSAGES: tuple[tuple[Reason, tuple[str, ...]], ...] = (
    (Reason.TLS, ("ssl", "certificate")),
    (Reason.AUTH, ("password authentication failed", "authentication failed",
                   "no pg_hba.conf entry", "permission denied",
                   "no password supplied", "role \"")),
    (Reason.CONFIG, ("database \"", "for connection option", "invalid connection option")),
    (Reason.TIMEOUT, ("timeout expired", "timed out")),
    (Reason.REFUSED, ("connection refused", "could not connect", "no route to host",
                      "network is unreachable", "failed to resolve host",
                      "could not translate host name", "name or service not known",
                      "server closed the connection", "connection reset", "host is down",
                      "consuming input failed", "connection is lost", "the connection is closed")),
)  # fmt: skip

_SQLSTATE_CLASSES: dict[str, Reason] = {
    "28": Reason.AUTH,  # invalid_authorization_specification, invalid_password
    "08": Reason.REFUSED,  # connection_exception
    "57": Reason.REFUSED,  # operator_intervention: admin_shutdown, cannot_connect_now
}


def reason_for(exc: BaseException) -> Reason:
    """The one mapping from an exception raised by ``run`` (or a probe) to a ``Reason``."""
    if isinstance(exc, ConfigError):
        return Reason.CONFIG
    if isinstance(exc, PoolTimeout | pg_errors.ConnectionTimeout | pg_errors.QueryCanceled):
        return Reason.TIMEOUT  # QueryCanceled: statement_timeout (or a cancel) fired
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return Reason.AUTH
    if isinstance(exc, pg_errors.InvalidCatalogName):
        return Reason.CONFIG  # the database named in the DSN does not exist
    if not isinstance(exc, psycopg.Error):
        return Reason.ERROR
    if exc.sqlstate:
        return _SQLSTATE_CLASSES.get(exc.sqlstate[:2], Reason.QUERY_ERROR)
    message = str(exc).lower()
    for reason, needles in _CONNECT_MESSAGES:
        if any(needle in message for needle in needles):
            return reason
    if isinstance(exc, psycopg.OperationalError):
        return Reason.REFUSED  # a connection-level failure libpq did not explain further
    return Reason.QUERY_ERROR


_SECRET_PATTERNS = (
    re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE),
    re.compile(r"(://[^:/@\s]+:)[^@\s]+(@)"),
)


def describe(exc: BaseException, where: str) -> str:
    """``where: message`` for ``ProbeResult.detail``: its first line, secrets masked.

    libpq never puts the password in its messages; the masking is for a password someone
    wrote into a DSN anyway (``password=...`` or ``postgresql://user:secret@host``).
    """
    text = str(exc).strip().split("\n", 1)[0].strip() or type(exc).__name__
    text = text.removeprefix("connection failed: ")
    if not text.startswith(f"{where}: "):  # ConfigError messages name the node already
        text = f"{where}: {text}"
    text = _SECRET_PATTERNS[0].sub(r"\1***", text)
    return _SECRET_PATTERNS[1].sub(r"\1***\2", text)
