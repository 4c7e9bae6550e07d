"""What one load-test process needs to run: rates, users, endpoints, the recorder.

Built once per Locust process (master, workers and local runs alike) from the same command
line, so every process derives the same plan; ``current_plan()`` hands it to the users.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from edgesla._errors import ConfigError
from edgesla.config import MongoQueryTarget, PopConfig, PostgresReplicationTarget
from edgesla.secrets import read_password
from loadtests.histograms import Recorder
from loadtests.openmodel import RateFn, peak_rates

__all__ = [
    "USER_CLASSES",
    "Endpoints",
    "RunPlan",
    "current_plan",
    "endpoints_of",
    "install_plan",
    "users_needed",
]

#: Which Locust user class runs which operations (names of classes in loadtests.users).
USER_CLASSES: Mapping[str, tuple[str, ...]] = {
    "CareUser": ("care_lookup", "session_start", "session_stop", "device_change"),
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
    recorder: Recorder = field(default_factory=Recorder)
    #: perf_counter() of the run's start in this process; schedules count from here
    started: float = field(default_factory=time.perf_counter)
    subscriber_ids: tuple[str, ...] = ()

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
        return random.choice(self.subscriber_ids)


_plan: RunPlan | None = None
_lock = threading.Lock()


def install_plan(plan: RunPlan) -> None:
    global _plan
    with _lock:
        _plan = plan


def current_plan() -> RunPlan:
    if _plan is None:
        raise RuntimeError("no load-test plan installed: run through loadtests/edge_pop.py")
    return _plan
