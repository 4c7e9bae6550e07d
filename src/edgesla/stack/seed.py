"""Synthetic subscribers shaped like the seed document's JSON example.

Deterministic for a given count: the same subscriber ids land in MongoDB (documents) and
PostgreSQL (master data and billing), so load tests can look one up in either store.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

__all__ = [
    "FIRST_SUBSCRIBER_ID",
    "access_identity",
    "subscriber_document",
    "subscriber_id",
    "subscriber_rows",
]

FIRST_SUBSCRIBER_ID = 2_000_000
_SERVICE_LEVELS = {
    "residential": ("basic_dsl_100", "fiber_300", "premium_fiber_1000"),
    "business": ("business_fiber_1000", "business_fiber_10000"),
}
_FEES = {"basic_dsl_100": 2999, "fiber_300": 4499, "premium_fiber_1000": 6999,
         "business_fiber_1000": 14900, "business_fiber_10000": 49900}  # fmt: skip
_DEVICES = (("router", "FB5690-pro", "tr069"), ("stb", "NVshield-pro", "manual"),
            ("ont", "GPON-X1", "omci"), ("phone", "DECT-C6", "tr069"))  # fmt: skip
_VOICE = ("caller_id", "voicemail", "call_forwarding", "conference")
_VIDEO = ("sports_package", "hd_channels", "kids", "cinema")
_FIRST = ("Anna", "Ben", "Chiara", "Deniz", "Emil", "Fatma", "Goran", "Hana", "Ivo", "Jana")
_LAST = ("Meyer", "Novak", "Rossi", "Yilmaz", "Schmidt", "Kowalski", "Berg", "Costa")
BUSINESS_SHARE = 0.08
REALM = "pop.example.net"


def subscriber_id(index: int) -> str:
    """The id of the ``index``-th synthetic subscriber (0-based)."""
    return str(FIRST_SUBSCRIBER_ID + index)


def access_identity(index: int) -> dict[str, str]:
    """How the BNG identifies the ``index``-th subscriber's line in an Access-Request: a
    PPPoE User-Name and the access node's circuit id (Agent-Circuit-Id, RFC 4679: access
    node, slot/port, ONU), both unique."""
    node, rest = divmod(index, 4096)
    slot, onu = divmod(rest, 128)
    return {
        "username": f"{subscriber_id(index)}@{REALM}",
        "circuitId": f"olt-{node:04d} xpon 0/{slot + 1}/{onu + 1}",
    }


def _mac(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


def _ipv4(rng: random.Random) -> str:
    return f"46.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def subscriber_document(index: int) -> dict[str, Any]:
    rng = random.Random(index)
    account = "business" if rng.random() < BUSINESS_SHARE else "residential"
    ip = _ipv4(rng)
    devices = [
        {"mac": _mac(rng), "type": kind, "model": model, "prov": prov}
        for kind, model, prov in rng.sample(_DEVICES, rng.randint(1, 3))
    ]
    sessions = [
        {"sessionId": f"sess_{index}_{n}", "startTime": "", "ipAddress": ip}
        for n in range(rng.randint(0, 2))
    ]
    return {
        "subscriber": {"id": subscriber_id(index), "type": "endcustomer"},
        "access": access_identity(index),
        "accountType": account,
        "serviceLevel": rng.choice(_SERVICE_LEVELS[account]),
        "devices": devices,
        "services": {
            "voice": {"enabled": rng.random() < 0.6, "features": rng.sample(_VOICE, 2)},
            "data": {"plan": "unlimited", "ipv4": ip},
            "video": {"subscriptions": rng.sample(_VIDEO, rng.randint(0, 2))},
        },
        "sessions": sessions,
    }


def subscriber_rows(count: int) -> Iterator[tuple[object, ...]]:
    """PostgreSQL rows: (id, type, account, service level, name, email, plan, fee, cycle day)."""
    for index in range(count):
        doc = subscriber_document(index)
        rng = random.Random(-index - 1)
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        sid = doc["subscriber"]["id"]
        level = doc["serviceLevel"]
        yield (
            sid,
            "endcustomer",
            doc["accountType"],
            level,
            name,
            f"subscriber{sid}@example.net",
            level,
            _FEES[level],
            rng.randint(1, 28),
        )
