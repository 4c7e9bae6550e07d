"""The SLA report read from VictoriaMetrics, side by side with the same report read from the
Prometheus that holds the same fleet month, through the CLI as a manager runs it.

1. A Prometheus TSDB of ``--pops`` PoPs x ``--days`` days (``fleet_data``, the report roll-ups
   recorded by promtool), made here or reused (``--tsdb``: one kept by ``report_scale --keep``).
2. A VictoriaMetrics (Debian's, with the stack's command line) given the same samples: the
   OpenMetrics text regenerated chunk by chunk and imported (``/api/v1/import/prometheus``),
   the roll-ups copied from the Prometheus a day at a time (as remote_write would have sent
   them); the samples counted in both.
3. ``edgesla report`` (a subprocess: wall time, peak RSS) against each, alternately, twice;
   the two report.json compared (all but the times and the server URLs); each server's RSS
   and its data on disk.

Ports: EDGESLA_TEST_BASE_PORT (default 19500) + 950 (Prometheus) and + 952 (VictoriaMetrics).

    .venv/bin/python -m benchmarks.report_store [--pops 300] [--days 30] [--step 60] [--tsdb DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from benchmarks._common import save
from benchmarks.fleet_data import CHUNK, Fleet, backfill, troubled_pops
from benchmarks.report_scale import SPEC, T0, _fleet_file, link_tree, record_rollups, report, serve
from edgesla.stack import victoriametrics
from edgesla.stack.layout import Layout
from tests.ports import port
from tests.victoriametrics import import_body

PROMETHEUS = f"http://127.0.0.1:{port(950)}"
_DAY = 86400


def _rss_mib(url: str) -> float:
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("process_resident_memory_bytes "):
            return round(float(line.split()[1]) / 2**20, 1)
    return float("nan")


def _du_mib(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def import_raw(fleet: Fleet, vm: str) -> int:
    """The fleet's samples, generated again 2 hours at a time, imported; how many."""
    samples = 0

    def text(lo: int) -> str:
        lines = "".join(t for t in fleet.chunk(lo, lo + CHUNK) if not t.startswith("#"))
        return lines.replace("\n", "000\n")  # every line ends in its time: seconds -> ms

    starts = range(fleet.first - fleet.first % CHUNK, fleet.last, CHUNK)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(text, starts[0])
        for index in range(len(starts)):
            body = pending.result()
            if index + 1 < len(starts):
                pending = pool.submit(text, starts[index + 1])
            requests.post(
                f"{vm}/api/v1/import/prometheus", data=body.encode(), timeout=600
            ).raise_for_status()
            samples += body.count("\n")
    return samples


def copy_rollups(fleet: Fleet, vm: str) -> int:
    """The roll-up series recorded in Prometheus, copied a day at a time; how many samples."""
    samples = 0
    for hi in range(fleet.first + _DAY, fleet.last + _DAY, _DAY):
        result = requests.post(
            f"{PROMETHEUS}/api/v1/query",
            data={"query": '{__name__=~"pop:.+"}[1d]', "time": str(hi)},
            timeout=600,
        ).json()["data"]["result"]
        samples += sum(len(s["values"]) for s in result)
        requests.post(
            f"{vm}/api/v1/import", data=import_body(result), timeout=600
        ).raise_for_status()
    return samples


def _count(url: str, fleet: Fleet, metric: str) -> float:
    span = fleet.last - fleet.first + _DAY
    body = requests.post(
        f"{url}/api/v1/query",
        data={"query": f"sum(count_over_time({metric}[{span}s]))", "time": str(fleet.last)},
        timeout=600,
    ).json()
    return float(body["data"]["result"][0]["value"][1])


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in doc.items() if k not in ("generated_at", "sources")}
    objectives = {}
    for objective in doc["objectives"]:
        if objective["evidence"]:
            objective["evidence"] = {
                k: v for k, v in objective["evidence"].items() if k != "source"
            }
        objectives[f"{objective['pop']}/{objective['name']}"] = objective
    return doc | {"objectives": objectives}


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ (objectives keyed by PoP and name)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b), key=str)
            for d in _differences(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {str(a)[:120]} | {str(b)[:120]}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pops", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--step", type=int, default=60, help="scrape interval, seconds")
    parser.add_argument("--tsdb", type=Path, help="a TSDB kept by report_scale --keep")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="edgesla-report-store-", dir="/tmp"))
    fleet = Fleet(args.pops, int(T0.timestamp()), args.days, args.step, troubled_pops(args.pops))
    names = [f"pop-{p:04d}" for p in range(args.pops)]
    figures: dict[str, Any] = {"options": {k: str(v) for k, v in vars(args).items()}}
    layout = Layout(root, port(938))  # VictoriaMetrics on base + 14 = port(952)
    vm_url = victoriametrics.url(layout)
    vm_proc = None
    try:
        (root / "slo.yaml").write_text(SPEC, encoding="utf-8")
        inventory = _fleet_file(root / "fleet.yaml", [*names, "pop-silent"])
        end = datetime.fromtimestamp(fleet.start + args.days * _DAY, UTC)
        period = (
            ["--month", "2023-11"]
            if args.days == 30
            else ["--from", T0.isoformat(), "--to", end.isoformat()]
        )
        if args.tsdb:
            link_tree(args.tsdb, root / "tsdb")
        else:
            (root / "tsdb").mkdir()
            figures["backfill"] = backfill(fleet, root / "tsdb", root)
            record_rollups(root, fleet, port(950))
        prom = serve(root, port(950))
        with (root / "victoriametrics.log").open("ab") as log:
            vm_proc = subprocess.Popen(
                victoriametrics.command(layout), stdout=log, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 60
            while not victoriametrics.check(layout)[0] and time.monotonic() < deadline:
                time.sleep(0.2)
            t0 = time.perf_counter()
            raw = import_raw(fleet, vm_url)
            rolled = copy_rollups(fleet, vm_url)
            requests.get(f"{vm_url}/internal/force_flush", timeout=600).raise_for_status()
            figures["import"] = {"raw_samples": raw, "rollup_samples": rolled,
                                 "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
            print(f"imported {figures['import']}", flush=True)
            figures["same_samples"] = {
                metric: [_count(PROMETHEUS, fleet, metric), _count(vm_url, fleet, metric)]
                for metric in (
                    "edgesla_probe_up",
                    "edgesla_probe_latency_seconds_bucket",
                    "pop:edgesla_probe_up_samples:min5m",
                )
            }
            runs: dict[str, list[dict[str, Any]]] = {"prometheus": [], "victoria_metrics": []}
            docs: dict[str, dict[str, Any]] = {}
            for round_ in range(2):
                for store, url in (("prometheus", PROMETHEUS), ("victoria_metrics", vm_url)):
                    timing, doc = report(root, f"{store}-{round_}", inventory, period, url=url)
                    runs[store].append(timing)
                    docs[store] = _comparable(doc)
                    print(f"  {store}: {timing}", flush=True)
            figures["report"] = runs
            differences = _differences(docs["prometheus"], docs["victoria_metrics"])
            figures["reports_identical"] = not differences
            figures["report_differences"] = differences[:20]
            figures["verdict"] = docs["prometheus"]["verdict"]
            figures["server_rss_mib"] = {"prometheus": _rss_mib(PROMETHEUS),
                                         "victoria_metrics": _rss_mib(vm_url)}  # fmt: skip
        finally:
            prom.terminate()
            prom.wait(timeout=120)
            vm_proc.terminate()
            vm_proc.wait(timeout=120)
        figures["data_on_disk_mib"] = {
            "prometheus": _du_mib(root / "tsdb"), "victoria_metrics": _du_mib(layout.data_dir),
        }  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"saved {save('report_store', figures)}")


if __name__ == "__main__":
    main()
