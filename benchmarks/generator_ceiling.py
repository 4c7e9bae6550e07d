"""The load generator's own ceiling, against a target that is not the limit (issue 13, item 6).

Debian's nginx serves a small JSON document on loopback (one worker), so what is measured is
the generator. Side by side in one run, one process each:

* **ours**: ``edgesla loadtest --operations selfcare_http --arrivals uniform`` (open model,
  latency from the intended start, exact histograms, every request accounted for) at rising
  target rates; the ceiling is the highest rate held within ±2 % with under 1 % late starts
  and no failure; then ``--processes 2`` at twice that;
* **stock Locust** ``FastHttpUser`` (closed loop, no wait: as fast as its users go), its own
  statistics;
* **wrk** (one thread, 16 connections): the physical reference.

The PoP config is the private stack's (the load test samples its subscriber ids from the
stack's MongoDB) with ``loadtest.selfcare_url`` pointed at nginx. Every run is a subprocess:
wall time and peak RSS (``wait4``) of that process are recorded.

    .venv/bin/python -m benchmarks.generator_ceiling [--duration 15] [--rates 500,1000,...]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks._common import (
    EDGESLA,
    env_with,
    locust_row,
    private_stack,
    save,
    stock_locust,
)
from edgesla.loadtests.results import read_results

#: selfcare_http's rate at the default 100,000-subscriber PoP's peak (docs/traffic-model.md)
BASE_RATE = 2.215
#: tests/ports.py: the stack on 986..999, nginx on 261
STACK_PORT = 19500 + 986
NGINX_PORT = 19500 + 261
_NGINX = """daemon off;
worker_processes 1;
pid {state}/nginx.pid;
error_log {state}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {state}/body;
  proxy_temp_path {state}/proxy;
  fastcgi_temp_path {state}/fastcgi;
  uwsgi_temp_path {state}/uwsgi;
  scgi_temp_path {state}/scgi;
  server {{
    listen 127.0.0.1:{port};
    default_type application/json;
    location = /healthz {{ return 200 '{{"status":"ok"}}'; }}
    location /api/v1/subscribers/ {{
      return 200 '{{"subscriber":{{"id":"2000001","plan":"fiber-500","status":"active"}}}}';
    }}
  }}
}}
"""


def _timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS MiB, stdout+stderr) of one subprocess."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, time.perf_counter() - began, usage.ru_maxrss / 1024, output


def start_nginx(state: Path) -> subprocess.Popen[bytes]:
    conf = state / "nginx.conf"
    conf.write_text(_NGINX.format(state=state, port=NGINX_PORT), encoding="utf-8")
    proc = subprocess.Popen(["nginx", "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["wrk", "-t1", "-c1", "-d1s", f"http://127.0.0.1:{NGINX_PORT}/healthz"],
            capture_output=True,
            check=False,
        )
        if done.returncode == 0:
            return proc
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("nginx did not start")


def ours(
    config: Path, rate: float, duration: float, tmp: Path, processes: int = 1, per_user: float = 10
) -> dict[str, Any]:
    out = tmp / f"ours-{rate:g}-{processes}-{per_user:g}"
    code, wall, rss, _ = _timed(
        [
            EDGESLA,
            "loadtest",
            "--config",
            str(config),
            "--operations",
            "selfcare_http",
            "--arrivals",
            "uniform",
            "--rate-scale",
            f"{rate / BASE_RATE:.6f}",
            "--duration",
            f"{duration:g}s",
            "--processes",
            str(processes),
            "--metrics-listen",
            "off",
            "--max-user-rate",
            f"{per_user:g}",
            "--out",
            str(out),
        ]
    )
    results = read_results(out, allow_incomplete=True)
    op = results.operations["selfcare_http"]
    achieved = results.achieved_rate("selfcare_http")
    summary = op.response.summary()
    return {
        "target": rate,
        "processes": processes,
        "max_user_rate": per_user,
        "achieved": round(achieved, 1),
        "error_pct": round((achieved - rate) / rate * 100, 2),
        "late_pct": round(op.late_starts / max(1, op.requests) * 100, 2),
        "failed": op.failed,
        "p99_ms": None if summary.p99 is None else round(summary.p99 * 1000, 2),
        "cpu_max_pct": results.meta.health.max_cpu_percent,
        "exit": code,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rss, 1),
    }


def held(row: dict[str, Any]) -> bool:
    return abs(row["error_pct"]) <= 2 and row["late_pct"] < 1 and not row["failed"]


def stock(users: int, duration: float, tmp: Path) -> dict[str, Any]:
    prefix = tmp / f"stock-{users}"
    code, wall, rss, _ = _timed(
        stock_locust("StockHttpUser", users, duration, prefix),
        env=env_with(
            EDGESLA_BENCH_HTTP=f"http://127.0.0.1:{NGINX_PORT}",
            EDGESLA_BENCH_USER_RATE="1000000",  # no wait: a closed loop as fast as it goes
        ),
    )
    row = locust_row(prefix, "selfcare_http")
    return {
        "users": users,
        "achieved": round(float(row["Requests/s"]), 1),
        "failures": int(row["Failure Count"]),
        "p99_ms": float(row["99%"]),
        "exit": code,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rss, 1),
    }


def wrk(duration: float) -> dict[str, Any]:
    code, wall, rss, output = _timed(
        [
            "wrk",
            "-t1",
            "-c16",
            f"-d{duration:g}s",
            f"http://127.0.0.1:{NGINX_PORT}/api/v1/subscribers/1",
        ]
    )
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return {
        "achieved": float(found.group(1)) if found else None,
        "exit": code,
        "wall_s": round(wall, 1),
        "peak_rss_mib": round(rss, 1),
    }


def sweep(
    config: Path, rates: list[float], duration: float, tmp: Path, per_user: float
) -> tuple[list[dict[str, Any]], float | None]:
    """Rising rates until one is not held; (the steps, the highest rate held)."""
    steps, ceiling = [], None
    for rate in rates:
        row = ours(config, rate, duration, tmp, per_user=per_user)
        steps.append(row)
        print(
            f"ours, --max-user-rate {per_user:g}, {rate:6.0f}/s: {row['achieved']:8.1f}/s "
            f"({row['error_pct']:+5.1f}%), late {row['late_pct']:4.1f}%, p99 {row['p99_ms']} ms, "
            f"cpu {row['cpu_max_pct'] or 0:3.0f}%",
            flush=True,
        )
        if not held(row):
            break
        ceiling = rate
    return steps, ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rates", default="500,1000,1500,2000,3000,4000,5000,6000,8000")
    parser.add_argument("--stock-users", default="10,50")
    parser.add_argument(
        "--max-user-rates", default="10,100", help="edgesla loadtest --max-user-rate values"
    )
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with (
        private_stack(STACK_PORT) as status,
        tempfile.TemporaryDirectory(prefix="edgesla-ceiling-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        tmp.chmod(0o755)
        nginx = start_nginx(tmp)
        try:
            config = tmp / "pop.yaml"
            pop = yaml.safe_load(Path(status["pop_config"]).read_text(encoding="utf-8"))
            pop["loadtest"]["selfcare_url"] = f"http://127.0.0.1:{NGINX_PORT}"
            config.write_text(yaml.safe_dump(pop), encoding="utf-8")
            reference = wrk(args.duration)
            print(f"wrk -t1 -c16: {reference['achieved']} req/s", flush=True)
            baseline = [stock(int(u), args.duration, tmp) for u in args.stock_users.split(",")]
            for row in baseline:
                print(
                    f"stock Locust FastHttpUser, {row['users']} users: {row['achieved']} req/s "
                    f"(p99 {row['p99_ms']} ms, {row['failures']} failures)",
                    flush=True,
                )
            series: dict[str, Any] = {}
            for per_user in (float(v) for v in args.max_user_rates.split(",")):
                steps, ceiling = sweep(config, rates, args.duration, tmp, per_user)
                series[f"{per_user:g}"] = {"steps": steps, "ceiling_req_s": ceiling}
            best_per_user, best = max(
                ((k, v["ceiling_req_s"] or 0.0) for k, v in series.items()), key=lambda kv: kv[1]
            )
            two = None
            if best:
                two = ours(config, 2 * best, args.duration, tmp, 2, float(best_per_user))
                print(
                    f"ours --processes 2 at {2 * best:g}/s: {two['achieved']}/s, "
                    f"late {two['late_pct']}%, held: {held(two)}",
                    flush=True,
                )
        finally:
            nginx.terminate()
            nginx.wait()
    best_stock = max(row["achieved"] for row in baseline)
    data = {
        "conditions": {
            "cores": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "duration_s": args.duration,
            "target": "nginx-light, 1 worker, `return 200` JSON on loopback",
        },
        "wrk": reference,
        "stock_locust_fasthttpuser": baseline,
        "ours_by_max_user_rate": series,
        "ours_two_processes": two,
        "best_ceiling_vs_stock": round(best / best_stock, 3),
    }
    for key, value in series.items():
        top = value["ceiling_req_s"]
        print(
            f"ceiling, one process, --max-user-rate {key}: {top} req/s"
            + (f" = {top / best_stock:.0%} of stock Locust's {best_stock:g}" if top else "")
        )
    print(f"saved: {save('generator_ceiling', data)}")


if __name__ == "__main__":
    main()
