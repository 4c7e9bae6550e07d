"""Health and lag of a MongoDB replica set, read from ``replSetGetStatus``.

    probe(target: MongoReplicationTarget, timeout) -> ProbeResult
    evaluate(status_doc) -> ProbeResult          # pure: recorded documents test it

``probe`` runs the command (through the pooled clients of ``edgesla.probes.mongodb_query``, with
read preference ``primaryPreferred`` so a set *without* a primary still answers) and
hands the document to ``evaluate``, which turns it into samples:

* ``MONGO_MEMBER_HEALTH{member}``: the ``health`` field (1 up, 0 down) of each member;
* ``MONGO_MEMBER_STATE{member,state}`` = 1, ``state`` being MongoDB's ``stateStr``;
* ``MONGO_PRIMARY_PRESENT``: 1 when a member is PRIMARY;
* ``MONGO_MEMBER_LAG_SECONDS{member}`` for every healthy non-primary member with an optime
  (arbiters have none; a member that is down shows the epoch):
  the primary's optime minus the member's, **signed** and sub-second (``optimeDate`` has
  millisecond precision; a bare ``optime.ts`` is used only when no date is present, and has
  whole seconds). Positive = behind the primary; negative = *ahead*, which happens because a
  remote member's optime comes from heartbeats and can be older on the node asked than on
  the member itself. A member ahead is not lagging. percona/mongodb_exporter takes ``abs()``
  of this difference (#1362), so a secondary ahead looks behind: never do that.

Lag on an idle set drifts up to ~10 s (an idle primary writes a no-op only every 10 s):
alert on lag together with write activity, not on a tight fixed bound.

Success = a primary is present and every member is healthy. A standalone server answers
``NoReplicationEnabled`` (code 76): that is a failure with reason ``config`` (the target is
not a replica-set member) and a detail saying so. The probe never raises.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson.timestamp import Timestamp
from pymongo import ReadPreference
from pymongo.errors import OperationFailure

from edgesla import conventions as conv
from edgesla.config import MongoReplicationTarget
from edgesla.probes._mongo import client_or_failure, failure
from edgesla.probes._result import ProbeResult, Reason, Sample

__all__ = ["evaluate", "lag_seconds", "probe"]

PRIMARY = 1
_NO_REPLICATION = 76  # NoReplicationEnabled: a standalone server
_NOT_YET_INITIALIZED = 94  # started with --replSet, rs.initiate() not run yet


def _optime_seconds(member: Mapping[str, Any]) -> float | None:
    """The member's last applied operation as POSIX seconds; None when it has none."""
    date = member.get("optimeDate")
    if isinstance(date, datetime):
        aware = date if date.tzinfo else date.replace(tzinfo=UTC)
        seconds = aware.timestamp()
        return seconds if seconds > 0 else None  # the epoch: "no optime known"
    optime = member.get("optime")
    ts = optime.get("ts") if isinstance(optime, Mapping) else optime  # PV1 dict or PV0 bare
    if isinstance(ts, Timestamp) and ts.time > 0:
        return float(ts.time)
    return None


def lag_seconds(primary: Mapping[str, Any], member: Mapping[str, Any]) -> float | None:
    """Seconds ``member`` is behind ``primary``: signed, negative when it is ahead."""
    ours, theirs = _optime_seconds(primary), _optime_seconds(member)
    if ours is None or theirs is None:
        return None
    return ours - theirs  # never abs(): a secondary ahead is not lagging (exporter #1362)


def _member_samples(member: Mapping[str, Any]) -> list[Sample]:
    name = str(member.get("name", member.get("_id", "?")))
    state = str(member.get("stateStr", member.get("state", "UNKNOWN")))
    health = float(member.get("health", 0) or 0)
    return [
        Sample(conv.MONGO_MEMBER_HEALTH, health, {"member": name}),
        Sample(conv.MONGO_MEMBER_STATE, 1.0, {"member": name, "state": state}),
    ]


def evaluate(status_doc: Mapping[str, Any], latency: float | None = None) -> ProbeResult:
    """Turn a ``replSetGetStatus`` document into a result (pure; ``latency`` passes through)."""
    members: list[Mapping[str, Any]] = list(status_doc.get("members") or [])
    samples = [s for m in members for s in _member_samples(m)]
    primaries = [m for m in members if m.get("state") == PRIMARY]
    primary = primaries[0] if primaries else None
    samples.append(Sample(conv.MONGO_PRIMARY_PRESENT, 1.0 if primary else 0.0))
    lags: dict[str, float] = {}
    if primary is not None:
        for member in members:
            if member is primary or not member.get("health"):
                continue  # a member that is down has no optime worth comparing
            lag = lag_seconds(primary, member)
            if lag is not None:
                name = str(member.get("name", member.get("_id", "?")))
                lags[name] = lag
                samples.append(Sample(conv.MONGO_MEMBER_LAG_SECONDS, lag, {"member": name}))
    unhealthy = [str(m.get("name", "?")) for m in members if not m.get("health")]
    setname = status_doc.get("set", "?")
    summary = f"set {setname}: {len(members)} member(s)"
    if lags:
        worst = max(lags, key=lambda n: lags[n])
        summary += f", max lag {lags[worst]:+.3f}s ({worst})"
    problems = []
    if primary is None:
        problems.append("no primary")
    if unhealthy:
        problems.append("unhealthy: " + ", ".join(unhealthy))
    if not members:
        problems.append("no members listed")
    if problems:
        return ProbeResult.fail(
            Reason.UNHEALTHY, f"{summary}; " + "; ".join(problems), latency, tuple(samples)
        )
    primary_name = primary.get("name", "?") if primary else "?"
    return ProbeResult.ok(latency, f"{summary}, primary {primary_name}", tuple(samples))


def probe(target: MongoReplicationTarget, timeout: float) -> ProbeResult:
    """Run ``replSetGetStatus`` once within ``timeout`` seconds and evaluate it; never raises."""
    client = client_or_failure(target, timeout)
    if isinstance(client, ProbeResult):
        return client
    try:
        with pymongo.timeout(timeout):
            start = time.perf_counter()
            doc = client.admin.command(
                "replSetGetStatus", read_preference=ReadPreference.PRIMARY_PREFERRED
            )
            latency = time.perf_counter() - start
    except OperationFailure as exc:
        if exc.code == _NO_REPLICATION:
            return ProbeResult.fail(
                Reason.CONFIG,
                "not a replica-set member (NoReplicationEnabled: a standalone server); "
                "point the target at a replica-set member, or drop this target",
            )
        if exc.code == _NOT_YET_INITIALIZED:
            return ProbeResult.fail(
                Reason.UNHEALTHY, "replica set not initiated yet (NotYetInitialized)"
            )
        return failure(exc)
    except Exception as exc:  # a probe returns every failure as a result, never raises
        return failure(exc)
    try:
        return evaluate(doc, latency)
    except Exception as exc:  # a document of an unexpected shape is a bug to report, not raise
        return ProbeResult.fail(Reason.ERROR, f"cannot read replSetGetStatus: {exc!r}", latency)
