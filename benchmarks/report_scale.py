"""Report inputs at fleet scale: 2,000 PoPs x 30 days of probe counters in a real Prometheus.

Generates OpenMetrics text in 2-hour chunks (promtool re-reads its whole input once per 2-hour
block, so one big file is quadratic), backfills each with ``promtool tsdb create-blocks-from
openmetrics``, starts Prometheus on the blocks (compaction off, so it does not compete for
the 2 cores), then times, in this process:

* fleet:  ``availability_fleet`` for every PoP (exact; resets/gaps fall back per PoP), proving
          the counts clean from every raw sample;
* fleet with roll-ups: the same after ``promtool tsdb create-blocks-from rules`` recorded the
          report roll-ups (``edgesla.report.inputs.rollups``) over the data, as a Prometheus
          with the rules loaded records them while scraping;
* naive:  ``prometheus.availability`` (exact raw fetch) in a loop over a sample of PoPs,
          extrapolated to the fleet;
* increase(): one ``sum by (pop, result) (increase(x[30d]))`` query — fast but not exact;
          its largest deviation from the exact counts is reported.

Scale: the full size (15 s scrapes: 3 series x 172,800 samples x 2,000 PoPs = 1.04 G samples)
takes about 36 minutes to generate and backfill on 2 cores: ``--step 15``. The default,
``--step 300``, scrapes less often for a quick run while each scrape still counts 15-s probe
runs, so the event counts are the full-size ones and only the sample count is scaled.
Figures go to ``benchmarks/results/report_scale.json``.

    .venv/bin/python -m benchmarks.report_scale [--pops 2000] [--days 30] [--step 300]

``--keep DIR`` keeps the backfilled raw blocks
and ``--tsdb DIR`` measures again on them (same --pops/--days/--step) without regenerating.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import yaml

from benchmarks._common import save
from edgesla.report.inputs import (
    FleetStats,
    PrometheusClient,
    availability_fleet,
    prometheus,
    rollups,
)

PORT = 19978
T0 = datetime(2024, 1, 1, tzinfo=UTC)
PROBE_EVERY = 15


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fails(pop: int, k: int) -> bool:
    return (k * 7 + pop * 13) % 997 == 0


def generate(root: Path, pops: int, days: int, step: int, troubled: set[int]) -> dict[str, Any]:
    """Backfill ``root/tsdb``; returns counts and the expected exact totals."""
    start = int(T0.timestamp())
    per_scrape = step // PROBE_EVERY
    samples = days * 86400 // step
    first = -2  # two scrapes before the window: the baselines
    tsdb = root / "tsdb"
    chunk = 7200 // step  # one file per 2-hour block, aligned: no overlapping blocks
    written = 0
    t0 = time.perf_counter()
    expected_total = samples * per_scrape
    chunks = range(first - first % chunk, samples + 1, chunk)
    for done, lo in enumerate(chunks):
        if done % max(1, len(chunks) // 20) == 0:
            print(f"  backfill {done}/{len(chunks)} 2-hour blocks, {written:,} samples, "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
        ks = range(max(lo, first), min(lo + chunk, samples + 1))
        path = root / "chunk.om"
        with path.open("w", encoding="utf-8") as out:
            for name, kind in (("edgesla_probe_results", "counter"), ("edgesla_probe_up", "gauge")):
                out.write(f"# TYPE {name} {kind}\n")
                for p in range(pops):
                    labels = f'pop="pop-{p:04d}",region="eu",target="pg",prober="postgres_query"'
                    reset_at = samples // 2 if p in troubled else None
                    lines = []
                    for k in ks:
                        if p in troubled and samples // 3 < k < samples // 3 + 10:
                            continue  # a gap of 10 scrapes
                        t = start + k * step
                        failed = _fails(p, k)
                        if kind == "gauge":
                            lines.append(f"{name}{{{labels}}} {0 if failed else 1} {t}\n")
                            continue
                        base = 0 if reset_at is None or k <= reset_at else reset_at - first + 1
                        n_fail = _fail_count(p, k) - (
                            _fail_count(p, reset_at) if base and reset_at is not None else 0
                        )
                        n_ok = (k - first - base + 1) * per_scrape - n_fail
                        lines.append(f'{name}_total{{{labels},result="success"}} {n_ok} {t}\n')
                        lines.append(f'{name}_total{{{labels},result="failure"}} {n_fail} {t}\n')
                    out.writelines(lines)
                    written += len(lines)
            out.write("# EOF\n")
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(path), str(tsdb)],
            check=True, capture_output=True,
        )  # fmt: skip
    return {
        "samples": written,
        "generate_and_backfill_seconds": round(time.perf_counter() - t0, 1),
        "expected_total_per_pop": expected_total,
    }


_FAIL_CACHE: dict[int, list[int]] = {}


def _fail_count(pop: int, k: int) -> int:
    """Failures of ``pop`` from the first sample to ``k`` (prefix sums, cached per PoP)."""
    prefix = _FAIL_CACHE.get(pop)
    if prefix is None or len(prefix) <= k + 3:
        prefix, running = [], 0
        for j in range(-2, k + 3 + 10_000):
            running += _fails(pop, j)
            prefix.append(running)
        _FAIL_CACHE[pop] = prefix
    return prefix[k + 2]


def serve(root: Path) -> subprocess.Popen[bytes]:
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={root / 'prometheus.yml'}",
         f"--storage.tsdb.path={root / 'tsdb'}", f"--web.listen-address=127.0.0.1:{PORT}",
         "--storage.tsdb.retention.time=100y", "--storage.tsdb.min-block-duration=2h",
         "--storage.tsdb.max-block-duration=2h"],
        stdout=(root / "prometheus.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{PORT}/-/ready", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("prometheus did not become ready")


def link_blocks(source: Path, target: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Hard-link the TSDB blocks of ``source`` into ``target`` (instant, no extra disk); the
    generation figures a run on them reports (samples from the blocks' own meta.json)."""
    samples = 0
    for block in sorted(source.glob("01*")):
        meta = block / "meta.json"
        if not meta.exists():
            continue
        samples += json.loads(meta.read_text(encoding="utf-8"))["stats"]["numSamples"]
        for path in block.rglob("*"):
            copy = target / block.name / path.relative_to(block)
            if path.is_dir():
                copy.mkdir(parents=True, exist_ok=True)
            else:
                copy.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, copy)
    return {
        "samples": samples,
        "generate_and_backfill_seconds": None,
        "expected_total_per_pop": args.days * 86400 // args.step * (args.step // PROBE_EVERY),
    }


def prometheus_rss_mib() -> float:
    """Peak-ish memory of the Prometheus server: its resident set now (after the queries)."""
    text = requests.get(f"http://127.0.0.1:{PORT}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("process_resident_memory_bytes "):
            return round(float(line.split()[1]) / 2**20, 1)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pops", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--step", type=int, default=300, help="scrape interval, seconds")
    parser.add_argument("--naive-sample", type=int, default=40)
    parser.add_argument(
        "--keep", type=Path, help="keep the backfilled raw blocks here (for --tsdb later)"
    )
    parser.add_argument(
        "--tsdb", type=Path, help="raw blocks kept by --keep: measure again, no generation"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="edgesla-report-scale-", dir="/tmp"))
    troubled = set(random.Random(5).sample(range(args.pops), max(1, args.pops // 100)))
    try:
        if args.tsdb:
            gen = link_blocks(args.tsdb, root / "tsdb", args)
            print(f"reusing {gen['samples']:,} samples backfilled earlier ({args.tsdb})")
        else:
            with ProcessPoolExecutor(max_workers=1) as pool:  # keeps this process's RSS clean
                gen = pool.submit(
                    generate, root, args.pops, args.days, args.step, troubled
                ).result()
            print(
                f"backfilled {gen['samples']:,} samples in {gen['generate_and_backfill_seconds']} s"
            )
            if args.keep:
                link_blocks(root / "tsdb", args.keep, args)
        proc = serve(root)
        try:
            figures = measure(args, gen, troubled)
            figures["prometheus_rss_mib_after_raw"] = prometheus_rss_mib()
            print(
                "recording the report roll-ups with promtool create-blocks-from rules", flush=True
            )
            rules_s = backfill_rollups(root, args.days)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        print(f"roll-ups recorded by promtool in {rules_s:.1f} s")
        proc = serve(root)
        try:
            figures["fleet_rollups"] = measure_rollups(args, gen)
            figures["prometheus_rss_mib_after_rollups"] = prometheus_rss_mib()
            figures["fleet_rollups"]["promtool_rules_backfill_seconds"] = round(rules_s, 1)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    full = 3 * args.pops * args.days * 86400 // PROBE_EVERY
    scale = full / gen["samples"]
    per_pop_s = figures["naive_per_pop_loop"]["seconds_extrapolated"] / figures["pops"]
    rolled = figures["fleet_rollups"]
    figures["scaled"] = {
        "full_size_samples": full,
        "measured_samples": gen["samples"],
        "factor": round(scale, 1),
        "fleet_seconds_extrapolated_linear": round(figures["fleet"]["seconds"] * scale, 1),
        # roll-ups: 8,640 points a PoP whatever the scrape rate; only the PoPs sent to the
        # exact per-PoP path read raw samples, and those grow with the scrape rate
        "fleet_rollups_seconds_extrapolated": round(
            rolled["seconds"] + (scale - 1) * per_pop_s * rolled["pops_counted_per_pop"], 1
        ),
        "note": "Prometheus' full scans (resets, count/sum_over_time) grow with samples; "
        "the roll-ups and the client side do not",
    }
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    print(f"saved {save('report_scale', {**options, **gen, **figures})}")


def backfill_rollups(root: Path, days: int) -> float:
    """Record the report roll-ups over the backfilled data into ``root/tsdb``; seconds taken."""
    rules = root / "rollups.yml"
    rules.write_text(yaml.safe_dump({"groups": [rollups.rule_group()]}), encoding="utf-8")
    out = root / "rules-data"
    t0 = time.perf_counter()
    subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "rules",
         f"--start={int(T0.timestamp()) - 600}", f"--end={int(T0.timestamp()) + days * 86400}",
         f"--url=http://127.0.0.1:{PORT}", f"--output-dir={out}", str(rules)],
        check=True, capture_output=True,
    )  # fmt: skip
    for block in out.iterdir():
        block.rename(root / "tsdb" / block.name)
    return time.perf_counter() - t0


def _downtime(fleet: dict[str, Any]) -> float:
    """Downtime summed over the PoPs: the raw path's is exact, the roll-ups' an upper bound."""
    return sum(ev.downtime_seconds or 0.0 for ev in fleet.values())


def measure_rollups(args: argparse.Namespace, gen: dict[str, Any]) -> dict[str, Any]:
    client = PrometheusClient(f"http://127.0.0.1:{PORT}", timeout=600)
    start, end = T0, T0 + timedelta(days=args.days)
    stats = FleetStats()
    t0 = time.perf_counter()
    fleet = availability_fleet(client, start, end, scrape_interval=args.step, stats=stats)
    seconds = time.perf_counter() - t0
    wrong = [p for p, ev in fleet.items() if ev.total != gen["expected_total_per_pop"]]
    print(
        f"{'fleet with roll-ups':<26}{seconds:>10.2f}  {stats.queries} queries, "
        f"{len(stats.per_pop)} PoPs per-PoP, {len(wrong)} wrong totals, "
        f"RSS {_rss_mib():.0f} MiB ({stats.source})"
    )
    return {
        "seconds": round(seconds, 2),
        "queries": stats.queries,
        "source": stats.source,
        "pops_counted_fleet_wide": stats.fleet_pops,
        "pops_counted_per_pop": len(stats.per_pop),
        "wrong_totals": len(wrong),
        "downtime_seconds_summed": _downtime(fleet),
        "peak_rss_mib": round(_rss_mib(), 1),
    }


def measure(args: argparse.Namespace, gen: dict[str, Any], troubled: set[int]) -> dict[str, Any]:
    url = f"http://127.0.0.1:{PORT}"
    start, end = T0, T0 + timedelta(days=args.days)
    client = PrometheusClient(url, timeout=600)
    rss0 = _rss_mib()
    stats = FleetStats()
    t0 = time.perf_counter()
    fleet = availability_fleet(client, start, end, scrape_interval=args.step, stats=stats)
    fleet_s = time.perf_counter() - t0
    rss1 = _rss_mib()
    wrong = [p for p, ev in fleet.items() if ev.total != gen["expected_total_per_pop"]]
    sample = sorted(fleet)[: args.naive_sample]
    t0 = time.perf_counter()
    for pop in sample:
        prometheus.availability(client, start, end, pop=pop)
    naive_s = (time.perf_counter() - t0) / len(sample) * len(fleet)
    t0 = time.perf_counter()
    expr = f"sum by (pop, result) (increase(edgesla_probe_results_total[{args.days}d]))"
    inc = client.vector(expr, end.timestamp())
    inc_s = time.perf_counter() - t0
    inc_total: dict[str, float] = {}
    for labels, value in inc:
        inc_total[labels["pop"]] = inc_total.get(labels["pop"], 0.0) + value
    deviation = max(abs(inc_total[p] - ev.total) for p, ev in fleet.items())
    figures = {
        "pops": len(fleet),
        "fleet": {
            "seconds": round(fleet_s, 2),
            "queries": stats.queries,
            "pops_counted_fleet_wide": stats.fleet_pops,
            "pops_counted_per_pop": len(stats.per_pop),
            "pops_with_reset_and_gap": len(troubled),
            "peak_rss_mib": round(rss1, 1),
            "rss_before_mib": round(rss0, 1),
            "wrong_totals": len(wrong),
            "downtime_seconds_summed": _downtime(fleet),
        },
        "naive_per_pop_loop": {
            "seconds_extrapolated": round(naive_s, 1),
            "measured_pops": len(sample),
            "exact": True,
        },
        "increase_query": {
            "seconds": round(inc_s, 2),
            "exact": False,
            "max_abs_deviation_events": round(deviation, 1),
        },
        "peak_rss_mib": round(_rss_mib(), 1),
    }
    print(
        f"{'strategy':<26}{'seconds':>10}  notes\n"
        f"{'fleet (exact)':<26}{fleet_s:>10.2f}  {stats.queries} queries, "
        f"{len(stats.per_pop)} PoPs per-PoP, {len(wrong)} wrong totals, RSS {rss1:.0f} MiB\n"
        f"{'naive per-PoP loop':<26}{naive_s:>10.1f}  extrapolated from {len(sample)} PoPs\n"
        f"{'increase() one query':<26}{inc_s:>10.2f}  NOT exact: off by up to {deviation:.1f}"
    )
    return figures


if __name__ == "__main__":
    main()
