"""Locust users of the edge PoP load test: abstract protocol users, open-model pacing.

    OpenModelUser     paces requests by an ArrivalSchedule (see edgesla.loadtests.openmodel)
    ├── MongoUser     a pymongo client to the PoP's subscriber store
    │   ├── CareUser          care_lookup, device_change
    │   └── RadiusUser        auth_lookup, session_start, acct_interim, session_stop
    ├── PostgresUser  one connection to every PostgreSQL master
    │   └── BillingUser       billing_write, spread round-robin over the masters
    └── SelfCareHttpUser  Locust's FastHttpSession to the customer-self-care service
        └── SelfCareWebUser   selfcare_http

Every request is timed with ``time.perf_counter()`` and reported twice: to Locust's own
statistics (service time, so its UI and CSV stay meaningful) and to the exact recorder
(latency from the intended start and service time, failures by cause, late starts).
A pymongo cursor is lazy: lookups consume it inside the timed section.

Each user owns one share of the schedule (``edgesla.loadtests.ledger.Share``), which counts every
arrival it issues, so none can vanish; the shares of a class on one process are served by
whichever of its users is free (``edgesla.loadtests.dispatch.Pool``). A request that raises
is a failure with the exception's name as its cause, and a user that cannot connect stops its
share (its requests are counted as not started, and the run as INCOMPLETE).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import gevent
import psycopg
import pymongo
from locust import User, task
from locust.contrib.fasthttp import FastHttpSession
from pymongo.errors import PyMongoError

from edgesla.loadtests.dispatch import Pool
from edgesla.loadtests.ledger import Share
from edgesla.loadtests.openmodel import LATE_AFTER_SECONDS
from edgesla.loadtests.plan import RunPlan
from edgesla.loadtests.run import LoadTestRun, run_of

__all__ = ["BillingUser", "CareUser", "RadiusUser", "SelfCareWebUser"]


class OpenModelUser(User):
    """Runs the operations of ``OPERATIONS`` at the times its schedule says."""

    abstract = True
    #: the operations this user class performs (a subset of edgesla.loadtests.profile.OPERATIONS)
    OPERATIONS: ClassVar[tuple[str, ...]] = ()
    #: Locust's request_type column for this protocol
    REQUEST_TYPE: ClassVar[str] = ""
    #: True when the protocol client already reports each request to Locust's statistics
    CLIENT_REPORTS: ClassVar[bool] = False

    def wait_time(self) -> float:  # pacing is done by the schedule, never by Locust
        return 0.0

    def on_start(self) -> None:
        self.loadtest: LoadTestRun = run_of(self.environment)
        self.plan: RunPlan = self.loadtest.plan
        self.share: Share = self.loadtest.new_share(type(self).__name__, self.OPERATIONS)
        self.pool: Pool = self.loadtest.pool(type(self).__name__)
        try:
            self.connect()
        except Exception as exc:
            self.share.stop(
                self.loadtest.elapsed() or 0.0,
                f"{type(self).__name__} could not connect ({type(exc).__name__}: {exc})",
            )
            raise

    def on_stop(self) -> None:
        self.share.stop(self.loadtest.elapsed() or 0.0, "Locust stopped the user")
        self.disconnect()

    def connect(self) -> None:
        """Open this user's client(s); an exception stops its share of the schedule."""

    def disconnect(self) -> None:
        """Close this user's client(s)."""

    @task
    def next_request(self) -> None:
        taken = self.pool.take()
        if taken is None:  # every share of this class on this process is done
            gevent.sleep(1.0)
            return
        share, token, arrival = taken
        intended = self.plan.started + arrival.at
        delay = intended - time.perf_counter()
        if delay > 0:
            gevent.sleep(delay)
        actual = time.perf_counter()
        if not share.start(token, actual - self.plan.started, actual):
            return  # past the schedule's end: counted as not started (late)
        try:
            cause = self.perform(arrival.operation)
        except Exception as exc:  # an unmapped client error, or a bug: still a failed request
            cause = type(exc).__name__
        end = time.perf_counter()
        if not share.finish(token):
            return  # the ledger closed meanwhile and counted it as unfinished
        self.plan.record(
            arrival.operation,
            intended,
            actual,
            end,
            ok=cause is None,
            cause=cause,
            late=actual - intended > LATE_AFTER_SECONDS,
        )
        if self.CLIENT_REPORTS:
            return
        self.environment.events.request.fire(
            request_type=self.REQUEST_TYPE,
            name=arrival.operation,
            response_time=(end - actual) * 1000,
            response_length=0,
            exception=None if cause is None else RuntimeError(cause),
            context={},
        )

    def perform(self, operation: str) -> str | None:
        """Run one operation; None on success, else a short cause ("timeout", "http_503")."""
        raise NotImplementedError


class MongoUser(OpenModelUser):
    abstract = True
    REQUEST_TYPE = "mongodb"

    def connect(self) -> None:
        self.mongo: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            self.plan.mongo_uri,
            maxPoolSize=2,
            serverSelectionTimeoutMS=5000,
            socketTimeoutMS=5000,
            appname="edgesla-loadtest",
        )
        db = self.mongo[self.plan.mongo_database]
        self.subscribers = db[self.plan.mongo_collection]

    def disconnect(self) -> None:
        if hasattr(self, "mongo"):  # connect() may have failed
            self.mongo.close()


def _mongo_cause(exc: PyMongoError) -> str:
    if exc.timeout:
        return "timeout"
    return type(exc).__name__


class CareUser(MongoUser):
    """Customer care and device provisioning on the subscriber documents."""

    OPERATIONS = ("care_lookup", "device_change")

    def connect(self) -> None:
        super().connect()
        self._ops: dict[str, Callable[[str], None]] = {
            "care_lookup": self._lookup,
            "device_change": self._device_change,
        }

    def perform(self, operation: str) -> str | None:
        try:
            self._ops[operation](self.plan.random_subscriber())
        except PyMongoError as exc:
            return _mongo_cause(exc)
        except LookupError:
            return "not_found"
        return None

    def _lookup(self, sid: str) -> None:
        docs = self.subscribers.find({"subscriber.id": sid}).limit(1).to_list()
        if not docs:
            raise LookupError(sid)

    def _device_change(self, sid: str) -> None:
        self.subscribers.update_one(
            {"subscriber.id": sid},
            {"$set": {"devices.0.prov": random.choice(("tr069", "manual", "usp"))}},
        )


#: What the RADIUS server reads to build an Access-Accept (service profile, address).
_AUTH_PROJECTION = {"subscriber": 1, "accountType": 1, "serviceLevel": 1, "services.data": 1}


class RadiusUser(MongoUser):
    """The BNG's RADIUS traffic as the subscriber store sees it (RFC 2865/2866/2869).

    - ``auth_lookup``: an Access-Request: the subscriber found by its access identity (the
      PPPoE User-Name or the line's Agent-Circuit-Id), through their indexes.
    - ``session_start``: Accounting-Start: a session document (Acct-Session-Id, address,
      NAS, counters at 0) pushed onto the subscriber's ``sessions``.
    - ``acct_interim``: Accounting Interim-Update: one open session's counters and update
      time, by its session id (a session this user started, or one open before the run).
    - ``session_stop``: Accounting-Stop: a session this user started is closed (pulled).
    """

    OPERATIONS = ("auth_lookup", "session_start", "acct_interim", "session_stop")

    def connect(self) -> None:
        super().connect()
        self.open_sessions: list[tuple[str, str]] = []
        self._ops: dict[str, Callable[[], None]] = {
            "auth_lookup": self._access_request,
            "session_start": self._accounting_start,
            "acct_interim": self._interim_update,
            "session_stop": self._accounting_stop,
        }

    def perform(self, operation: str) -> str | None:
        try:
            self._ops[operation]()
        except PyMongoError as exc:
            return _mongo_cause(exc)
        except LookupError:
            return "not_found" if self.plan.sample.identities else "no_access_identity"
        return None

    def _access_request(self) -> None:
        field, value = self.plan.random_identity()
        docs = self.subscribers.find({field: value}, _AUTH_PROJECTION).limit(1).to_list()
        if not docs:
            raise LookupError(value)

    def _accounting_start(self) -> None:
        sid = self.plan.random_subscriber()
        session = f"lt_{random.getrandbits(48):012x}"
        now = datetime.now(UTC).isoformat()
        done = self.subscribers.update_one(
            {"subscriber.id": sid},
            {
                "$push": {
                    "sessions": {
                        "sessionId": session,
                        "startTime": now,
                        "updateTime": now,
                        "ipAddress": "46.0.0.1",
                        "nasIp": "10.0.0.1",
                        "inputOctets": 0,
                        "outputOctets": 0,
                    }
                }
            },
        )
        if done.matched_count != 1:
            raise LookupError(sid)
        self.open_sessions.append((sid, session))

    def _interim_update(self) -> None:
        pick = random.randrange(len(self.open_sessions) + len(self.plan.sample.sessions) or 1)
        if pick < len(self.open_sessions):
            sid, session = self.open_sessions[pick]
        elif (before := self.plan.random_session()) is not None:
            sid, session = before
        else:
            raise LookupError("no open session")
        # by subscriber.id (its index) with an array filter: a filter on sessions.sessionId
        # as well would make the MongoDB-wire server scan the collection
        done = self.subscribers.update_one(
            {"subscriber.id": sid},
            {
                "$set": {"sessions.$[s].updateTime": datetime.now(UTC).isoformat()},
                "$inc": {
                    "sessions.$[s].inputOctets": random.randint(0, 50_000_000),
                    "sessions.$[s].outputOctets": random.randint(0, 500_000_000),
                },
            },
            array_filters=[{"s.sessionId": session}],
        )
        if done.modified_count != 1:  # no such subscriber, or no such session on it
            raise LookupError(session)

    def _accounting_stop(self) -> None:
        if self.open_sessions:
            sid, session = self.open_sessions.pop(random.randrange(len(self.open_sessions)))
        else:  # a Stop for a session started before the run: nothing of ours to close
            sid, session = self.plan.random_subscriber(), "none"
        self.subscribers.update_one(
            {"subscriber.id": sid}, {"$pull": {"sessions": {"sessionId": session}}}
        )


class PostgresUser(OpenModelUser):
    abstract = True
    REQUEST_TYPE = "postgresql"

    masters: tuple[psycopg.Connection[Any], ...] = ()  # until connect() succeeds

    def connect(self) -> None:
        self.masters = tuple(
            psycopg.connect(
                dsn, autocommit=True, connect_timeout=5, application_name="edgesla-loadtest"
            )
            for dsn in self.plan.pg_dsns
        )
        self._next_master = itertools.cycle(range(len(self.masters)))

    def disconnect(self) -> None:
        for conn in self.masters:
            conn.close()


class BillingUser(PostgresUser):
    OPERATIONS = ("billing_write",)

    def perform(self, operation: str) -> str | None:
        conn = self.masters[next(self._next_master)]
        try:
            cur = conn.execute(
                "UPDATE public.billing_account SET balance_cents = balance_cents + %s "
                "WHERE subscriber_id = %s",
                (random.randint(-500, 5000), self.plan.random_subscriber()),
            )
        except psycopg.errors.QueryCanceled:
            return "timeout"
        except psycopg.OperationalError:
            return "connection"
        except psycopg.Error as exc:
            return type(exc).__name__
        return None if cur.rowcount == 1 else "not_found"


class SelfCareHttpUser(OpenModelUser):
    """Locust's FastHttpSession (geventhttpclient) to the customer-self-care service."""

    abstract = True
    REQUEST_TYPE = "http"
    CLIENT_REPORTS = True

    def connect(self) -> None:
        self.http = FastHttpSession(
            self.plan.selfcare_url,
            self.environment.events.request,
            self,
            connection_timeout=5.0,
            network_timeout=5.0,
        )


class SelfCareWebUser(SelfCareHttpUser):
    """Customer self-care portal calls: the subscriber's page, now and then its bill."""

    OPERATIONS = ("selfcare_http",)

    def perform(self, operation: str) -> str | None:
        sid = self.plan.random_subscriber()
        path = f"/api/v1/subscribers/{sid}"
        if random.random() < 0.2:
            path += "/billing"
        try:
            with self.http.get(path, name="selfcare_http", catch_response=True) as reply:
                status = reply.status_code
                reply.success()  # counted once, below, by OpenModelUser
        except Exception as exc:  # FastHttp raises gevent/socket errors on connect failure
            return type(exc).__name__
        if status == 0:
            return "connection"
        return None if status == 200 else f"http_{status}"
