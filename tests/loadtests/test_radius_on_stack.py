"""The RADIUS operations (auth_lookup, session_start, acct_interim, session_stop) against
the real local stack's MongoDB-wire server, through `edgesla loadtest` as a user runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edgesla import conventions as conv
from edgesla.loadtests.profile import RADIUS_OPERATIONS
from edgesla.loadtests.results import read_results
from edgesla.stack import mongo
from edgesla.stack.layout import Layout
from edgesla.stack.seed import access_identity
from tests.helpers import edgesla
from tests.loadtests.checks import people_output, reconciled

pytestmark = [pytest.mark.stack]

ACCOUNTING = ("auth_lookup", "session_start", "acct_interim", "session_stop")


def _subscribers(stack: Layout) -> Any:
    client = mongo.client(stack)
    return client, client[conv.MONGO_DATABASE][conv.MONGO_SUBSCRIBERS]


def test_seeded_subscribers_carry_an_indexed_access_identity(stack: Layout) -> None:
    client, coll = _subscribers(stack)
    with client:
        doc = coll.find_one({conv.MONGO_SUBSCRIBER_ID_FIELD: "2000042"})
        assert doc is not None
        assert doc["access"] == access_identity(42)
        for field in conv.MONGO_ACCESS_FIELDS:
            value = access_identity(42)[field.removeprefix("access.")]
            plan = coll.find({field: value}).explain()["queryPlanner"]["winningPlan"]
            assert plan["inputStage"]["stage"] == "IXSCAN", (field, plan)
            assert plan["inputStage"]["keyPattern"] == {field: 1}


def _sessions_updated(coll: Any) -> int:
    """Sessions open before the run (seeded ``sess_…``) that an interim update touched."""
    docs = coll.aggregate(
        [
            {"$unwind": "$sessions"},
            {"$match": {"sessions.inputOctets": {"$gt": 0}}},
            {"$group": {"_id": None, "n": {"$sum": 1}}},
        ]
    ).to_list()
    return int(docs[0]["n"]) if docs else 0


def test_accounting_traffic_at_the_full_busy_hour_rate(stack: Layout, tmp_path: Path) -> None:
    """The default PoP's busy hour of RADIUS traffic (160 interim updates/s, 3.9 logins/s,
    3.7 starts and stops/s): every request succeeds against the real store, and the
    interim updates land on the sessions' counters."""
    client, coll = _subscribers(stack)
    with client:
        before = _sessions_updated(coll)
        out = tmp_path / "radius"
        result = edgesla(
            "loadtest", "--config", str(stack.pop_config), "--duration", "6s",
            "--operations", ",".join(ACCOUNTING), "--rate-scale", "1", "--out", str(out),
            timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        results = read_results(out)
        assert set(results.operations) == set(ACCOUNTING)
        for name, op in results.operations.items():
            assert op.failed == 0, (name, op.failures)
        assert results.operations["acct_interim"].requests > 400  # 160/s over the schedule
        assert results.operations["auth_lookup"].requests > 0
        reconciled(results)
        people_output(result.stderr)
        assert _sessions_updated(coll) > before


def test_spike_is_an_authentication_and_accounting_start_storm(
    stack: Layout, tmp_path: Path
) -> None:
    """A short storm of a 2,000-subscriber PoP: 10 % of its 1,920 busy-hour sessions (192)
    reconnect within 8 s; each is an accounting start and 1.05 Access-Requests. The base
    alone would be about one start in the whole run."""
    traffic = tmp_path / "storm.yaml"
    traffic.write_text(
        "version: 1\npop: {subscribers: 2000}\n"
        "load: {spike: {share: 0.1, at: 1s, window: 8s, ramp: 2s}}\n"
    )
    out = tmp_path / "storm"
    result = edgesla(
        "loadtest", "--config", str(stack.pop_config), "--profile", "spike", "--duration",
        "9s", "--traffic", str(traffic), "--operations", "auth_lookup,session_start",
        "--out", str(out), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    results = read_results(out)
    starts = results.operations["session_start"]
    logins = results.operations["auth_lookup"]
    assert starts.failed == logins.failed == 0, (starts.failures, logins.failures)
    assert 130 <= starts.requests <= 260, starts.requests  # 192 expected, Poisson-thinned
    assert 0.8 <= logins.requests / starts.requests <= 1.35
    assert results.meta.profile == "spike"
    reconciled(results)


def test_radius_operations_are_known_to_the_cli(stack: Layout, tmp_path: Path) -> None:
    result = edgesla(
        "loadtest", "--config", str(stack.pop_config), "--out", str(tmp_path / "never"),
        "--operations", "acct_stop",
    )  # fmt: skip
    assert result.returncode == 2
    assert all(op in result.stderr for op in RADIUS_OPERATIONS)
    assert not (tmp_path / "never").exists()


def test_a_profile_with_an_interim_interval_of_0_is_exit_2(stack: Layout, tmp_path: Path) -> None:
    traffic = tmp_path / "traffic.yaml"
    traffic.write_text("version: 1\npop:\n  radius: {interim_interval: 0s}\n")
    out = tmp_path / "never"
    result = edgesla(
        "loadtest", "--config", str(stack.pop_config), "--out", str(out),
        "--traffic", str(traffic),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pop.radius.interim_interval" in result.stderr
    assert "RFC 2869" in result.stderr
    assert not out.exists()
