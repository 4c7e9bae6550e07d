"""Connections for the PostgreSQL probers: bounded, and never waiting past a run's deadline.

Every PostgreSQL prober goes through two functions here:

    run(node, timeout, work, ping=False)   ``work(conn)`` on a connection to ``node``, all of
                                           it (waiting for a connection included) within
                                           ``timeout`` seconds
    reason_for(exc)                        the probe ``Reason`` for whatever ``run`` raised

**Connections** come from ``edgesla.probes._pgpool``: at most two per server, idle ones reused,
every
one made inside a run (so a refused port or a wrong password is named at once, not as a
timeout later). Waiting for one is part of the run, and of the latency ``postgres_query``
reports. A connection that hit a deadline, broke, or was left inside a transaction is closed,
never returned. A pooled connection found broken (the server restarted since) is dropped and
the work retried once on a new connection.

**Deadlines, client side.** A frozen server (SIGSTOP, a hung host) never enforces its own
``statement_timeout``; its kernel still ACKs packets and answers TCP keepalives, and its
postmaster never handles a cancel request. So, in ``run``:

* waiting for a connection stops at the deadline (``ConnectionsBusy``);
* a new connection is made only after the server answered a one-packet check within the
  deadline (see ``check_accepting``), so a server that accepts TCP and never answers costs
  the deadline, not libpq's ``connect_timeout`` (whole seconds, at least 2);
* while ``work`` runs, the watchdog (``edgesla.probes._deadline``) stands by: ``WATCHDOG_MARGIN``
  after the deadline it shuts the connection's socket down (``shutdown(SHUT_RDWR)`` on a
  duplicate of ``conn.pgconn.socket``), which wakes the blocked thread at once; the run ends
  with ``DeadlineExceeded`` and the connection is closed. A live server cancels a slow
  statement itself first (``statement_timeout`` = the timeout), keeping the connection;
* ``ping=True`` (the probers, not the heartbeat) also runs ``check_accepting`` after the work
  when no new connection was made: a server whose postmaster alone is frozen serves its
  existing sessions and accepts no new ones — for its clients it is down.

Kernel-level backstops for idle pooled connections (not the probe's deadline): TCP
keepalives (``keepalives_idle=10``, ``keepalives_interval=5``, ``keepalives_count=3``) and
``tcp_user_timeout=10000`` ms, so a peer that vanished is found within ~25 s even while idle.

**Conninfo.** ``node.dsn`` plus the password read from ``password_file`` / ``password_env``
on every run (never from the DSN, never logged; a rotated password gets new connections),
``sslmode`` and ``sslrootcert``, ``connect_timeout`` and
``options=-c statement_timeout=<timeout>``.
"""

from __future__ import annotations

import gc
import math
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from edgesla._errors import ConfigError
from edgesla.config import PostgresNode
from edgesla.probes import _pgpool
from edgesla.probes._deadline import Deadline, watchdog
from edgesla.probes._pgpool import ConnectionsBusy, Pooled
from edgesla.probes._result import ProbeResult, Reason
from edgesla.secrets import read_password, require_readable

__all__ = [
    "WATCHDOG_MARGIN",
    "Conn",
    "ConnectionsBusy",
    "DeadlineExceeded",
    "NotAnswering",
    "check_accepting",
    "close_all",
    "connect",
    "conninfo",
    "describe",
    "each_node",
    "identifier",
    "never_raises",
    "reason_for",
    "run",
]

T = TypeVar("T")
Conn = _pgpool.Conn

#: The watchdog acts this long after the deadline, so a live server's statement_timeout
#: (which starts when the statement arrives) cancels first and the connection is kept.
WATCHDOG_MARGIN = 0.1
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
               "keepalives_count": 3, "tcp_user_timeout": 10_000}  # fmt: skip
#: The GSSENCRequest packet: length 8, code 80877104. Any PostgreSQL >= 12 answers it with one
#: byte ("N": no GSS encryption here) from the child the postmaster forked for the connection.
_GSSENC_REQUEST = (8).to_bytes(4, "big") + (80877104).to_bytes(4, "big")


class DeadlineExceeded(TimeoutError):
    """The work was still waiting on the server at the deadline; its connection was closed."""


class NotAnswering(TimeoutError):
    """The server accepted the TCP connection but did not answer within the deadline."""


def conninfo(node: PostgresNode, timeout: float, password: str | None) -> str:
    """The libpq connection string for ``node``; ConfigError when its DSN cannot be parsed."""
    params = _params(node)
    statement_timeout = f"-c statement_timeout={_ms(timeout)}"
    options = f"{params.get('options') or ''} {statement_timeout}".strip()
    extra: dict[str, str | int] = {
        "sslmode": node.sslmode,
        "connect_timeout": max(2, math.ceil(timeout)),
        "options": options,
        "application_name": params.get("application_name") or "edgesla-probe",
        **{key: value for key, value in _KEEPALIVES.items() if key not in params},
    }
    if node.sslrootcert is not None:
        extra["sslrootcert"] = str(node.sslrootcert)
    if password is not None:
        extra["password"] = password
    return make_conninfo(node.dsn, **extra)


def _params(node: PostgresNode) -> dict[str, str]:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(node.dsn).items() if v is not None}
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"{node.name}: dsn is not a valid libpq connection string") from exc


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def run(node: PostgresNode, timeout: float, work: Callable[[Conn], T], *, ping: bool = False) -> T:
    """``work(conn)`` on an autocommit connection to ``node``, within ``timeout``.

    Raises ConfigError (unreadable password or TLS file, bad DSN), a ``TimeoutError``
    (``ConnectionsBusy``, ``NotAnswering``, ``DeadlineExceeded``), ``OSError`` from the check,
    or the psycopg exception; turn any of them into a probe reason with ``reason_for``.
    """
    deadline = Deadline(timeout)
    password = read_password(node.password_file, node.password_env, node.name)
    require_readable(node.sslrootcert, "sslrootcert", node.name)
    info = conninfo(node, timeout, password)
    params = _params(node)
    server = _pgpool.server(
        (params.get("hostaddr") or params.get("host", ""), params.get("port", "")), node.name
    )
    identity = (node.dsn, node.sslmode, str(node.sslrootcert), password)
    checked = False
    for attempt in (1, 2):
        pooled = server.acquire(identity, deadline, fresh=attempt > 1)
        fired: Callable[[], bool] | None = None
        try:
            fresh = pooled is None
            if pooled is None:
                check_accepting(node, deadline)
                checked = True
                pooled = Pooled(connect(info), identity, _ms(timeout))
            with _guarded(pooled.conn, deadline) as fired:
                try:
                    _set_statement_timeout(pooled, timeout)
                    value = work(pooled.conn)
                except psycopg.Error as exc:
                    if fired():
                        raise DeadlineExceeded(
                            f"{node.name}: no answer within {timeout:g}s; the connection was "
                            "closed at the deadline"
                        ) from exc
                    if fresh or not pooled.conn.broken or deadline.expired:
                        raise
                    continue  # a pooled connection the server dropped since: once, anew
        finally:  # the alarm is cancelled by now: whether it fired is final
            cut = fired is None or fired()  # None: never guarded, e.g. the connect failed
            server.release(pooled, keep=pooled is not None and not cut and _reusable(pooled.conn))
        if ping and not checked:
            check_accepting(node, deadline)
        return value
    raise AssertionError("unreachable: the second attempt returns or raises")


def connect(info: str) -> Conn:
    """A new autocommit connection; nothing of a failed attempt stays open.

    A failed attempt's half-open libpq connection is held by psycopg's connect frame, which
    the raised exception's traceback keeps alive, in a reference cycle: its socket stays open
    until a garbage collection, and a server that was frozen makes a session of it when it
    wakes (the soak benchmark saw the exporter's fds and pg-b's idle sessions grow by about
    two a freeze). So the traceback is dropped and the cycle collected at once.
    """
    try:
        return psycopg.connect(info, autocommit=True)
    except psycopg.Error as exc:
        failure = exc.with_traceback(None)
    gc.collect()
    raise failure


def _reusable(conn: Conn) -> bool:
    return (
        not conn.closed
        and not conn.broken
        and conn.info.transaction_status == pq.TransactionStatus.IDLE
    )


@contextmanager
def _guarded(conn: Conn, deadline: Deadline) -> Iterator[Callable[[], bool]]:
    """Shut the connection's socket down ``WATCHDOG_MARGIN`` after the deadline unless the
    block ended first; yields "has it fired?". The socket is a duplicate of libpq's, so
    closing it here never closes libpq's descriptor, and the alarm is cancelled (waiting for
    a firing in progress) before the connection can go back to the pool."""
    sock = socket.socket(fileno=os.dup(conn.pgconn.socket))

    def shut() -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    alarm = watchdog().at(deadline.end + WATCHDOG_MARGIN, shut)
    try:
        yield lambda: alarm.fired
    finally:
        alarm.cancel()
        sock.close()


def _set_statement_timeout(pooled: Pooled, timeout: float) -> None:
    """Pooled connections outlive a run; set the server's own limit when it differs."""
    wanted = _ms(timeout)
    if pooled.statement_timeout_ms != wanted:
        pooled.conn.execute(
            "SELECT pg_catalog.set_config('statement_timeout', %s, false)", (f"{wanted}ms",)
        )
        pooled.statement_timeout_ms = wanted


def check_accepting(node: PostgresNode, deadline: Deadline) -> None:
    """The server takes new connections: it answered one GSSENCRequest packet in time.

    What ``pg_isready`` checks first, cheaper: the postmaster must accept and fork a child,
    and the child answers one byte; the socket is then closed, before any startup packet, so
    no session starts (none in ``pg_stat_activity``) and the server logs nothing ("no data at
    all" is not logged). A frozen postmaster never answers: ``NotAnswering`` at the deadline.
    Skipped for DSNs without one explicit host (several hosts, or libpq's default socket).
    """
    params = _params(node)
    host = params.get("hostaddr") or params.get("host", "")
    port = params.get("port") or "5432"
    if not host or "," in host or not port.isdigit():
        return  # libpq's own connection attempt names what is wrong with such a DSN
    left = max(deadline.left(), 0.001)
    try:
        if host.startswith(("/", "@")):
            path = f"{host}/.s.PGSQL.{port}".replace("@", "\0", 1)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(left)
            sock.connect(path)
        else:
            sock = socket.create_connection((host, int(port)), timeout=left)
    except TimeoutError as exc:
        raise NotAnswering(f"{node.name}: no TCP connection within {deadline.seconds:g}s") from exc
    with sock:
        try:
            sock.settimeout(max(deadline.left(), 0.001))
            sock.sendall(_GSSENC_REQUEST)
            answer = sock.recv(1)
        except TimeoutError as exc:
            raise NotAnswering(
                f"{node.name}: accepts TCP but did not answer within {deadline.seconds:g}s "
                "(server frozen or overloaded)"
            ) from exc
    if not answer:
        raise ConnectionResetError(f"{node.name}: the server closed the connection unanswered")


def close_all() -> None:
    """Close every idle connection (exporter shutdown, end of a test module)."""
    _pgpool.close_all()


def each_node(nodes: Sequence[PostgresNode], work: Callable[[PostgresNode], T]) -> list[T]:
    """``work`` on every node at once: a run costs the slowest node, not the sum."""
    with ThreadPoolExecutor(max_workers=len(nodes), thread_name_prefix="edgesla-pg") as pool:
        return list(pool.map(work, nodes))


def identifier(name: str) -> sql.Identifier:
    """``public.subscriber`` → ``"public"."subscriber"``, quoted by psycopg."""
    return sql.Identifier(*name.split("."))


def never_raises(run: Callable[[], ProbeResult]) -> ProbeResult:
    """The contract's last line of defence: a bug becomes ``error``, never an exception."""
    try:
        return run()
    except Exception as exc:
        return ProbeResult.fail(Reason.ERROR, describe(exc, f"bug ({type(exc).__name__})"))


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
    if isinstance(exc, TimeoutError | pg_errors.ConnectionTimeout | pg_errors.QueryCanceled):
        return Reason.TIMEOUT  # QueryCanceled: statement_timeout (or a cancel) fired
    if isinstance(exc, OSError):  # the accepting check: refused, reset, unreachable
        return Reason.REFUSED
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
    if isinstance(exc, ConnectionRefusedError):
        text = "connection refused"
    text = text.removeprefix("connection failed: ")
    if not text.startswith(f"{where}: "):  # our own messages name the node already
        text = f"{where}: {text}"
    text = _SECRET_PATTERNS[0].sub(r"\1***", text)
    return _SECRET_PATTERNS[1].sub(r"\1***\2", text)
