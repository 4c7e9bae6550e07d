"""The ``sync`` scenario: a core→edge batch sync while customer-care lookups go on.

    run_sync(endpoints, settings) -> SyncRun

The seed syncs master data from the core to the edge in batch windows and warns that the
sync costs NoSQL read/write performance. This scenario measures exactly that: customer-care
lookups (one subscriber document by its id, at ``lookup_rate`` per second, open model:
each lookup has an intended start and its latency is counted from it, so a stalled server
is not hidden by a waiting client) run for ``before`` seconds, then through the sync —
``share`` of the subscribers upserted into MongoDB in batches of ``batch`` documents at
``sync_rate`` documents per second, and their master rows rewritten on the first
PostgreSQL master at the same pace — and ``after`` seconds more. Each lookup is put in the
window its intended start falls in: before, during (the sync), after.

Every planned lookup is accounted for (answered, failed, or not started before the end) and
every planned document is either synced or named as failed.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pymongo

from edgesla import conventions as conv

__all__ = [
    "Batches",
    "Lookup",
    "SyncRun",
    "SyncSettings",
    "Window",
    "run_sync",
    "subscriber_ids",
    "write_batches",
]

_IDS = "SELECT subscriber_id FROM public.subscriber ORDER BY subscriber_id"
_MASTER = "UPDATE public.subscriber SET service_level = service_level WHERE subscriber_id = ANY(%s)"


@dataclass(frozen=True)
class SyncSettings:
    share: float = 0.2  #: of the subscribers, synced
    sync_rate: float = 2000.0  #: documents per second
    batch: int = 500  #: documents per bulk upsert
    lookup_rate: float = 50.0  #: care lookups per second, all along
    before: float = 5.0  #: seconds of lookups before the sync starts
    after: float = 5.0  #: seconds of lookups after it ended
    seed: int = 0


@dataclass(frozen=True)
class Lookup:
    intended: float  #: seconds from the run's start
    latency: float | None  #: from the intended start; None: failed
    error: str = ""


@dataclass(frozen=True)
class Window:
    start: float
    end: float


@dataclass
class SyncRun:
    lookups: list[Lookup] = field(default_factory=list)
    planned_documents: int = 0
    synced_documents: int = 0
    synced_rows: int = 0
    failed_batches: list[str] = field(default_factory=list)
    sync: Window = Window(0.0, 0.0)
    duration: float = 0.0


def subscriber_ids(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        return [str(r[0]) for r in conn.execute(_IDS)]


def _lookups(
    coll: Any,
    ids: Sequence[str],
    rate: float,
    run: SyncRun,
    t0: float,
    stop: threading.Event,
    lock: threading.Lock,
) -> None:
    rng = random.Random(1)
    i = 0
    while not stop.is_set():
        intended = i / rate
        delay = t0 + intended - time.perf_counter()
        if delay > 0 and stop.wait(delay):
            break
        wanted = rng.choice(ids)
        try:
            coll.find_one({conv.MONGO_SUBSCRIBER_ID_FIELD: wanted})
            done = Lookup(intended, time.perf_counter() - (t0 + intended))
        except pymongo.errors.PyMongoError as exc:
            done = Lookup(intended, None, f"{type(exc).__name__}: {exc}"[:200])
        with lock:
            run.lookups.append(done)
        i += 1


@dataclass
class Batches:
    """What a paced batch sync did: documents and master rows written, batches that failed."""

    synced_documents: int = 0
    synced_rows: int = 0
    failed: list[str] = field(default_factory=list)


def write_batches(
    coll: Any,
    dsn: str,
    ids: Sequence[str],
    rate: float,
    batch: int,
    start: float,
    done: Batches | None = None,
) -> Batches:
    """Upsert the documents of ``ids`` into ``coll`` in batches of ``batch``, batch ``n`` due
    at ``start + n / rate`` (perf_counter seconds), and rewrite their master rows on the
    PostgreSQL master ``dsn`` at the same pace. A batch the stores refuse is named in
    ``failed``; only a master that cannot be reached at all raises (``psycopg.Error``).
    ``done`` is filled as the batches go (what a sync cut short had written)."""
    done = done if done is not None else Batches()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    field_name = conv.MONGO_SUBSCRIBER_ID_FIELD
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        for n in range(0, len(ids), batch):
            part = list(ids[n : n + batch])
            if (delay := start + n / rate - time.perf_counter()) > 0:
                time.sleep(delay)
            ops = [
                pymongo.UpdateOne({field_name: i}, {"$set": {"coreSync": stamp}}, upsert=True)
                for i in part
            ]
            try:
                written = coll.bulk_write(ops, ordered=False)
                done.synced_documents += written.matched_count + written.upserted_count
                done.synced_rows += conn.execute(_MASTER, (part,)).rowcount
            except (pymongo.errors.PyMongoError, psycopg.Error) as exc:
                done.failed.append(f"documents {n}..{n + len(part) - 1}: {exc}"[:300])
    return done


def _sync(coll: Any, dsn: str, ids: Sequence[str], settings: SyncSettings, run: SyncRun) -> None:
    done = write_batches(coll, dsn, ids, settings.sync_rate, settings.batch, time.perf_counter())
    run.synced_documents += done.synced_documents
    run.synced_rows += done.synced_rows
    run.failed_batches += done.failed


def run_sync(
    mongo_uri: str, database: str, collection: str, dsn: str, settings: SyncSettings
) -> SyncRun:
    """Lookups all along, the sync between ``before`` and ``after``; see the docstring."""
    ids = subscriber_ids(dsn)
    chosen = random.Random(settings.seed).sample(ids, round(len(ids) * settings.share))
    run = SyncRun(planned_documents=len(chosen))
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(
        mongo_uri, serverSelectionTimeoutMS=5000, timeoutMS=10_000, directConnection=True
    ) as client:
        coll: Any = client[database][collection]
        reader: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            mongo_uri, serverSelectionTimeoutMS=5000, timeoutMS=5000, directConnection=True
        )
        stop, lock = threading.Event(), threading.Lock()
        t0 = time.perf_counter() + 0.1
        looking = threading.Thread(
            target=_lookups,
            args=(reader[database][collection], ids, settings.lookup_rate, run, t0, stop, lock),
            name="sync-lookups",
        )
        looking.start()
        try:
            time.sleep(max(0.0, t0 + settings.before - time.perf_counter()))
            began = time.perf_counter() - t0
            _sync(coll, dsn, chosen, settings, run)
            run.sync = Window(began, time.perf_counter() - t0)
            time.sleep(settings.after)
        finally:
            stop.set()
            looking.join()
            reader.close()
        run.duration = time.perf_counter() - t0
    return run
