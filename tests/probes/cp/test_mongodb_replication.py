"""mongodb_replication: live against the local stack, and on recorded replSetGetStatus documents.

No multi-member MongoDB replica set can run on these machines: the stack's MongoDB-wire
server (secantusdb) is a one-member set, and a real mongod cannot be downloaded here. So the
live tests cover the one-member set and a standalone server, and the lag arithmetic is tested
on recorded documents in ``tests/testdata/mongodb``: one recorded from the stack's server,
the three-member ones shaped on it plus MongoDB's documented ``replSetGetStatus`` format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bson import json_util

from edgesla import conventions as conv
from edgesla.config import MongoReplicationTarget
from edgesla.probes import mongodb_replication
from edgesla.probes._result import ProbeResult, Reason
from edgesla.stack.layout import Layout
from tests.probes.cp.conftest import free_port

DATA = Path(__file__).parents[2] / "testdata" / "mongodb"
PRIMARY = "pop-mongo-1.edge.example:27017"
BEHIND = "pop-mongo-2.edge.example:27017"
AHEAD = "pop-mongo-3.edge.example:27017"


def recorded(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json_util.loads((DATA / f"{name}.json").read_text())
    return doc


def values(result: ProbeResult, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for s in result.samples if s.name == name}


def lags(result: ProbeResult) -> dict[str, float]:
    return {
        s.labels["member"]: s.value
        for s in result.samples
        if s.name == conv.MONGO_MEMBER_LAG_SECONDS
    }


def _target(uri: str) -> MongoReplicationTarget:
    return MongoReplicationTarget(name="replset", prober="mongodb_replication", uri=uri)


# --- live ---------------------------------------------------------------------------------


@pytest.mark.stack
def test_live_one_member_set_has_a_primary_and_succeeds(stack: Layout) -> None:
    result = mongodb_replication.probe(_target(f"mongodb://127.0.0.1:{stack.mongo_port}/"), 2.0)
    assert result.success, result.detail
    assert result.latency_seconds is not None
    assert 0 < result.latency_seconds < 2.0
    member = f"127.0.0.1:{stack.mongo_port}"
    assert values(result, conv.MONGO_PRIMARY_PRESENT) == {(): 1.0}
    assert values(result, conv.MONGO_MEMBER_HEALTH) == {(("member", member),): 1.0}
    assert values(result, conv.MONGO_MEMBER_STATE) == {
        (("member", member), ("state", "PRIMARY")): 1.0
    }
    assert lags(result) == {}  # nobody to lag behind the primary


@pytest.mark.stack
def test_live_standalone_server_is_a_clear_config_failure(standalone_mongo: str) -> None:
    result = mongodb_replication.probe(_target(standalone_mongo), 2.0)
    assert (result.success, result.reason) == (False, Reason.CONFIG)
    assert "NoReplicationEnabled" in result.detail
    assert "standalone" in result.detail


def test_closed_port_is_refused() -> None:
    result = mongodb_replication.probe(_target(f"mongodb://127.0.0.1:{free_port()}/"), 0.5)
    assert (result.success, result.reason) == (False, Reason.REFUSED), result.detail


# --- recorded documents -------------------------------------------------------------------


def test_recorded_secantusdb_document_evaluates_like_the_live_one() -> None:
    """Recorded from the local stack's secantusdb (a one-member set)."""
    result = mongodb_replication.evaluate(recorded("replset-secantusdb-1-member"))
    assert result.success
    assert result.detail == "set secantus: 1 member(s), primary 127.0.0.1:19849"


def test_lag_is_signed_and_sub_second_a_secondary_ahead_is_not_lagging() -> None:
    """Recorded-shape 3-member document (no multi-member set can run here): one secondary
    2.5 s behind, one 0.3 s ahead. mongodb_exporter's abs() (#1362) would show +0.3."""
    result = mongodb_replication.evaluate(recorded("replset-3-members-behind-and-ahead"), 0.004)
    assert result.success, result.detail
    assert result.latency_seconds == 0.004
    assert lags(result) == pytest.approx({BEHIND: 2.5, AHEAD: -0.3}, abs=1e-6)
    assert values(result, conv.MONGO_PRIMARY_PRESENT) == {(): 1.0}
    states = values(result, conv.MONGO_MEMBER_STATE)
    assert states == {
        (("member", PRIMARY), ("state", "PRIMARY")): 1.0,
        (("member", BEHIND), ("state", "SECONDARY")): 1.0,
        (("member", AHEAD), ("state", "SECONDARY")): 1.0,
    }
    assert set(values(result, conv.MONGO_MEMBER_HEALTH).values()) == {1.0}
    assert f"max lag +2.500s ({BEHIND})" in result.detail


def test_lag_falls_back_to_whole_second_optime_timestamps() -> None:
    """Same recorded-shape document without optimeDate (older servers): ts has seconds only."""
    doc = recorded("replset-3-members-behind-and-ahead")
    for member in doc["members"]:
        del member["optimeDate"]
    result = mongodb_replication.evaluate(doc)
    assert lags(result) == {BEHIND: 2.0, AHEAD: 0.0}


def test_no_primary_is_unhealthy_and_has_no_lag() -> None:
    """Recorded-shape 3-member document asked on a secondary while the primary is down."""
    result = mongodb_replication.evaluate(recorded("replset-3-members-no-primary"))
    assert (result.success, result.reason) == (False, Reason.UNHEALTHY)
    assert values(result, conv.MONGO_PRIMARY_PRESENT) == {(): 0.0}
    assert lags(result) == {}
    assert "no primary" in result.detail
    assert values(result, conv.MONGO_MEMBER_HEALTH)[(("member", PRIMARY),)] == 0.0


def test_an_unreachable_member_is_unhealthy_and_its_epoch_optime_is_no_lag() -> None:
    """Recorded-shape 3-member document: primary, a secondary 0.12 s behind, one unreachable."""
    result = mongodb_replication.evaluate(recorded("replset-3-members-one-unreachable"))
    assert (result.success, result.reason) == (False, Reason.UNHEALTHY)
    assert f"unhealthy: {AHEAD}" in result.detail
    health = values(result, conv.MONGO_MEMBER_HEALTH)
    assert health[(("member", AHEAD),)] == 0.0
    assert (
        values(result, conv.MONGO_MEMBER_STATE)[
            (("member", AHEAD), ("state", "(not reachable/healthy)"))
        ]
        == 1.0
    )
    assert lags(result) == pytest.approx({BEHIND: 0.12}, abs=1e-6)


def test_evaluate_of_an_odd_document_does_not_raise() -> None:
    assert mongodb_replication.evaluate({}).reason == Reason.UNHEALTHY
    assert mongodb_replication.evaluate({"members": [{"name": "x"}]}).success is False
