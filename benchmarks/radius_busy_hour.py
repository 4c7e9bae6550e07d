"""The busy hour with the BNG's RADIUS traffic: what one `edgesla loadtest` process costs
and holds against the local stack's MongoDB-wire server.

Two parts, in one run, one process each (the CLI as a user runs it, under GNU ``time``):

1. **Side by side**: the default 100,000-subscriber PoP's busy hour without the RADIUS
   operations (the model before them: 10.4 req/s) and with them (174.3 req/s: 160
   interim updates/s dominate). Wall time, peak RSS (the largest process of the CLI's
   tree), achieved rate, late starts, p99 and generator CPU of each.
2. **Ceiling of the accounting path**: ``acct_interim`` alone at rising rates (uniform
   arrivals, so the target count is exact); the highest rate held within ±2 % with under
   1 % late starts and no failure, and the PoP size whose busy-hour interim updates that is
   (``rate * interim_interval / online share``). Service time and the generator's CPU say
   which side gave up: here it is the MongoDB-wire server (a Python process on the same two
   cores), not the generator; the generator's own ceiling against a fast target is
   ``benchmarks/rate_accuracy.py``.

    .venv/bin/python benchmarks/radius_busy_hour.py [--duration 30] [--base-port 19920]

The stack is the benchmark's own (ports base..base+13; the default is offset 420 of
tests/ports.py's benchmark block when EDGESLA_TEST_BASE_PORT is set).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import EDGESLA, private_stack, save
from edgesla.loadtests.profile import DAILY_OPERATIONS, OPERATIONS, default_model
from edgesla.loadtests.rates import busy_hour, peak_rates
from edgesla.loadtests.results import read_results

GNU_TIME = "/usr/bin/time"


def run_cli(pop_config: str, out: Path, duration: float, *extra: str) -> dict[str, Any]:
    """One `edgesla loadtest` under GNU time: its results, wall time and peak RSS."""
    rss_file = out.with_suffix(".rss")
    argv = [
        GNU_TIME, "-f", "%M", "-o", str(rss_file), EDGESLA, "loadtest",
        "--config", pop_config, "--profile", "peak", "--duration", f"{duration:g}s",
        "--out", str(out), *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(argv, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - started
    results = read_results(out, allow_incomplete=True) if (out / "meta.json").exists() else None
    row: dict[str, Any] = {
        "exit": proc.returncode,
        "wall_seconds": round(wall, 2),
        "peak_rss_mib": round(int(rss_file.read_text().split()[-1]) / 1024, 1),
    }
    if results is None:
        row["stderr"] = proc.stderr[-2000:]
        return row
    ops = {}
    for name, op in results.operations.items():
        achieved = results.achieved_rate(name) or 0.0
        ops[name] = {
            "target": round(results.meta.target_rates.get(name, 0.0), 3),
            "achieved": round(achieved, 3),
            "requests": op.requests,
            "failed": op.failed,
            "late_pct": round(op.late_starts / max(1, op.requests) * 100, 2),
            "p99_ms": _ms(op.response.summary().p99),
            "service_p50_ms": _ms(op.service.summary().p50),
            "service_p99_ms": _ms(op.service.summary().p99),
        }
    row["operations"] = ops
    row["total_target"] = round(sum(o["target"] for o in ops.values()), 2)
    row["total_achieved"] = round(sum(o["achieved"] for o in ops.values()), 2)
    row["generator_cpu_max_pct"] = results.meta.health.max_cpu_percent
    # too few users: the users were busy waiting for answers, i.e. the target slowed down
    row["generator_too_few_users"] = results.meta.health.too_few_users
    return row


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def side_by_side(pop_config: str, duration: float, tmp: Path) -> dict[str, Any]:
    before = run_cli(
        pop_config, tmp / "without-radius", duration, "--operations", ",".join(DAILY_OPERATIONS)
    )
    after = run_cli(pop_config, tmp / "with-radius", duration, "--operations", ",".join(OPERATIONS))
    for label, row in (("without RADIUS", before), ("with RADIUS", after)):
        print(
            f"{label:15} target {row.get('total_target', 0):7.1f}/s achieved "
            f"{row.get('total_achieved', 0):7.1f}/s  wall {row['wall_seconds']:5.1f}s  "
            f"peak RSS {row['peak_rss_mib']:6.1f} MiB  cpu max "
            f"{row.get('generator_cpu_max_pct') or 0:3.0f}%  exit {row['exit']}",
            flush=True,
        )
    return {"without_radius": before, "with_radius": after}


def ceiling(pop_config: str, rates: list[float], duration: float, tmp: Path) -> dict[str, Any]:
    base = peak_rates(default_model().pop)["acct_interim"]  # 160/s at 100,000 subscribers
    steps, top = [], None
    for rate in rates:
        row = run_cli(
            pop_config, tmp / f"interim-{rate:g}", duration, "--operations", "acct_interim",
            "--arrivals", "uniform", "--rate-scale", f"{rate / base:.6f}",
        )  # fmt: skip
        op = row.get("operations", {}).get("acct_interim")
        if op is None:
            steps.append({"target": rate, "held": False, **row})
            continue
        error = (op["achieved"] - rate) / rate * 100
        steps.append({"target": rate, "error_pct": round(error, 2), **row})
        print(
            f"acct_interim target {rate:6.0f}/s achieved {op['achieved']:7.1f}/s "
            f"({error:+5.1f}%, late {op['late_pct']:4.1f}%, p99 {op['p99_ms']} ms, service "
            f"p50 {op['service_p50_ms']} ms, cpu {row.get('generator_cpu_max_pct') or 0:3.0f}%, "
            f"failed {op['failed']})",
            flush=True,
        )
        steps[-1]["held"] = abs(error) <= 2 and op["late_pct"] < 1 and op["failed"] == 0
    for step in steps:  # the ceiling: the highest rate up to which every step held
        if not step.get("held"):
            break
        top = step["target"]
    pop = default_model().pop
    online = pop.radius.online[busy_hour(pop)]
    subscribers = None if top is None else int(top * pop.radius.interim_interval / online)
    return {"steps": steps, "ceiling_req_s": top, "pop_subscribers_at_ceiling": subscribers}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rates", default="80,160,240,320")
    default_port = int(os.environ.get("EDGESLA_TEST_BASE_PORT", "19500")) + 420
    parser.add_argument("--base-port", type=int, default=default_port)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with private_stack(args.base_port) as status, tempfile.TemporaryDirectory() as tmp:
        pop_config = status["pop_config"]
        data = {
            "conditions": {
                "cpus": os.cpu_count(),
                "load_average_at_start": os.getloadavg(),
                "duration_seconds": args.duration,
                "stack_subscribers": 2000,
                "note": "2-core box shared with other test runs: absolute figures are "
                "inflated by the load; compare the rows of one run",
            },
            "side_by_side": side_by_side(pop_config, args.duration, Path(tmp)),
            "interim_ceiling": ceiling(pop_config, rates, min(args.duration, 20.0), Path(tmp)),
        }
        data["conditions"]["load_average_at_end"] = os.getloadavg()
    top = data["interim_ceiling"]
    print(
        f"ceiling, one process, acct_interim: {top['ceiling_req_s']} req/s "
        f"(a PoP of {top['pop_subscribers_at_ceiling']} subscribers at 10 min interims)"
    )
    print(f"saved: {save('radius_busy_hour', data)}")


if __name__ == "__main__":
    main()
