"""The self-care demo service, run as a real uvicorn process against the real local stack."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pymongo
import pytest
import requests

from edgesla import conventions as conv
from edgesla.selfcare import check
from edgesla.stack.layout import Layout
from edgesla.stack.seed import subscriber_document, subscriber_rows
from tests.chaos.netfaults import DelayProxy
from tests.helpers import eventually

pytestmark = pytest.mark.stack

SEEDED_INDEX = 42
SEEDED_ID = "2000042"
UNKNOWN_ID = "1999999"


def _email(conn: psycopg.Connection, subscriber_id: str) -> Any:
    row = conn.execute(
        "SELECT email FROM public.subscriber WHERE subscriber_id = %s", (subscriber_id,)
    ).fetchone()
    return None if row is None else row[0]


def _replicated(conn: psycopg.Connection, email: str) -> Callable[[], bool]:
    return lambda: _email(conn, SEEDED_ID) == email


def test_healthz_answers_200_with_every_backend(selfcare: str) -> None:
    response = requests.get(f"{selfcare}/healthz", timeout=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert {b["name"]: b["ok"] for b in body["backends"]} == {
        "mongodb": True,
        "pg-a": True,
        "pg-b": True,
    }
    ok, detail = check(selfcare, timeout=5)
    assert ok, detail


def test_healthz_is_not_fooled_by_a_connection_the_server_closed(
    selfcare_proxied: str, mongo_proxy: DelayProxy
) -> None:
    """MongoDB hangs up the pooled connection as the ping arrives (what its idle timeout does,
    secantusdb's after 300 s): the ping is retried on a new connection, MongoDB is up."""
    assert requests.get(f"{selfcare_proxied}/healthz", timeout=5).status_code == 200
    mongo_proxy.hang_up_at(b"ping")
    response = requests.get(f"{selfcare_proxied}/healthz", timeout=5)
    assert mongo_proxy.hung_up == 1
    assert response.status_code == 200, response.text


def test_lookup_returns_the_seeded_document(selfcare: str, stack: Layout) -> None:
    seeded = subscriber_document(SEEDED_INDEX)
    # the load tests on the shared stack start and stop sessions on random subscribers: the
    # service must answer with the sessions the document holds now, not the seeded ones
    with pymongo.MongoClient(f"mongodb://127.0.0.1:{stack.mongo_port}/", directConnection=True,
                             serverSelectionTimeoutMS=5000) as client:  # fmt: skip
        stored = client[conv.MONGO_DATABASE][conv.MONGO_SUBSCRIBERS].find_one(
            {conv.MONGO_SUBSCRIBER_ID_FIELD: SEEDED_ID}
        )
    assert stored is not None
    response = requests.get(f"{selfcare}/api/v1/subscribers/{SEEDED_ID}", timeout=5)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": SEEDED_ID,
        "type": "endcustomer",
        "accountType": seeded["accountType"],
        "serviceLevel": seeded["serviceLevel"],
        "services": seeded["services"],
        "devices": [
            {"type": d["type"], "model": d["model"], "mac": d["mac"]} for d in seeded["devices"]
        ],
        "activeSessions": len(stored.get("sessions") or []),
    }


def test_unknown_subscriber_is_404(selfcare: str) -> None:
    for path in (UNKNOWN_ID, f"{UNKNOWN_ID}/billing"):
        response = requests.get(f"{selfcare}/api/v1/subscribers/{path}", timeout=5)
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"


def test_billing_reads_round_robin_or_from_the_named_node(selfcare: str) -> None:
    row = next(r for i, r in enumerate(subscriber_rows(SEEDED_INDEX + 1)) if i == SEEDED_INDEX)
    expected = {"subscriberId": SEEDED_ID, "plan": row[6], "monthlyFeeCents": row[7],
                "balanceCents": 0, "currency": "EUR", "billingCycleDay": row[8]}  # fmt: skip
    url = f"{selfcare}/api/v1/subscribers/{SEEDED_ID}/billing"
    nodes = set()
    for _ in range(2):
        response = requests.get(url, timeout=5)
        assert response.status_code == 200, response.text
        body = response.json()
        nodes.add(body.pop("node"))
        assert body == expected
    assert nodes == {"pg-a", "pg-b"}
    pinned = requests.get(url, params={"node": "pg-b"}, timeout=5)
    assert pinned.status_code == 200
    assert pinned.json()["node"] == "pg-b"
    unknown = requests.get(url, params={"node": "pg-z"}, timeout=5)
    assert unknown.status_code == 422
    assert "pg-z" in unknown.json()["detail"]


def test_contact_update_alternates_masters_and_replicates(
    selfcare: str, pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    conns = {"pg-a": pg_a, "pg-b": pg_b}
    url = f"{selfcare}/api/v1/subscribers/{SEEDED_ID}/contact"
    took = []
    for _ in range(2):
        email = f"selfcare-{uuid.uuid4().hex[:8]}@example.net"
        response = requests.put(url, json={"email": email}, timeout=5)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["email"] == email
        assert body["modifiedBy"] == body["node"]  # stamped by that master's LWW trigger
        took.append(body["node"])
        assert _email(conns[body["node"]], SEEDED_ID) == email
        (peer,) = set(conns) - {body["node"]}
        eventually(_replicated(conns[peer], email))
    assert sorted(took) == ["pg-a", "pg-b"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"email": 42}',
        b'{"email": "no-at-sign"}',
        b'{"email": "a@example.net", "phone": "1"}',
    ],
)
def test_invalid_contact_body_is_422(selfcare: str, body: bytes) -> None:
    response = requests.put(
        f"{selfcare}/api/v1/subscribers/{SEEDED_ID}/contact", data=body, timeout=5
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"


def test_contact_update_of_unknown_subscriber_is_404(selfcare: str) -> None:
    response = requests.put(
        f"{selfcare}/api/v1/subscribers/{UNKNOWN_ID}/contact",
        json={"email": "nobody@example.net"},
        timeout=5,
    )
    assert response.status_code == 404, response.text


def test_mongodb_unreachable_is_503_not_a_traceback(selfcare_no_mongo: str) -> None:
    """A second instance pointed at a closed port: the shared stack is never stopped."""
    health = requests.get(f"{selfcare_no_mongo}/healthz", timeout=5)
    assert health.status_code == 503
    states = {b["name"]: b["ok"] for b in health.json()["backends"]}
    assert states == {"mongodb": False, "pg-a": True, "pg-b": True}
    ok, detail = check(selfcare_no_mongo, timeout=5)
    assert not ok
    assert "mongodb" in detail

    lookup = requests.get(f"{selfcare_no_mongo}/api/v1/subscribers/{SEEDED_ID}", timeout=5)
    assert lookup.status_code == 503
    body = lookup.json()
    assert body["error"] == "backend_unavailable"
    assert body["backend"] == "mongodb"
    assert "Traceback" not in lookup.text
    # PostgreSQL paths keep working without MongoDB
    billing = requests.get(f"{selfcare_no_mongo}/api/v1/subscribers/{SEEDED_ID}/billing", timeout=5)
    assert billing.status_code == 200
