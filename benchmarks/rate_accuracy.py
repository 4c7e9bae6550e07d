"""Rate accuracy and the per-process ceiling, for the MongoDB lookup and the HTTP call.

For rising target rates, one Locust process runs each operation alone for a fixed time:
our open-model schedule (uniform arrivals, so the target count is exact) side by side with
stock Locust's ``constant_throughput`` pacing at the same target. Reported per step:
achieved rate and its error against the target, late starts, generator CPU. The ceiling is
the highest target our process meets within ±2 % with under 1 % late starts.

    .venv/bin/python benchmarks/rate_accuracy.py [--duration 20] [--rates 100,200,400,...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import EDGESLA, env_with, locust_row, private_stack, save, stock_locust
from edgesla.loadtests.results import read_results

#: Rates of the default 100,000-subscriber PoP at peak (docs/traffic-model.md).
BASE = {"care_lookup": 0.504, "selfcare_http": 2.215}
STOCK_CLASS = {"care_lookup": "StockMongoUser", "selfcare_http": "StockHttpUser"}


def ours(pop_config: str, op: str, rate: float, duration: float, tmp: str) -> dict[str, Any]:
    out = Path(tmp) / f"ours-{op}-{rate:g}"
    subprocess.run(
        [
            EDGESLA,
            "loadtest",
            "--config",
            pop_config,
            "--operations",
            op,
            "--arrivals",
            "uniform",
            "--rate-scale",
            f"{rate / BASE[op]:.6f}",
            "--duration",
            f"{duration:g}s",
            "--out",
            str(out),
        ],
        check=False,
        capture_output=True,
    )
    results = read_results(out)
    result = results.operations[op]
    achieved = results.achieved_rate(op)
    return {
        "achieved": achieved,
        "error_pct": (achieved - rate) / rate * 100,
        "late_pct": result.late_starts / max(1, result.requests) * 100,
        "failed": result.failed,
        "cpu_max": results.meta.health.max_cpu_percent,
    }


def stock(status: dict[str, Any], op: str, rate: float, duration: float, tmp: str) -> float:
    users = max(2, int(rate // 10))
    prefix = Path(tmp) / f"stock-{op}-{rate:g}"
    mongo = next(c for c in status["components"] if c["name"] == "mongo")
    selfcare = next(c for c in status["components"] if c["name"] == "selfcare")
    subprocess.run(
        stock_locust(STOCK_CLASS[op], users, duration, prefix),
        env=env_with(
            EDGESLA_BENCH_MONGO=mongo["url"],
            EDGESLA_BENCH_HTTP=selfcare["url"],
            EDGESLA_BENCH_USER_RATE=str(rate / users),
        ),
        check=False,
        capture_output=True,
    )
    return float(locust_row(prefix, op)["Requests/s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rates", default="100,200,400,600,800,1000,1200")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    table: dict[str, list[dict[str, Any]]] = {}
    ceiling: dict[str, float | None] = {}
    with private_stack(19940) as status, tempfile.TemporaryDirectory() as tmp:
        for op in BASE:
            table[op], ceiling[op] = [], None
            for rate in rates:
                row = {"target": rate, **ours(status["pop_config"], op, rate, args.duration, tmp)}
                row["stock_achieved"] = stock(status, op, rate, args.duration, tmp)
                row["stock_error_pct"] = (row["stock_achieved"] - rate) / rate * 100
                table[op].append(row)
                print(
                    f"{op:14} target {rate:6.0f}/s  ours {row['achieved']:8.1f}/s "
                    f"({row['error_pct']:+5.1f}%, late {row['late_pct']:4.1f}%, "
                    f"cpu {row['cpu_max'] or 0:3.0f}%)  stock {row['stock_achieved']:8.1f}/s "
                    f"({row['stock_error_pct']:+5.1f}%)",
                    flush=True,
                )
                if abs(row["error_pct"]) <= 2 and row["late_pct"] < 1 and not row["failed"]:
                    ceiling[op] = rate
                else:
                    break
    for op, top in ceiling.items():
        print(f"ceiling, one process, {op}: {top:g} req/s" if top else f"{op}: no step passed")
    print(f"saved: {save('rate_accuracy', {'steps': table, 'ceiling': ceiling})}")


if __name__ == "__main__":
    main()
