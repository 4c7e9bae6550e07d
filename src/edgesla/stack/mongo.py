"""The MongoDB-wire server (secantusdb, run as a separate process) with seeded subscribers."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

import pymongo
from pymongo.errors import PyMongoError

from edgesla import conventions as conv
from edgesla.stack.binaries import Binaries
from edgesla.stack.layout import HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn
from edgesla.stack.seed import subscriber_document

__all__ = ["check", "seed", "start", "uri"]

BATCH = 5_000


def uri(layout: Layout) -> str:
    return f"mongodb://{HOST}:{layout.mongo_port}/"


def start(layout: Layout, binaries: Binaries) -> ProcessRecord:
    storage = layout.data_dir / "mongo"
    storage.mkdir(parents=True, exist_ok=True)
    return spawn(
        [
            str(binaries.mongo_server),
            "--host",
            HOST,
            "--port",
            str(layout.mongo_port),
            "--storage-path",
            str(storage),
        ],
        layout.log_dir / "mongo.log",
    )


def client(layout: Layout, timeout_ms: int = 3000) -> pymongo.MongoClient[dict[str, object]]:
    return pymongo.MongoClient(
        uri(layout),
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        directConnection=True,
    )


def seed(layout: Layout, count: int, progress: Callable[[int], None]) -> None:
    """Insert ``count`` subscriber documents (unless already there) and index subscriber.id
    and the access identities (the load test's authentications look subscribers up by them)."""
    with client(layout, 10_000) as mc:
        coll = mc[conv.MONGO_DATABASE][conv.MONGO_SUBSCRIBERS]
        coll.create_index(conv.MONGO_SUBSCRIBER_ID_FIELD, unique=True, name="subscriber_id")
        for field in conv.MONGO_ACCESS_FIELDS:
            # sparse: a document upserted without them (a core sync) does not collide on null
            coll.create_index(field, unique=True, sparse=True, name=field.replace(".", "_"))
        docs = (subscriber_document(i) for i in range(count))
        while batch := list(islice(docs, BATCH)):
            coll.insert_many(batch, ordered=False)
            progress(len(batch))


def check(layout: Layout) -> tuple[bool, str]:
    """Answers a query on the subscribers collection: (ok, detail)."""
    try:
        with client(layout, 2000) as mc:
            version = mc.server_info().get("version", "?")
            count = mc[conv.MONGO_DATABASE][conv.MONGO_SUBSCRIBERS].estimated_document_count()
    except PyMongoError as exc:
        return False, f"no answer: {str(exc).splitlines()[0][:120]}"
    return True, f"MongoDB wire {version}, {count:,} subscribers"
