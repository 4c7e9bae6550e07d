"""`edgesla stack up | status` on the shared stack, as a user sees them."""

from __future__ import annotations

import json

import pymongo
import pytest

from edgesla.config import load_config
from edgesla.stack.layout import Layout
from tests.conftest import SHARED_BASE_PORT, SHARED_SUBSCRIBERS
from tests.helpers import edgesla, stack_up

pytestmark = pytest.mark.stack

COMPONENTS = [
    "pg-a", "pg-b", "etcd1", "etcd2", "etcd3", "mongo", "alertmanager", "prometheus", "selfcare",
    "exporter",
]  # fmt: skip


def test_status_exits_zero_and_lists_every_component(stack: Layout) -> None:
    result = edgesla("stack", "status", "--state-dir", str(stack.state_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in COMPONENTS:
        assert name in result.stdout
    assert "DOWN" not in result.stdout
    assert f"PoP config: {stack.state_dir}/pop.yaml" in result.stdout


def test_status_json_is_machine_readable(stack: Layout) -> None:
    result = edgesla("stack", "status", "--state-dir", str(stack.state_dir), "--json")
    doc = json.loads(result.stdout)
    assert result.returncode == 0
    assert doc["up"] is True
    assert doc["pop_config"] == str(stack.state_dir / "pop.yaml")
    assert [c["name"] for c in doc["components"]] == COMPONENTS
    assert all(c["pid"] > 0 and c["up"] for c in doc["components"])
    assert doc["components"][0]["address"] == f"127.0.0.1:{SHARED_BASE_PORT}"


def test_second_up_reports_the_running_stack_and_changes_nothing(stack: Layout) -> None:
    before = json.loads(
        edgesla("stack", "status", "--state-dir", str(stack.state_dir), "--json").stdout
    )
    result = stack_up(stack.state_dir, SHARED_BASE_PORT, "--json")
    doc = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert doc["already_running"] is True
    assert [c["pid"] for c in doc["components"]] == [c["pid"] for c in before["components"]]


def test_pop_config_describes_the_stack_targets(stack: Layout) -> None:
    config = load_config(stack.state_dir / "pop.yaml")
    probers = {t.name: t.prober for t in config.targets}
    assert probers == {
        "subscribers-lookup": "mongodb_query",
        "subscribers-replset": "mongodb_replication",
        "pg-a-billing-lookup": "postgres_query",
        "pg-b-billing-lookup": "postgres_query",
        "pg-multimaster": "postgres_replication",
        "pg-convergence": "postgres_convergence",
        "etcd": "etcd",
    }


def test_mongo_holds_seeded_subscribers_indexed_by_id(stack: Layout) -> None:
    with pymongo.MongoClient(
        f"mongodb://127.0.0.1:{stack.mongo_port}/", directConnection=True
    ) as mc:
        coll = mc["edge"]["subscribers"]
        assert coll.count_documents({}) == SHARED_SUBSCRIBERS
        assert any(ix["key"] == {"subscriber.id": 1} for ix in coll.list_indexes())
        doc = coll.find_one({"subscriber.id": "2000042"})
        assert doc is not None
        assert doc["subscriber"]["type"] == "endcustomer"
        assert doc["accountType"] in {"residential", "business"}
        assert set(doc["services"]) == {"voice", "data", "video"}
        assert {"mac", "type", "model", "prov"} <= set(doc["devices"][0])
        assert isinstance(doc["sessions"], list)
