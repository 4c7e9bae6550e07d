"""Connections of the self-care service: one MongoDB client, one pool per PostgreSQL master.

Everything here is asyncio: pymongo's ``AsyncMongoClient`` and psycopg's
``AsyncConnectionPool``, awaited straight from the endpoints. Sync endpoints would run in
Starlette's threadpool, whose 40-token limiter becomes a hidden queue in front of the pools
(latency no pool timeout sees) and costs a thread hop per request; async keeps a request on
the event loop and every wait bounded by the one timeout in :class:`Settings`:

* PostgreSQL: pool checkout (``timeout``), at most ``max_waiting`` queued checkouts (more is
  an immediate 503, not a growing queue), ``connect_timeout``, ``statement_timeout``;
* MongoDB: ``serverSelectionTimeoutMS``, ``connectTimeoutMS`` and ``timeoutMS`` (the whole
  operation).

Third-party errors are translated here, at the edge, into :class:`BackendUnavailable`.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
import pymongo
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import AutoReconnect, NetworkTimeout, PyMongoError, ServerSelectionTimeoutError

from edgesla import conventions as conv
from edgesla._errors import EdgeslaError
from edgesla.selfcare.settings import Settings

__all__ = ["BackendState", "BackendUnavailable", "Backends", "PgNode"]

T = TypeVar("T")
Document = dict[str, Any]
#: Checkouts allowed to queue per pool before new requests are refused at once.
MAX_WAITING = 64
APP_NAME = "edgesla-selfcare"
#: A pool retries a lost connection with backoff this long, then again on demand: a node
#: that comes back is used again within seconds, not after a minutes-long backoff.
RECONNECT_GIVE_UP_SECONDS = 30.0
#: A pooled MongoDB connection idle this long is replaced before use. Servers and middleboxes
#: close idle connections (secantusdb after 300 s, a NAT or load balancer often sooner); one
#: closed under the client as a request goes out fails that request, so the pool never offers
#: a connection old enough to be closed.
MONGO_MAX_IDLE_MS = 60_000


class BackendUnavailable(EdgeslaError):
    """A backend did not answer in time or failed; the client gets a 503 with ``cause``."""

    def __init__(self, backend: str, cause: str) -> None:
        super().__init__(f"{backend}: {cause}")
        self.backend = backend
        self.cause = cause


def short_cause(exc: BaseException) -> str:
    """Exception class and the first line of its message, at most 120 characters."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    first = first.split(" (configured timeouts")[0]  # pymongo's suffix says nothing new
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text[:120]


@contextmanager
def translated(backend: str) -> Iterator[None]:
    """Re-raise a MongoDB or PostgreSQL error as :class:`BackendUnavailable` (chained)."""
    try:
        yield
    except (PyMongoError, psycopg.Error) as exc:
        raise BackendUnavailable(backend, short_cause(exc)) from exc


@dataclass
class PgNode:
    """One PostgreSQL master. ``name`` is the server's ``edgesla.node`` once it has answered."""

    address: str
    pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]
    index: int
    name: str | None = field(default=None)

    @property
    def label(self) -> str:
        return self.name or self.address


@dataclass(frozen=True)
class BackendState:
    """What ``/healthz`` reports for one backend."""

    backend: str  # "mongodb" | "postgresql"
    name: str
    address: str
    ok: bool
    detail: str
    latency_seconds: float

    def as_json(self) -> dict[str, object]:
        return {
            "backend": self.backend,
            "name": self.name,
            "address": self.address,
            "ok": self.ok,
            "detail": self.detail,
            "latencySeconds": round(self.latency_seconds, 6),
        }


def _address(dsn: str) -> str:
    parts = conninfo_to_dict(dsn)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"


def _mongo_address(uri: str) -> str:
    rest = uri.split("://", 1)[-1]
    return rest.split("/", 1)[0].rsplit("@", 1)[-1].split("?", 1)[0]


class Backends:
    """The open clients of one worker process. Build with :meth:`open`; :meth:`close` once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        ms = int(settings.timeout_seconds * 1000)
        self.mongo_address = _mongo_address(settings.mongo_uri)
        self.mongo: AsyncMongoClient[Document] = AsyncMongoClient(
            settings.mongo_uri,
            serverSelectionTimeoutMS=ms,
            connectTimeoutMS=ms,
            timeoutMS=ms,
            appname=APP_NAME,
            maxPoolSize=max(10, settings.pg_pool_size * 4),
            maxIdleTimeMS=MONGO_MAX_IDLE_MS,
        )
        self.nodes = [self._node(i, dsn) for i, dsn in enumerate(settings.pg_dsns)]
        self._writes = itertools.count()
        self._reads = itertools.count()

    def _node(self, index: int, dsn: str) -> PgNode:
        timeout = self.settings.timeout_seconds
        node: PgNode

        async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
            cur = await conn.execute(
                "SELECT current_setting('edgesla.node', true),"
                " set_config('statement_timeout', %s, false)",
                (str(int(timeout * 1000)),),
            )
            row = await cur.fetchone()
            if row and row[0]:
                node.name = str(row[0])

        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            dsn,
            open=False,
            min_size=1,
            max_size=self.settings.pg_pool_size,
            kwargs={
                "autocommit": True,
                "application_name": APP_NAME,
                "connect_timeout": max(2, math.ceil(timeout)),
            },
            configure=configure,
            timeout=timeout,
            max_waiting=MAX_WAITING,
            reconnect_timeout=RECONNECT_GIVE_UP_SECONDS,
            name=f"selfcare-{index}",
            # a connection the server dropped (a master restarted) is never handed out
            check=AsyncConnectionPool.check_connection,
        )
        node = PgNode(address=_address(dsn), pool=pool, index=index)
        return node

    @classmethod
    async def open(cls, settings: Settings) -> Backends:
        """Open every pool without waiting for the servers, then ping once (best effort)."""
        backends = cls(settings)
        for node in backends.nodes:
            await node.pool.open(wait=False)
        await backends.health()  # learns node names and warms the pools; failures are fine
        return backends

    async def close(self) -> None:
        await asyncio.gather(*(node.pool.close() for node in self.nodes))
        await self.mongo.close()

    @property
    def subscribers(self) -> AsyncCollection[Document]:
        return self.mongo[conv.MONGO_DATABASE][conv.MONGO_SUBSCRIBERS]

    # --- choosing PostgreSQL nodes ---

    def find_node(self, key: str) -> PgNode | None:
        """The node named ``key``: its server name, its address, or its 0-based index."""
        for node in self.nodes:
            if key in (node.name, node.address, str(node.index)):
                return node
        return None

    def _rotation(self, counter: itertools.count[int]) -> list[PgNode]:
        start = next(counter) % len(self.nodes)
        return self.nodes[start:] + self.nodes[:start]

    def write_order(self) -> list[PgNode]:
        """Round-robin: the next master first, then the others as fallbacks."""
        return self._rotation(self._writes)

    def read_order(self) -> list[PgNode]:
        return self._rotation(self._reads)

    async def on_pg(
        self, order: list[PgNode], work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]
    ) -> tuple[PgNode, T]:
        """Run ``work`` on the first node of ``order`` that hands out a connection.

        Only a failed checkout (nothing was sent) moves on to the next node, so a statement
        never runs twice; any other error is the answer.
        """
        last: BackendUnavailable | None = None
        for node in order:
            try:
                async with node.pool.connection() as conn:
                    with translated(node.label):
                        return node, await work(conn)
            except PoolTimeout as exc:
                last = BackendUnavailable(node.label, short_cause(exc))
                last.__cause__ = exc
            except psycopg.Error as exc:  # raised by the checkout or the return to the pool
                raise BackendUnavailable(node.label, short_cause(exc)) from exc
        assert last is not None
        raise last

    # --- health ---

    async def ping_mongo(self) -> BackendState:
        """``ping``, retried once on a lost connection, within one timeout for both tries.

        Reads are retried once by pymongo itself (retryable reads); a command is not, so a
        pooled connection the server closed just then would report a healthy MongoDB down.
        """
        started = time.perf_counter()
        try:
            with pymongo.timeout(self.settings.timeout_seconds):
                try:
                    await self.mongo.admin.command("ping")
                except (NetworkTimeout, ServerSelectionTimeoutError):
                    raise  # a timeout: no second try
                except AutoReconnect:  # a lost connection: once more, on a new one
                    await self.mongo.admin.command("ping")
        except PyMongoError as exc:
            ok, detail = False, short_cause(exc)
        else:
            ok, detail = True, "answers"
        return BackendState(
            "mongodb", "mongodb", self.mongo_address, ok, detail, time.perf_counter() - started
        )

    async def ping_pg(self, node: PgNode) -> BackendState:
        started = time.perf_counter()
        try:
            async with node.pool.connection() as conn:
                await conn.execute("SELECT 1")
        except psycopg.Error as exc:
            ok, detail = False, short_cause(exc)
        else:
            ok, detail = True, "answers"
        return BackendState(
            "postgresql", node.label, node.address, ok, detail, time.perf_counter() - started
        )

    async def health(self) -> list[BackendState]:
        """Ping every backend concurrently; each ping is bounded by the settings' timeout."""
        return list(await asyncio.gather(self.ping_mongo(), *(self.ping_pg(n) for n in self.nodes)))
