"""What the Prometheus conventions cost a scrape, beside the exporter before them, in one run.

Two `edgesla exporter` processes on the same PoP config (``--targets`` etcd targets on an
address where nothing listens, a 1 h interval: each is probed once, then only scraped), as
a user starts them:

- ``baseline``: the exporter of a given git revision (default ``main``), unpacked with
  ``git archive`` and run by this venv's Python;
- ``branch``: this checkout, which adds build_info, the process_*/python_* metrics and the
  config-reload gauges to every scrape, and (``branch_web``) the web config's stat check on
  every request (``--web.config.file`` with basic auth, a cached credential).

In rounds (baseline, branch, branch_web, then again; ``--rounds``), each gets ``--scrapes``
scrapes of /metrics in a row over one kept-alive connection: p50 and p99 latency, the
process's CPU seconds per 1,000 scrapes, page size; and the peak RSS (VmHWM) of each
process at the end. Then ``POST /-/reload`` on the branch: the median time of
``--reloads`` reloads of the same config.

    .venv/bin/python benchmarks/exporter_conventions.py [--targets 20] [--scrapes 500]

Ports: EDGESLA_TEST_BASE_PORT (default 19500) + 960..962 (tests/ports.py).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bcrypt
import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import EDGESLA, save, unpack_revision

BASE = int(os.environ.get("EDGESLA_TEST_BASE_PORT", "19500")) + 960


def _pop(targets: int) -> str:
    lines = "".join(
        f'  - {{name: etcd-{i:02d}, prober: etcd, endpoints: ["http://127.0.0.1:1"]}}\n'
        for i in range(targets)
    )
    return (
        "version: 1\npop: bench-pop\nregion: bench\n"
        "defaults: {interval: 1h, timeout: 1s, jitter: 0s, "
        f"control_plane: {{interval: 1h, timeout: 1s}}}}\ntargets:\n{lines}"
    )


def _start(argv: list[str], port: int, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{argv}: exited:\n{log.read_text()}")
        time.sleep(0.2)
    raise SystemExit(f"{argv}: not ready in 60 s:\n{log.read_text()}")


def _scrapes(port: int, n: int, pid: int, auth: str | None) -> dict[str, float]:
    headers = {"Authorization": auth} if auth else {}
    process = psutil.Process(pid)
    with requests.Session() as session:
        session.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=10)
        cpu0 = sum(process.cpu_times()[:2])
        times, size = [], 0
        for _ in range(n):
            t0 = time.perf_counter()
            reply = session.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=10)
            times.append(time.perf_counter() - t0)
            assert reply.status_code == 200, reply.status_code
            size = len(reply.content)
        cpu = sum(process.cpu_times()[:2]) - cpu0
    times.sort()
    return {
        "p50_ms": times[len(times) // 2] * 1e3,
        "p99_ms": times[int(len(times) * 0.99)] * 1e3,
        "cpu_s_per_1000": cpu / n * 1000,
        "page_bytes": size,
    }


def _hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--scrapes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reloads", type=int, default=20)
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgesla-bench-conv-") as tmp:
        d = Path(tmp)
        (d / "pop.yaml").write_text(_pop(args.targets))
        hashed = bcrypt.hashpw(b"bench-pw", bcrypt.gensalt(rounds=12)).decode()
        (d / "web.yml").write_text(f"basic_auth_users:\n  bench: '{hashed}'\n")
        auth = "Basic " + base64.b64encode(b"bench:bench-pw").decode()
        base_src = unpack_revision(args.baseline, d / "baseline")
        base_env = {**os.environ, "PYTHONPATH": f"{base_src}/src:{base_src}"}
        common = ["exporter", "--config", str(d / "pop.yaml"), "--max-concurrency", "1"]
        runs: dict[str, tuple[list[str], int, dict[str, str], str | None]] = {
            "baseline": ([sys.executable, "-m", "edgesla", *common, "--listen",
                          f"127.0.0.1:{BASE}"], BASE, base_env, None),
            "branch": ([EDGESLA, *common, "--web.listen-address", f"127.0.0.1:{BASE + 1}"],
                       BASE + 1, dict(os.environ), None),
            "branch_web": ([EDGESLA, *common, "--web.listen-address", f"127.0.0.1:{BASE + 2}",
                            "--web.config.file", str(d / "web.yml")], BASE + 2,
                           dict(os.environ), auth),
        }  # fmt: skip
        procs = {
            name: _start(argv, port, d / f"{name}.log", env)
            for name, (argv, port, env, _) in runs.items()
        }
        try:
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
            for _ in range(args.rounds):
                for name, (_, port, _, header) in runs.items():
                    rounds[name].append(_scrapes(port, args.scrapes, procs[name].pid, header))
            reload_ms = []
            for _ in range(args.reloads):
                t0 = time.perf_counter()
                reply = requests.post(f"http://127.0.0.1:{BASE + 1}/-/reload", timeout=30)
                reload_ms.append((time.perf_counter() - t0) * 1e3)
                assert reply.status_code == 200, reply.text
            peak = {name: _hwm(proc.pid) for name, proc in procs.items()}
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(20)
    result: dict[str, Any] = {
        "conditions": {
            "targets": args.targets, "scrapes_per_round": args.scrapes, "rounds": args.rounds,
            "baseline": args.baseline, "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "note": "a busy 2-core machine: compare the columns of one run, not absolute times",
        },
        "median_of_rounds": {
            name: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
            for name, rs in rounds.items()
        },
        "rounds": rounds,
        "peak_rss_bytes": peak,
        "reload_ms": {"median": statistics.median(reload_ms), "max": max(reload_ms)},
    }  # fmt: skip
    med = result["median_of_rounds"]
    result["ratios_to_baseline"] = {
        name: {
            k: round(med[name][k] / med["baseline"][k], 3)
            for k in ("p50_ms", "p99_ms", "cpu_s_per_1000")
        }
        for name in ("branch", "branch_web")
    }
    print(save("exporter_conventions", result))
    shown = ("median_of_rounds", "ratios_to_baseline", "peak_rss_bytes", "reload_ms")
    print(json.dumps({k: result[k] for k in shown}, indent=1))


if __name__ == "__main__":
    main()
