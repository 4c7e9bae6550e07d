"""Coordinated-omission proof: one 2 s freeze of the target, measured two ways at once.

Our open-model load test and stock Locust (closed model, ``constant_throughput``) send the
same rate of customer-care lookups to the same MongoDB-wire server at the same time. Midway,
the server process is frozen (SIGSTOP) for 2 s, then resumed (SIGCONT). Printed side by side:
our p99.9 of response time from the intended start (reflects the freeze), our service-time
p99.9, and Locust's stock p99.9 (which, with a closed model, barely notices it).

    .venv/bin/python benchmarks/coordinated_omission.py [--rate 100] [--duration 60]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import (
    EDGESLA,
    component,
    env_with,
    locust_row,
    private_stack,
    save,
    stock_locust,
)
from edgesla.loadtests.results import read_results

BASE_CARE_RATE = 0.504  # care_lookup req/s of the default 100,000-subscriber PoP at peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="lookups/s, each generator")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--freeze", type=float, default=2.0, help="seconds the target freezes")
    parser.add_argument(
        "--stock-users",
        type=int,
        default=0,
        help="stock Locust's users (default: rate/10, as many as ours)",
    )
    args = parser.parse_args()
    with private_stack(19920) as status, tempfile.TemporaryDirectory() as tmp:
        mongo = component(status, "mongo")
        pop_config = status["pop_config"]
        users = args.stock_users or max(2, int(args.rate // 10))
        ours = subprocess.Popen(
            [
                EDGESLA,
                "loadtest",
                "--config",
                pop_config,
                "--operations",
                "care_lookup",
                "--rate-scale",
                f"{args.rate / BASE_CARE_RATE:.6f}",
                "--arrivals",
                "uniform",
                "--duration",
                f"{args.duration:g}s",
                "--out",
                f"{tmp}/ours",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stock = subprocess.Popen(
            stock_locust("StockMongoUser", users, args.duration + 1, f"{tmp}/stock"),
            env=env_with(
                EDGESLA_BENCH_MONGO=mongo["url"], EDGESLA_BENCH_USER_RATE=str(args.rate / users)
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def freeze() -> None:
            time.sleep(1 + args.duration / 2)
            os.kill(mongo["pid"], signal.SIGSTOP)
            time.sleep(args.freeze)
            os.kill(mongo["pid"], signal.SIGCONT)

        freezer = threading.Thread(target=freeze)
        freezer.start()
        ours.wait()
        stock.wait()
        freezer.join()
        op = read_results(Path(f"{tmp}/ours")).operations["care_lookup"]
        row = locust_row(Path(f"{tmp}/stock"), "care_lookup")
        figures = {
            "rate_per_generator": args.rate, "stock_users": users,
            "duration_s": args.duration, "freeze_s": args.freeze,
            "ours_requests": op.requests,
            "ours_response_p99_9_ms": (op.response.summary().p99_9 or 0) * 1e3,
            "ours_response_p99_ms": (op.response.summary().p99 or 0) * 1e3,
            "ours_service_p99_9_ms": (op.service.summary().p99_9 or 0) * 1e3,
            "ours_late_starts": op.late_starts,
            "stock_requests": int(row["Request Count"]),
            "stock_p99_9_ms": float(row["99.9%"]),
            "stock_p99_ms": float(row["99%"]),
        }  # fmt: skip
    print(
        f"one {args.freeze:g} s freeze in a {args.duration:g} s run at {args.rate:g} lookups/s"
        f" (stock Locust: {figures['stock_users']} closed-model users)"
    )
    print(f"{'':34}{'p99':>10}{'p99.9':>10}{'requests':>10}")
    print(
        f"{'edgesla, from intended start':34}{figures['ours_response_p99_ms']:>8.1f}ms"
        f"{figures['ours_response_p99_9_ms']:>8.1f}ms{figures['ours_requests']:>10}"
    )
    print(f"{'edgesla, service time':34}{'':>10}{figures['ours_service_p99_9_ms']:>8.1f}ms")
    print(
        f"{'stock Locust (closed model)':34}{figures['stock_p99_ms']:>8.1f}ms"
        f"{figures['stock_p99_9_ms']:>8.1f}ms{figures['stock_requests']:>10}"
    )
    name = f"coordinated_omission-{figures['stock_users']}-users"
    print(f"saved: {save(name, figures)}")


if __name__ == "__main__":
    main()
