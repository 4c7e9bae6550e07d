"""The SLA report at fleet scale, through the CLI: ``edgesla report --fleet ... --month ...``
as a manager runs it, against a real Prometheus holding a fleet's month at the real 15-s
scrape interval.

1. Backfill November 2023 of ``--pops`` PoPs (``fleet_data``: probe counters, the latency
   histogram, replication lag; one PoP in a hundred troubled) with promtool, plus a day
   before; start Prometheus on it.
2. Time ``edgesla report`` (a subprocess: wall time and its peak RSS from ``wait4``) with
   availability, probe-latency and lag objectives for the whole fleet inventory (and one
   silent PoP), writing HTML and JSON (``--no-pdf``):
   * **fleet, raw scan**: before the report roll-ups exist (the fallback);
   * **fleet, roll-ups**: after ``promtool tsdb create-blocks-from rules`` recorded the roll-ups
     ``edgesla rules`` writes, as a Prometheus loaded with them records them while scraping;
   * **per PoP** (``--evidence per-pop``, the reference): on ``--per-pop-sample`` PoPs,
     extrapolated to the fleet.
3. Check every answer: exit code 3 (five nines is not provable in a month at 15 s), every PoP
   of the inventory judged, the silent one INCONCLUSIVE with its reason, the clean PoPs' counts
   exact.

Full size (2,000 PoPs x 30 days at 15 s, ~5.9 G samples) takes hours to generate on 2 cores:
``--keep DIR`` keeps the TSDB (with the roll-ups), ``--tsdb DIR`` measures again on it.

    .venv/bin/python -m benchmarks.report_scale [--pops 2000] [--days 31] [--step 15]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import yaml

from benchmarks._common import EDGESLA, save
from benchmarks.fleet_data import Fleet, backfill, troubled_pops
from edgesla.report.inputs import rollups
from edgesla.report.pipeline import NO_DATA

PORT = 19978
T0 = datetime(2023, 11, 1, tzinfo=UTC)
URL = f"http://127.0.0.1:{PORT}"
SPEC = """version: 1
title: Edge fleet SLA
objectives:
  - {name: probe-availability, sli: probe_success, objective: 99.999%}
  - {name: lookup-p99, sli: latency, source: probes, targets: [pg], threshold: 200ms,
     percentile: 99}
  - {name: replication-lag, sli: replication_lag, threshold: 1s, objective: 99.9%}
"""


def _fleet_file(path: Path, pops: list[str]) -> Path:
    lines = ["version: 1", "pops:"]
    lines += [f"  - {{name: {p}, region: eu, exporter: '{p}.edge.example.net:9830'}}" for p in pops]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def serve(root: Path, port: int = PORT) -> subprocess.Popen[bytes]:
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
            "--storage.tsdb.min-block-duration=2h",
            "--storage.tsdb.max-block-duration=2h",
            "--query.timeout=60m",
        ],
        stdout=(root / "prometheus.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("prometheus did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=120)


def prometheus_rss_mib() -> float:
    text = requests.get(f"{URL}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("process_resident_memory_bytes "):
            return round(float(line.split()[1]) / 2**20, 1)
    return float("nan")


def record_rollups(root: Path, fleet: Fleet, port: int = PORT) -> float:
    """The roll-ups ``edgesla rules`` writes, recorded over the data; seconds taken."""
    rules = root / "rollups.yml"
    group = rollups.rule_group(lag_thresholds=(1.0,))
    rules.write_text(yaml.safe_dump({"groups": [group]}), encoding="utf-8")
    out = root / "rules-data"
    t0 = time.perf_counter()
    proc = serve(root, port)
    try:
        done = subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "rules",
                f"--start={fleet.first}",
                f"--end={fleet.last}",
                f"--url=http://127.0.0.1:{port}",
                f"--output-dir={out}",
                str(rules),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        stop(proc)
    if "error" in (done.stdout + done.stderr).lower():
        raise RuntimeError(f"promtool: {done.stdout}{done.stderr}")
    for block in out.iterdir():
        block.rename(root / "tsdb" / block.name)
    return time.perf_counter() - t0


def link_tree(source: Path, target: Path) -> None:
    """Hard-link a TSDB's blocks (instant, no extra disk)."""
    for path in source.rglob("*"):
        copy = target / path.relative_to(source)
        if path.is_dir():
            copy.mkdir(parents=True, exist_ok=True)
        elif path.parent.name != "wal" and path.name != "lock":
            copy.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, copy)


def timed(argv: list[str], log: Path) -> dict[str, Any]:
    """Run ``argv`` as a user would; its wall time and peak RSS (``wait4`` of that process)."""
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "exit_code": os.waitstatus_to_exitcode(status),
    }


def report(
    root: Path, name: str, fleet_file: Path, period: list[str], *extra: str, url: str = URL
) -> tuple[dict[str, Any], dict[str, Any]]:
    out = root / f"report-{name}"
    argv = [
        EDGESLA,
        "report",
        "--slo",
        str(root / "slo.yaml"),
        "--prometheus",
        url,
        "--fleet",
        str(fleet_file),
        *period,
        "--out",
        str(out),
        "--no-pdf",
        *extra,
    ]
    print(f"  {' '.join(argv[1:])}", flush=True)
    figures = timed(argv, root / f"report-{name}.log")
    if figures["exit_code"] not in (0, 1, 3):
        raise RuntimeError(
            f"{name}: exit {figures['exit_code']}:\n"
            + (root / f"report-{name}.log").read_text()[:3000]
        )
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    figures["html_mib"] = round((out / "report.html").stat().st_size / 2**20, 1)
    figures["json_mib"] = round((out / "report.json").stat().st_size / 2**20, 1)
    return figures, doc


def check(doc: dict[str, Any], fleet: Fleet, pops: list[str]) -> dict[str, Any]:
    """Every inventory PoP judged, the silent one INCONCLUSIVE for no data, exact counts."""
    results = {(r["pop"], r["name"]): r for r in doc["objectives"]}
    names = ("probe-availability", "lookup-p99", "replication-lag")
    missing = [(p, n) for p in pops for n in names if (p, n) not in results]
    silent = results.get(("pop-silent", "probe-availability"), {})
    wrong = []
    for pop in pops:
        if pop == "pop-silent" or int(pop[4:]) in fleet.troubled:
            continue
        got = results.get((pop, "probe-availability"))
        if got is None or (got["good"], got["total"]) != fleet.expected(int(pop[4:])):
            wrong.append(pop)
    return {
        "pops_judged": len({p for p, _ in results if p != "fleet"}),
        "results_missing": len(missing),
        "silent_inconclusive_no_data": silent.get("verdict") == "INCONCLUSIVE"
        and any(i["detail"] == NO_DATA for i in silent.get("issues", [])),
        "clean_pops_with_wrong_counts": len(wrong),
        "verdict": doc["verdict"],
        "countings": [
            {k: c[k] for k in ("name", "source")} | {"queries": len(c["queries"])}
            for c in doc["provenance"]["countings"]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pops", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30, help="from 1 November 2023 (30: the month)")
    parser.add_argument("--step", type=int, default=15, help="scrape interval, seconds")
    parser.add_argument("--per-pop-sample", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="keep the TSDB (roll-ups included) here")
    parser.add_argument("--tsdb", type=Path, help="a TSDB kept by --keep: no generation")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="edgesla-report-scale-", dir="/tmp"))
    fleet = Fleet(args.pops, int(T0.timestamp()), args.days, args.step, troubled_pops(args.pops))
    names = [f"pop-{p:04d}" for p in range(args.pops)]
    figures: dict[str, Any] = {"options": {k: str(v) for k, v in vars(args).items()}}
    try:
        (root / "slo.yaml").write_text(SPEC, encoding="utf-8")
        inventory = _fleet_file(root / "fleet.yaml", [*names, "pop-silent"])
        sample = [*names[: args.per_pop_sample - 1], f"pop-{min(fleet.troubled):04d}"]
        sample_file = _fleet_file(root / "sample-fleet.yaml", sample)
        end = datetime.fromtimestamp(fleet.start + args.days * 86400, UTC)
        period = (
            ["--month", "2023-11"]  # a calendar month, as the manager asks for it
            if args.days == 30
            else ["--from", T0.isoformat(), "--to", end.isoformat()]
        )
        if args.tsdb:
            link_tree(args.tsdb, root / "tsdb")
            figures["data"] = {"reused": str(args.tsdb)}
        else:
            (root / "tsdb").mkdir()
            print(f"backfilling {args.pops} PoPs x {args.days} days at {args.step} s", flush=True)
            figures["data"] = backfill(fleet, root / "tsdb", root)
            print(f"  {figures['data']['samples']:,} samples in {figures['data']['seconds']} s")
            proc = serve(root)
            try:
                raw, doc = report(root, "fleet-raw", inventory, period)
                figures["fleet_raw_scan"] = raw | check(doc, fleet, [*names, "pop-silent"])
                figures["prometheus_rss_mib_after_raw"] = prometheus_rss_mib()
            finally:
                stop(proc)
            print(f"  fleet, raw scan: {figures['fleet_raw_scan']}", flush=True)
            print("recording the report roll-ups (promtool create-blocks-from rules)", flush=True)
            figures["rollups_recorded_seconds"] = round(record_rollups(root, fleet), 1)
            if args.keep:
                link_tree(root / "tsdb", args.keep)
        proc = serve(root)
        try:
            rolled, doc = report(root, "fleet-rollups", inventory, period)
            figures["fleet_rollups"] = rolled | check(doc, fleet, [*names, "pop-silent"])
            figures["prometheus_rss_mib_after_rollups"] = prometheus_rss_mib()
            print(f"  fleet, roll-ups: {figures['fleet_rollups']}", flush=True)
            per, doc = report(root, "per-pop", sample_file, period, "--evidence", "per-pop")
            per |= check(doc, fleet, sample)
            per["pops"] = len(sample)
            per["seconds_extrapolated_to_fleet"] = round(per["seconds"] * args.pops / len(sample))
            figures["per_pop_sample"] = per
            print(f"  per PoP ({len(sample)} PoPs): {per}", flush=True)
        finally:
            stop(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"saved {save('report_scale', figures)}")


if __name__ == "__main__":
    main()
