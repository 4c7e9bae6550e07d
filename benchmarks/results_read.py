"""Reading a large load-test results directory: this tree against a baseline tree, side by side.

A results directory of ``--operations`` operations with ``--requests`` requests each, their
latencies log-normal over 0.1 ms .. 1 hour so both histograms of every operation fill
thousands of buckets (what a long run against a stalling target leaves), is written once with
this tree's ``write_results``. Then ``read_results`` runs in a fresh process per round (as
``edgesla report --loadtest`` starts), alternately with this tree and with ``--baseline`` (a
source tree of another commit: ``git archive main | tar -x -C DIR``), ``--rounds`` times each:
the process's wall time, its own time inside ``read_results``, and its peak RSS.

    .venv/bin/python -m benchmarks.results_read --baseline /tmp/base [--operations 12]
        [--requests 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._common import save
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.results import GeneratorHealth, GeneratorHost, RunMeta, write_results

HERE = Path(__file__).resolve().parent.parent
_READ = """
import json, resource, sys, time
from edgesla.loadtests.results import read_results
start = time.perf_counter()
results = read_results(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({
    "read_seconds": seconds,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "requests": sum(op.requests for op in results.operations.values()),
}))
"""


def build(out: Path, operations: int, requests: int) -> None:
    rng = random.Random(7)
    recorder = Recorder()
    names = [f"op_{i:02d}" for i in range(operations)]
    for name in names:
        for i in range(requests):
            service = min(rng.lognormvariate(-4.5, 2.0), 3600.0)
            wait = rng.expovariate(10) if i % 50 == 0 else 0.0
            ok, late = i % 997 != 0, wait > 0
            recorder.record(name, 0.0, wait, wait + service, ok, None if ok else "timeout", late)
    start = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
    meta = RunMeta(
        profile="peak",
        target_rates=dict.fromkeys(names, 50.0),
        duration_seconds=3600.0,
        started_at=start,
        ended_at=start + timedelta(hours=1),
        generators=(GeneratorHost("gen-a", 2),),
        command_line=("edgesla", "loadtest"),
        health=GeneratorHealth(cpu_saturated=False, too_few_users=False),
    )
    write_results(out, meta, recorder)


def read_once(tree: Path, results: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _READ, str(results)],
        env=env,
        cwd=tempfile.gettempdir(),  # not this checkout: the tree comes from PYTHONPATH alone
        check=True,
        capture_output=True,
        text=True,
    )
    measured: dict[str, Any] = json.loads(done.stdout)
    measured["wall_seconds"] = time.perf_counter() - start
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--operations", type=int, default=12)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="edgesla-results-read-") as tmp:
        results = Path(tmp) / "run"
        build(results, args.operations, args.requests)
        size = sum(p.stat().st_size for p in results.rglob("*") if p.is_file())
        trees = {"baseline": args.baseline.resolve(), "this": HERE}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                runs[name].append(read_once(tree, results))
    assert runs["this"][0]["requests"] == runs["baseline"][0]["requests"]
    summary = {
        name: {
            key: statistics.median(r[key] for r in rounds)
            for key in ("wall_seconds", "read_seconds", "peak_rss_mib")
        }
        for name, rounds in runs.items()
    }
    ratio = summary["this"]["read_seconds"] / summary["baseline"]["read_seconds"]
    report = {
        "what": "read_results of one results directory, a fresh process per round, alternating",
        "operations": args.operations,
        "requests_per_operation": args.requests,
        "directory_bytes": size,
        "rounds": args.rounds,
        "cpu_count": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "median": summary,
        "read_seconds_this_over_baseline": ratio,
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))
    print(f"written to {save('results_read', report)}")


if __name__ == "__main__":
    main()
