"""Before a load test starts: every endpoint it will hit must answer (else exit 2, no run)."""

from __future__ import annotations

import textwrap

import psycopg
import pymongo
import requests
from pymongo.errors import PyMongoError

from edgesla._errors import ConfigError
from edgesla.loadtests.plan import Endpoints

__all__ = ["check_reachable", "said"]

#: A driver's message is shown to this length at most, cut between words.
_SAID = 200


def said(exc: BaseException) -> str:
    """The first line of a driver's message, whole words only (an ellipsis when cut)."""
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return textwrap.shorten(line, _SAID, placeholder=" …")


def check_reachable(endpoints: Endpoints, http_needed: bool, source: str) -> None:
    """ConfigError naming every endpoint that does not answer a real request."""
    problems = []
    client: pymongo.MongoClient[dict[str, object]]
    try:
        with pymongo.MongoClient(endpoints.mongo_uri, serverSelectionTimeoutMS=3000) as client:
            client.admin.command("ping")
    except PyMongoError as exc:
        problems.append(f"MongoDB {endpoints.mongo_uri}: {said(exc)}")
    for dsn in endpoints.pg_dsns:
        where = " ".join(p for p in dsn.split() if not p.startswith("password="))
        try:
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            problems.append(f"PostgreSQL {where}: {said(exc)}")
    if http_needed:
        url = endpoints.selfcare_url
        if url is None:
            problems.append("self-care HTTP: the PoP config has no loadtest.selfcare_url")
        else:
            try:
                reply = requests.get(f"{url.rstrip('/')}/healthz", timeout=3)
                if reply.status_code != 200:
                    problems.append(f"self-care {url}: /healthz answered HTTP {reply.status_code}")
            except requests.RequestException as exc:
                problems.append(f"self-care {url}: {type(exc).__name__}")
    if problems:
        raise ConfigError(
            f"{source}: the load test's targets must answer before it starts:\n  "
            + "\n  ".join(problems)
            + "\nStart them (for the local stack: `edgesla stack up`) or fix the PoP config."
        )
