"""Targets pointing at the shared local stack's two PostgreSQL masters, and sample look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg

from edgesla import conventions as conv
from edgesla.config import PostgresNode, PostgresQueryTarget, PostgresReplicationTarget
from edgesla.probes import _pg
from edgesla.probes._result import ProbeResult, Sample
from edgesla.stack.layout import HOST, PG_NODES, Layout

SUB_ON_A = "sub_pg_a_from_pg_b"  # applies pg-b's changes on pg-a
SUB_ON_B = "sub_pg_b_from_pg_a"  # applies pg-a's changes on pg-b
BILLING_LOOKUP = "SELECT plan, balance_cents FROM public.billing_account LIMIT 1"


def dsn(layout: Layout, node: str, user: str = "postgres") -> str:
    return f"host={HOST} port={layout.pg_port(node)} dbname=edgesla user={user}"


def query_target(dsn: str, query: str = BILLING_LOOKUP, **extra: object) -> PostgresQueryTarget:
    return PostgresQueryTarget.model_validate(
        {
            "name": "pg-lookup",
            "prober": "postgres_query",
            "dsn": dsn,
            "query": query,
            "sslmode": "disable",
            **extra,
        }
    )


def replication_target(
    layout: Layout, user: str = "postgres", names: tuple[str, ...] = PG_NODES, **extra: object
) -> PostgresReplicationTarget:
    """The stack's two masters; ``names`` are the origins the beats are written as."""
    nodes = tuple(
        PostgresNode.model_validate(
            {"name": name, "dsn": dsn(layout, node, user), "sslmode": "disable", **extra}
        )
        for name, node in zip(names, PG_NODES, strict=True)
    )
    return PostgresReplicationTarget(name="pg-mm", prober="postgres_replication", nodes=nodes)


PRIVATE_PREFIX = "lagtest-"


def private_names(tag: str) -> tuple[str, str]:
    """Origin names of pg-a and pg-b that no other writer uses (the stack's exporter beats as
    pg-a and pg-b): a test owns every seq of these rows. Drop them with drop_private_rows."""
    return (f"{PRIVATE_PREFIX}{tag}-a", f"{PRIVATE_PREFIX}{tag}-b")


def drop_private_rows(layout: Layout) -> None:
    """Delete every test-owned heartbeat row on both masters (deletes replicate too)."""
    for node in PG_NODES:
        with psycopg.connect(dsn(layout, node), autocommit=True) as conn:
            conn.execute(
                "DELETE FROM public.repl_heartbeat WHERE origin LIKE %s", (PRIVATE_PREFIX + "%",)
            )


def samples(result: ProbeResult, name: str) -> dict[tuple[tuple[str, str], ...], Sample]:
    """The samples called ``name``, keyed by their sorted labels."""
    return {tuple(sorted(s.labels.items())): s for s in result.samples if s.name == name}


def value(result: ProbeResult, name: str, **labels: str) -> float | None:
    found = samples(result, name).get(tuple(sorted(labels.items())))
    return None if found is None else found.value


def lag(result: ProbeResult, origin: str, peer: str) -> float | None:
    return value(result, conv.PG_REPLICATION_LAG_SECONDS, origin=origin, peer=peer)


def lag_error(result: ProbeResult, origin: str, peer: str) -> float | None:
    return value(result, conv.PG_REPLICATION_LAG_ERROR_SECONDS, origin=origin, peer=peer)


@contextmanager
def role_on_every_master(layout: Layout, role: str, statements: Iterable[str]) -> Iterator[str]:
    """Run ``statements`` (the role's CREATE and GRANTs) on every master — roles do not
    replicate — and drop the role with all it owns afterwards (the probers' pools, which hold
    its sessions, are closed first)."""
    statements = list(statements)
    for node in PG_NODES:
        with psycopg.connect(dsn(layout, node), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())  # the test's own fixed SQL
    try:
        yield role
    finally:
        _pg.close_all()
        for node in PG_NODES:
            with psycopg.connect(dsn(layout, node), autocommit=True) as conn:
                conn.execute(f"DROP OWNED BY {role}".encode())
                conn.execute(f"DROP ROLE {role}".encode())
