"""Latency of one MongoDB query, the way a customer-care lookup sees it.

    probe(target: MongoQueryTarget, timeout) -> ProbeResult

What is timed
    Only the operation: ``time.perf_counter()`` around the query *and the iteration of its
    cursor*. A pymongo cursor is lazy: ``find()`` sends nothing, the first ``next()`` does.
    Timing ``find()`` alone measures nothing (Locust's bundled MongoDB example makes that
    mistake), so every operation here is consumed with ``Cursor.to_list()`` inside the timer.

Which operation
    * ``find`` in the target: that filter; finding nothing is ``not_found``.
    * ``aggregate`` in the target: that pipeline; an empty result is still a success (a
      pipeline may legitimately produce nothing, e.g. ``$match`` on anomalies).
    * neither (the default): look up one *existing* subscriber, picked at random, by
      ``target.id_field``. The ids come from a per-target sample (up to ``ID_SAMPLE_SIZE``,
      ``$sample`` across the whole collection), so the probe does not hit the same cached
      document on every run, and a miss means the document really went away: ``not_found``.

The id sample
    Taking it reads the whole collection on some servers (SecantusDB: ~3 s per 100,000
    documents, whatever the pipeline), far more than a probe's deadline. So it is not the
    probe's work: ``sample(target, budget)`` is the exporter's background duty ``id_sample``
    (``edgesla.probes.registry.DUTIES``), run every ``ID_SAMPLE_CHECK_EVERY`` seconds within
    ``ID_SAMPLE_TIMEOUT``; it renews the sample when it is older than ``ID_SAMPLE_MAX_AGE``
    or empty, and does nothing otherwise. ``$sample`` is the pipeline's first stage, so a
    real MongoDB answers it with a random cursor instead of a collection scan. Until the
    first sample is in (the exporter's first seconds; ``/probe`` before any duty ran), the
    probe looks up an id that need not exist: the same index lookup, answered or not,
    counted as the server answering, and the detail says so. A sample that came back empty
    makes the probe ``not_found`` (the collection has no subscriber to look up). On a server
    that scans, the scan also slows what runs beside it (lookups of 0.3 to 1 s while it lasts,
    measured on SecantusDB at 100,000 documents), so the sample is renewed every 6 h, and at
    once when one of its ids has gone: 1,000 random ids spread the lookups well enough.

Connections and errors
    One cached client per target, and the mapping of pymongo's exceptions to reasons,
    live in ``edgesla.probes._mongo`` (shared with ``edgesla.probes.mongodb_replication``). Every
    operation
    runs under ``pymongo.timeout(timeout)``, so server selection, connecting and the query
    together stay within the probe's budget. The probe never raises.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pymongo
from pymongo.errors import OperationFailure

from edgesla.config import MongoQueryTarget
from edgesla.probes import _mongo
from edgesla.probes._mongo import Client, client_or_failure, failure
from edgesla.probes._result import ProbeResult, Reason

__all__ = [
    "ID_SAMPLE_CHECK_EVERY",
    "ID_SAMPLE_MAX_AGE",
    "ID_SAMPLE_SIZE",
    "ID_SAMPLE_TIMEOUT",
    "close_all",
    "probe",
    "sample",
]

#: How many existing ids the default lookup picks from, and how often that sample is renewed.
ID_SAMPLE_SIZE = 1_000
ID_SAMPLE_MAX_AGE = 6 * 3600.0
#: The id_sample duty: how often it checks the sample's age, and its budget for a renewal.
ID_SAMPLE_CHECK_EVERY = 10.0
ID_SAMPLE_TIMEOUT = 60.0


def close_all() -> None:
    """Close every cached client and forget the id samples (shutdown, test teardown)."""
    with _lock:
        _id_samples.clear()
    _mongo.close_all()


# --- the default lookup's id sample -------------------------------------------------------

_lock = threading.Lock()
_id_samples: dict[tuple[str, str, str, str], tuple[float, tuple[Any, ...]]] = {}


def _dotted(doc: Mapping[str, Any], path: str) -> Any:
    """``doc["subscriber"]["id"]`` for ``"subscriber.id"``; None when a step is missing."""
    node: Any = doc
    for step in path.split("."):
        if not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def _fetch_ids(coll: Any, id_field: str) -> tuple[Any, ...]:
    pipeline = [{"$sample": {"size": ID_SAMPLE_SIZE}}, {"$project": {id_field: 1, "_id": 0}}]
    try:
        docs = coll.aggregate(pipeline).to_list()
    except OperationFailure:  # a server without $sample: the first ids will have to do
        projection = {id_field: 1, "_id": 0}
        docs = coll.find({id_field: {"$exists": True}}, projection).limit(ID_SAMPLE_SIZE)
        docs = docs.to_list()
    return tuple(v for v in (_dotted(d, id_field) for d in docs) if v is not None)


def _key(target: MongoQueryTarget) -> tuple[str, str, str, str]:
    return (target.name, target.database, target.collection, target.id_field)


def _sampled_ids(target: MongoQueryTarget) -> tuple[Any, ...] | None:
    """The target's current id sample; None before the first one is in."""
    with _lock:
        cached = _id_samples.get(_key(target))
    return None if cached is None else cached[1]


def _renew(target: MongoQueryTarget, client: Client) -> ProbeResult:
    with _lock:
        cached = _id_samples.get(_key(target))
    if cached is not None and cached[1] and time.monotonic() - cached[0] < ID_SAMPLE_MAX_AGE:
        return ProbeResult.ok(None, f"id sample of {len(cached[1])} ids is current")
    coll = client[target.database][target.collection]
    with _timed() as took:
        ids = _fetch_ids(coll, target.id_field)
    with _lock:
        _id_samples[_key(target)] = (time.monotonic(), ids)
    if not ids:
        return ProbeResult.fail(Reason.NOT_FOUND, _no_ids(target), took[0])
    return ProbeResult.ok(took[0], f"id sample renewed: {len(ids)} ids in {took[0]:.1f}s")


def _no_ids(target: MongoQueryTarget) -> str:
    return f"{target.database}.{target.collection} has no document with {target.id_field}"


def sample(target: MongoQueryTarget, timeout: float) -> ProbeResult:
    """The ``id_sample`` duty: renew the target's id sample when it is stale or empty,
    within ``timeout`` seconds; never raises. Nothing to do for a ``find``/``aggregate``."""
    if target.find is not None or target.aggregate is not None:
        return ProbeResult.ok(None, "no id sample needed (the target has its own query)")
    return _within(target, timeout, _renew)


def _forget_ids(target: MongoQueryTarget) -> None:
    """Renew the sample at the duty's next run (an id in it no longer exists)."""
    with _lock:
        _id_samples.pop(_key(target), None)


# --- the probe ----------------------------------------------------------------------------


@contextmanager
def _timed() -> Iterator[list[float]]:
    """``with _timed() as t: ...`` then ``t[0]`` is the seconds the block took."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def _run(target: MongoQueryTarget, client: Client) -> ProbeResult:
    coll = client[target.database][target.collection]
    if target.aggregate is not None:
        with _timed() as took:
            docs = coll.aggregate(target.aggregate).to_list()
        return ProbeResult.ok(took[0], f"aggregate returned {len(docs)} document(s)")
    if target.find is not None:
        with _timed() as took:
            docs = coll.find(target.find).to_list()
        if not docs:
            return ProbeResult.fail(Reason.NOT_FOUND, "find matched no document", took[0])
        return ProbeResult.ok(took[0], f"find returned {len(docs)} document(s)")
    ids = _sampled_ids(target)
    if ids is None:  # the id_sample duty has not delivered yet
        absent = f"edgesla-probe-{random.getrandbits(64):016x}"
        with _timed() as took:
            coll.find({target.id_field: absent}).limit(1).to_list()
        return ProbeResult.ok(took[0], "id sample not in yet: looked up an id that need not exist")
    if not ids:
        return ProbeResult.fail(Reason.NOT_FOUND, _no_ids(target))
    wanted = random.choice(ids)
    with _timed() as took:
        docs = coll.find({target.id_field: wanted}).limit(1).to_list()
    if not docs:
        _forget_ids(target)
        return ProbeResult.fail(
            Reason.NOT_FOUND, f"{target.id_field}={wanted!r} not found (was there)", took[0]
        )
    return ProbeResult.ok(took[0], f"found {target.id_field}={wanted!r}")


def probe(target: MongoQueryTarget, timeout: float) -> ProbeResult:
    """Run the target's query once within ``timeout`` seconds; never raises."""
    return _within(target, timeout, _run)


def _within(
    target: MongoQueryTarget,
    timeout: float,
    work: Callable[[MongoQueryTarget, Client], ProbeResult],
) -> ProbeResult:
    """``work`` with the target's client, all of it within ``timeout``; every failure a
    result (the probe and the duty never raise)."""
    client = client_or_failure(target, timeout)
    if isinstance(client, ProbeResult):
        return client
    try:
        with pymongo.timeout(timeout):
            return work(target, client)
    except Exception as exc:  # returned as a result, never raised
        return failure(exc)
