"""What one load-test process needs to run: rates, users, endpoints, the recorder.

Built once per Locust process (master, workers and local runs alike) from the same command
line (``plan_from_options``), so every process derives the same plan; it lives on the run
object hung on the Locust environment (``edgesla.loadtests.run.run_of``), where the users find it.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pymongo

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.config import MongoQueryTarget, PopConfig, PostgresReplicationTarget, load_config
from edgesla.durations import parse_duration
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.openmodel import RateFn, peak_rates
from edgesla.loadtests.profile import default_model, load_profile_file
from edgesla.loadtests.rates import expected_counts, mean_rates, rate_fn
from edgesla.loadtests.sync_phase import SyncPlan
from edgesla.loadtests.timeline import LEAD_SECONDS
from edgesla.loadtests.windows import Windows
from edgesla.secrets import read_password

__all__ = [
    "USER_CLASSES",
    "Endpoints",
    "RunPlan",
    "RunRates",
    "SubscriberSample",
    "build_rates",
    "endpoints_of",
    "plan_from_options",
    "sample_subscribers",
    "schedule_seconds",
    "users_needed",
]

#: Which Locust user class runs which operations (names of classes in edgesla.loadtests.users).
USER_CLASSES: Mapping[str, tuple[str, ...]] = {
    "CareUser": ("care_lookup", "device_change"),
    "RadiusUser": ("auth_lookup", "session_start", "acct_interim", "session_stop"),
    "BillingUser": ("billing_write",),
    "SelfCareWebUser": ("selfcare_http",),
}


@dataclass(frozen=True)
class Endpoints:
    mongo_uri: str
    mongo_database: str
    mongo_collection: str
    pg_dsns: tuple[str, ...]
    selfcare_url: str | None


def _with_password(dsn: str, password: str | None) -> str:
    if password is None:
        return dsn
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return f"{dsn} password='{escaped}'"


def endpoints_of(config: PopConfig, source: str) -> Endpoints:
    """The PoP's MongoDB, PostgreSQL masters and self-care URL, from its PoP config."""
    mongo = next((t for t in config.targets if isinstance(t, MongoQueryTarget)), None)
    masters = next((t for t in config.targets if isinstance(t, PostgresReplicationTarget)), None)
    if mongo is None or masters is None:
        raise ConfigError(
            f"{source}: the load test needs a mongodb_query target (the subscriber store) and a "
            "postgres_replication target (the masters to write to); add them to the PoP config"
        )
    dsns = tuple(
        _with_password(n.dsn, read_password(n.password_file, n.password_env, f"node {n.name}"))
        for n in masters.nodes
    )
    return Endpoints(
        mongo.uri, mongo.database, mongo.collection, dsns, config.loadtest.selfcare_url
    )


def users_needed(rates: RateFn, duration: float, max_user_rate: float) -> dict[str, int]:
    """Users per class so that no user has to start more than ``max_user_rate`` requests/s.

    Each user runs its requests one after another: at 10 requests/s and 10 ms service time a
    user is busy 10 % of the time, so starts are rarely late. Classes with no traffic get 0.
    """
    needed = {}
    for name, ops in USER_CLASSES.items():
        peak = peak_rates(rates, duration, ops)
        needed[name] = 0 if peak == 0 else max(2, math.ceil(peak / max_user_rate))
    return needed


@dataclass(frozen=True)
class SubscriberSample:
    """What the users pick their requests from: a random sample of the subscriber store."""

    ids: tuple[str, ...] = ()
    #: (field, value) of every access identity in the sample, e.g. ("access.username", …)
    identities: tuple[tuple[str, str], ...] = ()
    #: (subscriber id, session id) of the sessions the sampled documents hold (online ones)
    sessions: tuple[tuple[str, str], ...] = ()


@dataclass
class RunPlan:
    rates: RateFn
    duration: float
    arrivals: Literal["poisson", "uniform"]
    users: Mapping[str, int]
    endpoints: Endpoints
    #: mean rate of each operation over the run (its target rates in the results)
    target_rates: Mapping[str, float] = field(default_factory=dict)
    pop: str | None = None
    region: str = ""
    recorder: Recorder = field(default_factory=Recorder)
    #: perf_counter() of the run's start in this process; schedules count from here
    started: float = field(default_factory=time.perf_counter)
    sample: SubscriberSample = field(default_factory=SubscriberSample)
    #: a batch sync on top of the schedule (``--sync-at``), and the requests by window
    sync: SyncPlan | None = None
    windows: Windows | None = None

    def record(
        self,
        operation: str,
        intended: float,
        actual: float,
        end: float,
        *,
        ok: bool,
        cause: str | None,
        late: bool,
    ) -> None:
        """One request into the recorder, and into its window when the run has a sync."""
        self.recorder.record(operation, intended, actual, end, ok=ok, cause=cause, late=late)
        if self.windows is not None:
            self.windows.record(
                intended - self.started,
                operation,
                intended,
                actual,
                end,
                ok=ok,
                cause=cause,
                late=late,
            )

    @property
    def mongo_uri(self) -> str:
        return self.endpoints.mongo_uri

    @property
    def mongo_database(self) -> str:
        return self.endpoints.mongo_database

    @property
    def mongo_collection(self) -> str:
        return self.endpoints.mongo_collection

    @property
    def pg_dsns(self) -> tuple[str, ...]:
        return self.endpoints.pg_dsns

    @property
    def selfcare_url(self) -> str:
        if self.endpoints.selfcare_url is None:
            raise ConfigError(
                "selfcare_http has traffic but the PoP config has no loadtest.selfcare_url"
            )
        return self.endpoints.selfcare_url

    def random_subscriber(self) -> str:
        return random.choice(self.sample.ids)

    def random_identity(self) -> tuple[str, str]:
        """(field, value) of a random access identity; LookupError when the store's
        documents carry none (see docs/traffic-model.md)."""
        if not self.sample.identities:
            raise LookupError("no access identity in the subscriber documents")
        return random.choice(self.sample.identities)

    def random_session(self) -> tuple[str, str] | None:
        """(subscriber id, session id) of a random session open before the run, or None."""
        return random.choice(self.sample.sessions) if self.sample.sessions else None


@dataclass(frozen=True)
class RunRates:
    """The run's target: rates over time, their means, and the arrivals expected so far."""

    rates: RateFn
    #: mean rate of each operation with traffic over the run (the run's target rates)
    means: Mapping[str, float]
    #: expected arrivals of all operations in [0, t] (the integral of ``rates``)
    expected: Callable[[float], float]
    #: the PoP's subscribers in the traffic model (what ``--subscribers`` sets)
    subscribers: int = 0


def build_rates(options: Any, duration: float) -> RunRates:
    """The rates of the run from the load-test options (loadtests/edge_pop.py)."""
    overrides: dict[str, object] = {"load.kind": options.load_profile}
    if options.subscribers:
        overrides["pop.subscribers"] = options.subscribers
    model = (
        load_profile_file(Path(options.traffic), overrides)
        if options.traffic
        else default_model(overrides)
    )
    wanted = {op.strip() for op in options.operations.split(",") if op.strip()}
    base = rate_fn(model.pop, model.load, duration)
    scale = float(options.rate_scale)

    def rates(t: float) -> dict[str, float]:
        return {op: r * scale for op, r in base(t).items() if op in wanted}

    def expected(t: float) -> float:
        until = min(max(t, 0.0), duration)
        counts = expected_counts(model.pop, model.load, duration, until=until)
        return sum(n * scale for op, n in counts.items() if op in wanted)

    means = {
        op: r * scale
        for op, r in mean_rates(model.pop, model.load, duration).items()
        if op in wanted and r > 0
    }
    return RunRates(rates, means, expected, model.pop.subscribers)


def schedule_seconds(options: Any) -> float:
    """The schedule's length: --schedule-duration, else the run time, minus the lead.

    Worker processes are not told the run time (the master stops them), so distributed runs
    pass --schedule-duration to every process; ``edgesla loadtest`` always does. ValueError
    when there is no schedule to play.
    """
    if options.schedule_duration:
        run_time = parse_duration(options.schedule_duration)
    else:
        run_time = float(getattr(options, "run_time", None) or 0)
    if run_time <= LEAD_SECONDS:
        raise ValueError(
            f"the open-model schedule needs a run time over {LEAD_SECONDS:g}s: add "
            "-t/--run-time (and for --processes/--worker: --schedule-duration, the same value)"
        )
    return run_time - LEAD_SECONDS


def plan_from_options(options: Any) -> tuple[RunPlan, RunRates]:
    """This process's plan, from its load-test options (the PoP config is read here)."""
    duration = schedule_seconds(options)
    config = load_config(Path(options.pop_config))
    run_rates = build_rates(options, duration)
    users = users_needed(run_rates.rates, duration, options.max_user_rate)
    sync = sync_plan(options)
    plan = RunPlan(
        run_rates.rates,
        duration,
        options.arrivals,
        users,
        endpoints_of(config, options.pop_config),
        target_rates=run_rates.means,
        pop=config.pop,
        region=config.region,
        sync=sync,
    )
    if sync is not None:
        sync.check(run_rates.subscribers, duration)
        thresholds = tuple(t / 1e6 for t in plan.recorder.thresholds_us)
        plan.windows = Windows(sync.window(run_rates.subscribers), thresholds)
    return plan, run_rates


def sync_plan(options: Any) -> SyncPlan | None:
    """The sync of ``--sync-at`` / ``--sync-share`` / ``--sync-rate``; None without one."""
    at = getattr(options, "sync_at", None)
    if at is None:
        return None
    return SyncPlan(
        parse_duration(at),
        float(options.sync_share),
        float(options.sync_rate),
    )


def sample_subscribers(plan: RunPlan, limit: int = 20_000) -> SubscriberSample:
    """A random sample of the PoP's subscriber store: ids, access identities, sessions."""
    client: pymongo.MongoClient[dict[str, Any]]
    fields = (conv.MONGO_SUBSCRIBER_ID_FIELD, *conv.MONGO_ACCESS_FIELDS, "sessions.sessionId")
    with pymongo.MongoClient(plan.mongo_uri, serverSelectionTimeoutMS=5000) as client:
        coll: Any = client[plan.mongo_database][plan.mongo_collection]
        docs = coll.aggregate(
            [{"$sample": {"size": limit}}, {"$project": dict.fromkeys(fields, 1) | {"_id": 0}}]
        ).to_list()
    ids, identities, sessions = [], [], []
    for doc in docs:
        sid = doc.get("subscriber", {}).get("id")
        if sid is None:
            continue
        ids.append(sid)
        access = doc.get("access") or {}
        for name in conv.MONGO_ACCESS_FIELDS:
            value = access.get(name.removeprefix("access."))
            if isinstance(value, str):
                identities.append((name, value))
        for session in doc.get("sessions") or ():
            if isinstance(session, dict) and isinstance(session.get("sessionId"), str):
                sessions.append((sid, session["sessionId"]))
    return SubscriberSample(tuple(ids), tuple(identities), tuple(sessions))
