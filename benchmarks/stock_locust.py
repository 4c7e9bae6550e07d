"""Baseline for the benchmarks: Locust as it comes — closed model, stock statistics.

A MongoDB lookup user and an HTTP user, paced with Locust's own ``constant_throughput``
(at most R requests/s per user, a closed model: the next request waits for the previous
one). The results are Locust's own (rounded) statistics. Environment variables:
EDGESLA_BENCH_MONGO, EDGESLA_BENCH_HTTP, EDGESLA_BENCH_USER_RATE.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pymongo
from locust import FastHttpUser, User, constant_throughput, task

RATE = float(os.environ.get("EDGESLA_BENCH_USER_RATE", "10"))
IDS = [str(2_000_000 + i) for i in range(int(os.environ.get("EDGESLA_BENCH_SUBSCRIBERS", "2000")))]


class StockMongoUser(User):
    wait_time = constant_throughput(RATE)

    def on_start(self) -> None:
        self.client: Any = pymongo.MongoClient(os.environ["EDGESLA_BENCH_MONGO"])

    @task
    def care_lookup(self) -> None:
        started = time.perf_counter()
        docs = self.client.edge.subscribers.find({"subscriber.id": random.choice(IDS)}).to_list()
        self.environment.events.request.fire(
            request_type="mongodb",
            name="care_lookup",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(docs),
            exception=None,
            context={},
        )


class StockHttpUser(FastHttpUser):
    wait_time = constant_throughput(RATE)
    host = os.environ.get("EDGESLA_BENCH_HTTP", "http://127.0.0.1")

    @task
    def selfcare_http(self) -> None:
        self.client.get(f"/api/v1/subscribers/{random.choice(IDS)}", name="selfcare_http")
