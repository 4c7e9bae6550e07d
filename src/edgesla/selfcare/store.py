"""What the endpoints ask of the backends, and the shapes they answer with.

Each function takes the open :class:`Backends` and returns plain JSON-ready data, ``None``
for an unknown subscriber, or raises :class:`BackendUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from edgesla import conventions as conv
from edgesla.selfcare.backends import Backends, PgNode, translated

__all__ = ["ContactUpdate", "billing", "subscriber", "update_email"]

#: Only what a customer portal shows: no session ids or addresses, no internal fields.
_PROJECTION = {"_id": 0, "subscriber": 1, "accountType": 1, "serviceLevel": 1,
               "services": 1, "devices": 1, "sessions.sessionId": 1}  # fmt: skip


def portal_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A subscriber document as the customer portal shows it."""
    sub = doc.get("subscriber") or {}
    return {
        "id": sub.get("id"),
        "type": sub.get("type"),
        "accountType": doc.get("accountType"),
        "serviceLevel": doc.get("serviceLevel"),
        "services": doc.get("services") or {},
        "devices": [
            {"type": d.get("type"), "model": d.get("model"), "mac": d.get("mac")}
            for d in doc.get("devices") or []
        ],
        "activeSessions": len(doc.get("sessions") or []),
    }


async def subscriber(backends: Backends, subscriber_id: str) -> dict[str, Any] | None:
    """The subscriber's document from MongoDB (by ``subscriber.id``), shaped for the portal."""
    with translated("mongodb"):
        doc = await backends.subscribers.find_one(
            {conv.MONGO_SUBSCRIBER_ID_FIELD: subscriber_id}, _PROJECTION
        )
    return None if doc is None else portal_view(doc)


async def billing(
    backends: Backends, subscriber_id: str, node: PgNode | None
) -> dict[str, Any] | None:
    """The billing account from ``node``, or from the next node round-robin."""

    async def read(conn: psycopg.AsyncConnection[Any]) -> tuple[Any, ...] | None:
        cur = await conn.execute(
            "SELECT plan, monthly_fee_cents, balance_cents, currency, billing_cycle_day"
            f" FROM public.{conv.PG_TABLE_BILLING} WHERE subscriber_id = %s",
            (subscriber_id,),
        )
        return await cur.fetchone()

    order = [node] if node is not None else backends.read_order()
    used, row = await backends.on_pg(order, read)
    if row is None:
        return None
    plan, fee, balance, currency, day = row
    return {
        "subscriberId": subscriber_id,
        "plan": plan,
        "monthlyFeeCents": fee,
        "balanceCents": balance,
        "currency": currency.strip(),
        "billingCycleDay": day,
        "node": used.label,
    }


@dataclass(frozen=True)
class ContactUpdate:
    """Outcome of a contact change. ``found`` False: unknown subscriber; ``applied`` False:
    a newer write (last-write-wins) already superseded it."""

    node: str
    found: bool
    applied: bool
    modified_at: str | None = None
    modified_by: str | None = None


async def update_email(backends: Backends, subscriber_id: str, email: str) -> ContactUpdate:
    """Write the e-mail on the next master round-robin; its LWW trigger stamps the row."""

    async def write(conn: psycopg.AsyncConnection[Any]) -> tuple[Any, ...] | None:
        cur = await conn.execute(
            f"UPDATE public.{conv.PG_TABLE_SUBSCRIBER} SET email = %s"
            " WHERE subscriber_id = %s RETURNING modified_at, modified_by",
            (email, subscriber_id),
        )
        row = await cur.fetchone()
        if row is None:  # unknown, or refused by last-write-wins: tell which
            cur = await conn.execute(
                f"SELECT 1 FROM public.{conv.PG_TABLE_SUBSCRIBER} WHERE subscriber_id = %s",
                (subscriber_id,),
            )
            return None if await cur.fetchone() is None else ()
        return tuple(row)

    used, row = await backends.on_pg(backends.write_order(), write)
    if row is None:
        return ContactUpdate(node=used.label, found=False, applied=False)
    if not row:
        return ContactUpdate(node=used.label, found=True, applied=False)
    return ContactUpdate(
        node=used.label,
        found=True,
        applied=True,
        modified_at=row[0].isoformat(),
        modified_by=row[1],
    )
