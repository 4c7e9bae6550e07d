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
      ``$sample`` across the whole collection, refreshed every ``ID_SAMPLE_MAX_AGE``
      seconds, outside the timer), so the probe does not hit the same cached document on
      every run, and a miss means the document really went away: ``not_found``.

Connections and errors
    One cached client per target, and the mapping of pymongo's exceptions to reasons,
    live in ``probes._mongo`` (shared with ``probes.mongodb_replication``). Every operation
    runs under ``pymongo.timeout(timeout)``, so server selection, connecting and the query
    together stay within the probe's budget. The probe never raises.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pymongo
from pymongo.errors import OperationFailure

from edgesla.config import MongoQueryTarget
from probes import _mongo
from probes._mongo import Client, client_or_failure, failure
from probes._result import ProbeResult, Reason

__all__ = ["ID_SAMPLE_MAX_AGE", "ID_SAMPLE_SIZE", "close_all", "probe"]

#: How many existing ids the default lookup picks from, and how often that sample is renewed.
ID_SAMPLE_SIZE = 1_000
ID_SAMPLE_MAX_AGE = 600.0


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
    pipeline = [
        {"$match": {id_field: {"$exists": True}}},
        {"$sample": {"size": ID_SAMPLE_SIZE}},
        {"$project": {id_field: 1, "_id": 0}},
    ]
    try:
        docs = coll.aggregate(pipeline).to_list()
    except OperationFailure:  # a server without $sample: the first ids will have to do
        projection = {id_field: 1, "_id": 0}
        docs = coll.find({id_field: {"$exists": True}}, projection).limit(ID_SAMPLE_SIZE)
        docs = docs.to_list()
    return tuple(v for v in (_dotted(d, id_field) for d in docs) if v is not None)


def _existing_ids(target: MongoQueryTarget, coll: Any) -> tuple[Any, ...]:
    key = (target.name, target.database, target.collection, target.id_field)
    cached = _id_samples.get(key)
    now = time.monotonic()
    if cached is not None and cached[1] and now - cached[0] < ID_SAMPLE_MAX_AGE:
        return cached[1]
    ids = _fetch_ids(coll, target.id_field)
    _id_samples[key] = (now, ids)
    return ids


def _forget_ids(target: MongoQueryTarget) -> None:
    """Renew the sample on the next run (an id in it no longer exists)."""
    _id_samples.pop((target.name, target.database, target.collection, target.id_field), None)


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
    ids = _existing_ids(target, coll)
    if not ids:
        return ProbeResult.fail(
            Reason.NOT_FOUND,
            f"{target.database}.{target.collection} has no document with {target.id_field}",
        )
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
    client = client_or_failure(target, timeout)
    if isinstance(client, ProbeResult):
        return client
    try:
        with pymongo.timeout(timeout):
            return _run(target, client)
    except Exception as exc:  # a probe returns every failure as a result, never raises
        return failure(exc)
