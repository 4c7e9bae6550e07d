"""mongodb_query against the real MongoDB-wire server of the shared local stack."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from edgesla.config import MongoQueryTarget
from edgesla.probes import _mongo, mongodb_query
from edgesla.probes._result import Reason
from edgesla.probes.registry import DUTIES
from edgesla.stack.layout import Layout
from tests.probes.cp.conftest import free_port, start_mongo_server

pytestmark = pytest.mark.stack

SUBSCRIBER_IDS = {str(2_000_000 + i) for i in range(2_000)}
SCRATCH_DB = "edgesla_cp_probe_tests"


def _target(uri: str, **extra: Any) -> MongoQueryTarget:
    return MongoQueryTarget(name="subscribers-lookup", prober="mongodb_query", uri=uri, **extra)


@pytest.fixture
def uri(stack: Layout) -> str:
    return f"mongodb://127.0.0.1:{stack.mongo_port}/"


@pytest.fixture
def scratch(uri: str) -> Iterator[pymongo.collection.Collection[dict[str, Any]]]:
    """A collection of our own in a database of our own, dropped afterwards."""
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000) as client:
        client.drop_database(SCRATCH_DB)
        yield client[SCRATCH_DB]["subscribers"]
        client.drop_database(SCRATCH_DB)


def _found_id(detail: str) -> str:
    match = re.search(r"subscriber\.id='(\d+)'", detail)
    assert match, detail
    return match.group(1)


def test_default_lookup_finds_random_existing_subscribers(uri: str) -> None:
    target = _target(uri)
    assert mongodb_query.sample(target, 5.0).success  # the exporter's id_sample duty
    results = [mongodb_query.probe(target, 2.0) for _ in range(20)]
    assert all(r.success for r in results), [r.detail for r in results if not r.success]
    assert all(r.reason is None for r in results)
    latencies = [r.latency_seconds for r in results]
    assert all(lat is not None and 0 < lat < 2.0 for lat in latencies), latencies
    found = {_found_id(r.detail) for r in results}
    assert found <= SUBSCRIBER_IDS
    assert len(found) > 1, "the default lookup should pick a random subscriber each run"


def test_clients_are_pooled_per_target_and_closed_by_close_all(
    uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _target(uri)
    first = _mongo.client_for(target, 2.0)
    assert _mongo.client_for(target, 2.0) is first
    assert _mongo.client_for(target, 0.7) is first  # a /probe's own timeout: the same client
    monkeypatch.setenv("EDGESLA_TEST_MONGO_PASSWORD", "one")
    secret = _target(uri, username="probe", password_env="EDGESLA_TEST_MONGO_PASSWORD")
    before = _mongo.client_for(secret, 2.0)
    monkeypatch.setenv("EDGESLA_TEST_MONGO_PASSWORD", "two")
    assert _mongo.client_for(secret, 2.0) is not before  # password rotated: a new client
    mongodb_query.close_all()
    assert mongodb_query.probe(target, 2.0).success  # a fresh client after close_all


def test_closing_the_clients_of_a_server_that_is_gone_does_not_wait_for_it() -> None:
    """``MongoClient.close()`` ends its sessions on a server it must select first: with the
    server gone, it blocks for the whole server-selection timeout — the exporter's SIGTERM
    took 20 s while the stack's MongoDB stopped. ``close_all`` waits at most a second."""
    server_port = free_port()
    server = start_mongo_server(server_port)
    try:
        client = _mongo.client_for(_target(f"mongodb://127.0.0.1:{server_port}/"), 5.0)
        client.admin.command("ping")  # an implicit session, to be ended on close
    finally:
        server.kill()
        server.wait(5)
    started = time.monotonic()
    _mongo.close_all()
    assert time.monotonic() - started < _mongo.CLOSE_WAIT_SECONDS + 1.0  # was 5 s
    # the close goes on in the background; its sockets must not close in a later test
    for thread in threading.enumerate():
        if thread.name == "mongo-close":
            thread.join(10)
            assert not thread.is_alive()


def test_before_the_first_id_sample_the_lookup_still_asks_the_server(uri: str) -> None:
    mongodb_query.close_all()  # forgets every sample
    result = mongodb_query.probe(_target(uri), 2.0)
    assert result.success, result.detail
    assert result.detail == "id sample not in yet: looked up an id that need not exist"
    assert result.latency_seconds is not None
    closed = mongodb_query.probe(_target(f"mongodb://127.0.0.1:{free_port()}/"), 1.0)
    assert (closed.success, closed.reason) == (False, Reason.REFUSED)  # not a free pass


def test_the_id_sample_duty_renews_only_a_stale_sample(uri: str) -> None:
    mongodb_query.close_all()
    target = _target(uri)
    first = mongodb_query.sample(target, 5.0)
    assert first.success, first.detail
    assert re.fullmatch(r"id sample renewed: 1000 ids in \d+\.\ds", first.detail)
    again = mongodb_query.sample(target, 5.0)
    assert again.detail == "id sample of 1000 ids is current"
    own = mongodb_query.sample(_target(uri, find={"subscriber.id": "2000005"}), 5.0)
    assert own.detail == "no id sample needed (the target has its own query)"


def test_the_registry_gives_the_id_sample_a_budget_beyond_a_probe_deadline() -> None:
    (duty,) = DUTIES["mongodb_query"]
    assert (duty.name, duty.fn, duty.budget) == ("id_sample", mongodb_query.sample, 60.0)
    assert duty.every is not None
    assert duty.every(None) == mongodb_query.ID_SAMPLE_CHECK_EVERY


def test_find_filter_runs_and_is_consumed(uri: str) -> None:
    result = mongodb_query.probe(_target(uri, find={"subscriber.id": "2000005"}), 2.0)
    assert result.success, result.detail
    assert result.detail == "find returned 1 document(s)"
    assert result.latency_seconds is not None
    assert result.latency_seconds > 0


def test_aggregate_pipeline_runs(uri: str) -> None:
    pipeline = [{"$group": {"_id": "$accountType", "n": {"$sum": 1}}}]
    result = mongodb_query.probe(_target(uri, aggregate=pipeline), 2.0)
    assert result.success, result.detail
    assert re.fullmatch(r"aggregate returned [12] document\(s\)", result.detail)


def test_find_matching_nothing_is_not_found(uri: str) -> None:
    result = mongodb_query.probe(_target(uri, find={"subscriber.id": "no-such-id"}), 2.0)
    assert (result.success, result.reason) == (False, Reason.NOT_FOUND)
    assert result.latency_seconds is not None  # the query ran and was timed


def test_aggregate_with_empty_result_is_still_success(uri: str) -> None:
    pipeline = [{"$match": {"accountType": "no-such-type"}}]
    result = mongodb_query.probe(_target(uri, aggregate=pipeline), 2.0)
    assert result.success, result.detail
    assert result.detail == "aggregate returned 0 document(s)"


def test_default_lookup_on_an_empty_collection_is_not_found(uri: str) -> None:
    target = _target(uri, database=SCRATCH_DB, collection="nothing-here")
    sampled = mongodb_query.sample(target, 2.0)
    assert (sampled.success, sampled.reason) == (False, Reason.NOT_FOUND)
    result = mongodb_query.probe(target, 2.0)
    assert (result.success, result.reason) == (False, Reason.NOT_FOUND)
    assert "has no document with subscriber.id" in result.detail


def test_default_lookup_of_a_subscriber_that_went_away_is_not_found(
    uri: str, scratch: pymongo.collection.Collection[dict[str, Any]]
) -> None:
    scratch.insert_one({"subscriber": {"id": "4200000"}})
    target = _target(uri, database=SCRATCH_DB)
    assert mongodb_query.sample(target, 2.0).success  # samples the one existing id
    assert mongodb_query.probe(target, 2.0).success
    scratch.delete_many({})
    result = mongodb_query.probe(target, 2.0)
    assert (result.success, result.reason) == (False, Reason.NOT_FOUND)
    assert "4200000" in result.detail


def test_a_query_the_server_rejects_is_query_error(uri: str) -> None:
    result = mongodb_query.probe(_target(uri, aggregate=[{"$noSuchStage": {}}]), 2.0)
    assert (result.success, result.reason) == (False, Reason.QUERY_ERROR)


def test_rejected_credentials_are_auth(uri: str, tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("wrong\n")
    target = _target(uri, username="nobody", password_file=password)
    result = mongodb_query.probe(target, 2.0)
    assert (result.success, result.reason) == (False, Reason.AUTH), result.detail
    assert "wrong" not in result.detail


def test_unreadable_password_file_is_config(uri: str, tmp_path: Path) -> None:
    target = _target(uri, username="edge", password_file=tmp_path / "missing")
    result = mongodb_query.probe(target, 2.0)
    assert (result.success, result.reason) == (False, Reason.CONFIG)
    assert "password_file" in result.detail


def test_closed_port_is_refused_within_the_timeout() -> None:
    target = _target(f"mongodb://127.0.0.1:{free_port()}/")
    start = time.monotonic()
    result = mongodb_query.probe(target, 1.0)
    assert time.monotonic() - start < 2.0
    assert (result.success, result.reason) == (False, Reason.REFUSED), result.detail
    assert result.latency_seconds is None


@pytest.mark.parametrize(
    "garbage", ["mongodb://", "mongodb://[::1", "mongodb://host:notaport/", "postgres://x/"]
)
def test_never_raises_on_a_garbage_uri(garbage: str) -> None:
    # model_construct skips validation: the probe must survive what the config would reject
    target = MongoQueryTarget.model_construct(
        name="garbage",
        prober="mongodb_query",
        uri=garbage,
        database="edge",
        collection="subscribers",
        id_field="subscriber.id",
        find=None,
        aggregate=None,
        username=None,
        password_file=None,
        password_env=None,
        tls=False,
        tls_ca_file=None,
    )
    result = mongodb_query.probe(target, 0.5)
    assert (result.success, result.reason) == (False, Reason.CONFIG), result.detail


def test_missing_tls_ca_file_is_config(uri: str, tmp_path: Path) -> None:
    target = _target(uri, tls=True, tls_ca_file=tmp_path / "no-ca.pem")
    result = mongodb_query.probe(target, 1.0)
    assert (result.success, result.reason) == (False, Reason.CONFIG), result.detail
