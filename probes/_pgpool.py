"""At most ``MAX_CONNECTIONS_PER_SERVER`` connections to each PostgreSQL server, every one made
inside a probe run and counted from the moment it is being made.

    server(key).acquire(identity, deadline)    an idle connection of that identity, or None:
                                               a place to connect in (the caller connects)
    server(key).release(pooled, keep)          back to idle, or closed and its place freed

**One bound for everything.** A server (host and port) has ``MAX_CONNECTIONS_PER_SERVER``
places. Each open connection takes one: idle, in use, or being made. A run that needs a
connection takes an idle one of its identity (DSN, TLS settings, password), else a free
place, else closes an idle connection of another identity to make room, else waits — inside
its deadline: ``ConnectionsBusy`` (a ``TimeoutError``) when nothing frees in time. So
scheduled runs, heartbeats and on-demand ``/probe`` runs together never open more than the
bound, however many arrive (postgres_exporter #727, #1228: one connection per request).

**The caller connects.** A place comes back as None and the run connects itself, in its own
thread, under its own deadline: a refused port or a wrong password is named at once instead
of being lost in a background worker's log.

**What goes back.** ``release(pooled, keep=True)`` returns a healthy connection to the idle
list; the caller passes ``keep=False`` for a connection that hit a deadline, is broken, or is
inside a transaction, and it is closed, never reused. Idle connections unused for
``IDLE_SECONDS`` are closed when the server is next asked.

**Why not psycopg_pool.** Its workers connect in their own threads, outside the run's
deadline and watchdog, keep retrying against a frozen server in the background, and report
a failed connection only as ``PoolTimeout``; its size bound does not cover connections made
beside it. A probe needs every connection made by a run, counted, and closed when that run's
deadline passes — about a hundred lines, here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from contextlib import suppress
from dataclasses import dataclass

import psycopg
from psycopg.rows import TupleRow

from edgesla.probes._deadline import Deadline

__all__ = [
    "IDLE_SECONDS",
    "MAX_CONNECTIONS_PER_SERVER",
    "ConnectionsBusy",
    "Pooled",
    "close_all",
    "server",
]

Conn = psycopg.Connection[TupleRow]

#: Open connections per server (host, port): a replication target's heartbeat writer and its
#: prober may overlap, and a query target on the same node shares the bound.
MAX_CONNECTIONS_PER_SERVER = 2
#: An idle connection unused this long is closed (servers and firewalls drop idle sessions).
IDLE_SECONDS = 300.0


class ConnectionsBusy(TimeoutError):
    """Every place of the server stayed in use until the run's deadline."""


@dataclass
class Pooled:
    conn: Conn
    identity: Hashable
    #: The session's statement_timeout in ms, as last set (None: unknown).
    statement_timeout_ms: int | None = None
    idle_since: float = 0.0


class _Server:
    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self._cond = threading.Condition()
        self._open = 0  # idle + in use + being made
        self._idle: list[Pooled] = []  # oldest first

    def acquire(self, identity: Hashable, deadline: Deadline, fresh: bool = False) -> Pooled | None:
        """An idle connection of ``identity`` (not when ``fresh``), or None: a place is
        reserved for the caller to connect in. Raises ConnectionsBusy at the deadline."""
        doomed: list[Pooled] = []
        try:
            with self._cond:
                while True:
                    doomed += self._expire_idle()
                    if not fresh:
                        mine = [p for p in self._idle if p.identity == identity]
                        if mine:
                            self._idle.remove(mine[-1])  # the most recent: the others age out
                            return mine[-1]
                    if self._open < self.limit:
                        self._open += 1
                        return None
                    if self._idle:  # full of idle connections: close one to make room
                        doomed.append(self._idle.pop(0))
                        return None  # its place passes to the caller
                    left = deadline.left()
                    if left <= 0:
                        raise ConnectionsBusy(
                            f"{self.name}: no connection free within {deadline.seconds:g}s "
                            f"({self.limit} of {self.limit} in use, the per-server bound)"
                        )
                    self._cond.wait(left)
        finally:
            for pooled in doomed:
                _close(pooled.conn)

    def release(self, pooled: Pooled | None, keep: bool) -> None:
        """End a lease: ``keep`` puts the connection back idle, else it is closed."""
        if keep and pooled is not None:
            pooled.idle_since = time.monotonic()
            with self._cond:
                self._idle.append(pooled)
                self._cond.notify()
            return
        if pooled is not None:
            _close(pooled.conn)
        with self._cond:
            self._open -= 1
            self._cond.notify()

    def close_idle(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for pooled in idle:
            _close(pooled.conn)

    def _expire_idle(self) -> list[Pooled]:
        """Under the lock: take the connections idle too long out of the count."""
        cutoff = time.monotonic() - IDLE_SECONDS
        old = [p for p in self._idle if p.idle_since < cutoff]
        if old:
            self._idle = [p for p in self._idle if p.idle_since >= cutoff]
            self._open -= len(old)
        return old


def _close(conn: Conn) -> None:
    with suppress(Exception):  # closing a broken connection may complain; it is gone anyway
        conn.close()


_SERVERS: dict[Hashable, _Server] = {}
_LOCK = threading.Lock()


def server(key: Hashable, name: str) -> _Server:
    """The server ``key`` (its host and port), made on first use and kept for the process."""
    with _LOCK:
        found = _SERVERS.get(key)
        if found is None:
            found = _SERVERS[key] = _Server(name, MAX_CONNECTIONS_PER_SERVER)
        return found


def close_all() -> None:
    """Close every idle connection (exporter shutdown, end of a test module); connections in
    use are closed or kept when their run ends."""
    with _LOCK:
        servers = list(_SERVERS.values())
    for srv in servers:
        srv.close_idle()
