"""Soak: 100 fault cycles against the real exporter of a private stack — does anything grow?

The cycles take turns at four faults, each followed by a wait until the exporter shows
every target up again (at most ``--recover`` seconds):

    freeze      pg-b's postmaster and all its processes SIGSTOP'd for ``--freeze`` s, SIGCONT
    etcd        ``edgesla stack stop etcd2``, then ``edgesla stack start etcd2``
    mongo       ``edgesla stack restart mongo``
    partition   the replication link cut for ``--partition`` s (iptables DROP on 127.0.0.2,
                both masters' ports), then healed; needs root, left out otherwise

After every cycle it samples the exporter process (threads, open fds, RSS, TCP connections)
and the PostgreSQL sessions it holds (``application_name = 'edgesla-probe'`` on both masters).
Growth is the last sample minus the baseline: the sample after the same kind of fault in one
warm-up round of every fault (pools and clients exist by then); also after ``--settle`` idle
seconds, and the trend (least squares) over the second half of the cycles that ended with
the same fault as the last one; the goal is zero.
/metrics is scraped every 0.5 s the whole time: its p50/p99 during each kind of fault (and
the way back) are reported, with how often the exporter showed a fault (a target down) and
how long it took to show every target up again.

    .venv/bin/python benchmarks/soak.py [--cycles 100] [--base-port 20424] [--freeze 8]

Figures: a table, and benchmarks/results/soak.json (every sample, for the trend).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import EDGESLA, component, private_stack, save
from edgesla import conventions as conv
from tests.chaos.netfaults import (
    Scrape,
    Scraper,
    clear_partition,
    iptables_missing,
    partition,
    percentile,
)

DEFAULT_BASE_PORT = 19500 + 924  # tests/ports.py: offsets 924..937
PROBE_APPLICATION = "edgesla-probe"  # probes/_pg.py's application_name


class Soak:
    def __init__(self, status: dict[str, Any], args: argparse.Namespace) -> None:
        self.status, self.args = status, args
        self.state_dir = status["state_dir"]
        self.exporter = psutil.Process(component(status, "exporter")["pid"])
        self.exporter_url = component(status, "exporter")["url"]
        self.pg_ports = [
            int(component(status, n)["address"].rpartition(":")[2]) for n in ("pg-a", "pg-b")
        ]

    # --- faults ----------------------------------------------------------------------------

    def stack(self, *args: str) -> str:
        """`edgesla stack ARGS` on the soak's stack; its stdout."""
        result = subprocess.run(
            [EDGESLA, "stack", *args, "--state-dir", self.state_dir],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if result.returncode not in (0, 1):  # 1: runs, not healthy yet (waited for below)
            raise RuntimeError(f"edgesla stack {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def live_pid(self, name: str) -> int:
        """The PID running ``name`` now (`stack status` finds it by port and data dir)."""
        return int(component(json.loads(self.stack("status", "--json")), name)["pid"])

    def freeze(self) -> None:
        postmaster = psutil.Process(self.live_pid("pg-b"))
        frozen = [*postmaster.children(recursive=True), postmaster]
        for proc in frozen:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(self.args.freeze)
        finally:
            for proc in reversed(frozen):
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.send_signal(signal.SIGCONT)

    def etcd(self) -> None:
        self.stack("stop", "etcd2")
        time.sleep(self.args.hold)
        self.stack("start", "etcd2")

    def mongo(self) -> None:
        self.stack("restart", "mongo")

    def cut(self) -> None:
        with partition(self.pg_ports):
            time.sleep(self.args.partition)

    # --- measurements ----------------------------------------------------------------------

    def pg_sessions(self) -> int:
        total = 0
        for port in self.pg_ports:
            dsn = (
                f"host=127.0.0.1 port={port} dbname=postgres user=postgres "
                "application_name=edgesla-soak connect_timeout=5"
            )
            with psycopg.connect(dsn, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    (PROBE_APPLICATION,),
                ).fetchone()
                total += int(row[0]) if row else 0
        return total

    def sample(self) -> dict[str, float]:
        with self.exporter.oneshot():
            return {
                "threads": self.exporter.num_threads(),
                "fds": self.exporter.num_fds(),
                "rss_mib": round(self.exporter.memory_info().rss / 2**20, 2),
                "tcp_connections": len(self.exporter.net_connections(kind="tcp")),
                "pg_sessions": self.pg_sessions(),
            }

    def all_up(self, scrape: Scrape) -> bool:
        ups = [v for (name, _), v in scrape.samples.items() if name == conv.PROBE_UP]
        return bool(ups) and not self.down_targets(scrape)

    @staticmethod
    def down_targets(scrape: Scrape) -> list[str]:
        """Targets the scrape shows down (every target when the scrape itself failed)."""
        if not scrape.samples:
            return ["(scrape failed)"]
        return [
            dict(keys)[conv.LABEL_TARGET]
            for (name, keys), v in scrape.samples.items()
            if name == conv.PROBE_UP and v != 1.0
        ]


def _wait(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


@contextlib.contextmanager
def _stack(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if iptables_missing() is None:
        clear_partition([args.base_port, args.base_port + 1])  # rules left by a killed run
    with private_stack(args.base_port, args.subscribers) as status:
        yield status


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "max": None}
    return {"p50": round(statistics.median(values), 2), "max": round(max(values), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100, help="fault cycles after warm-up")
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--freeze", type=float, default=8.0, help="seconds pg-b stays frozen")
    parser.add_argument("--partition", type=float, default=8.0, help="seconds the link is cut")
    parser.add_argument("--hold", type=float, default=3.0, help="seconds etcd2 stays stopped")
    parser.add_argument(
        "--recover", type=float, default=60.0, help="longest wait for every target up after a fault"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=90.0,
        help="idle seconds after the last cycle, then one more sample",
    )
    args = parser.parse_args()
    notes = []
    with _stack(args) as status:
        soak = Soak(status, args)
        faults: dict[str, Callable[[], None]] = {
            "freeze": soak.freeze, "etcd": soak.etcd, "mongo": soak.mongo,
        }  # fmt: skip
        if reason := iptables_missing():
            notes.append(f"partition cycles left out: {reason}")
        else:
            faults["partition"] = soak.cut
        kinds = list(faults)
        per_kind: dict[str, dict[str, list[float]]] = {
            k: {"detected": [], "recovery_s": [], "metrics_p99_ms": [], "metrics_ms": []}
            for k in kinds
        }
        samples: list[dict[str, Any]] = []
        seen_down: dict[str, Counter[str]] = {k: Counter() for k in kinds}
        with Scraper(soak.exporter_url + "/metrics", [conv.PROBE_UP], interval=0.5) as scraper:
            if not _wait(
                lambda: bool(scraper.scrapes) and soak.all_up(scraper.scrapes[-1]), args.recover
            ):
                raise SystemExit("the exporter never showed every target up; is the stack ok?")
            started = time.monotonic()
            total = len(kinds) + args.cycles
            for cycle in range(total):
                kind = kinds[cycle % len(kinds)]
                begin = time.monotonic()
                faults[kind]()
                end = time.monotonic()
                recovered = _wait(lambda: soak.all_up(scraper.scrapes[-1]), args.recover)
                back = time.monotonic()
                window = scraper.between(begin, back)  # the fault and the way back
                if cycle >= len(kinds):
                    figures = per_kind[kind]
                    down = {t for s in window for t in soak.down_targets(s)}
                    figures["detected"].append(float(bool(down)))
                    seen_down[kind].update(down)
                    figures["recovery_s"].append(back - end if recovered else float("inf"))
                    figures["metrics_ms"] += [s.seconds * 1e3 for s in window]
                sample = {"cycle": cycle - len(kinds) + 1, "kind": kind,
                          "recovered": recovered, **soak.sample()}  # fmt: skip
                samples.append(sample)
                label = (
                    "warm-up" if cycle < len(kinds) else f"{cycle - len(kinds) + 1}/{args.cycles}"
                )
                print(
                    f"{label:>8} {kind:<10} fault {end - begin:5.1f} s  back {back - end:5.1f} s"
                    f"  threads {sample['threads']} fds {sample['fds']} rss "
                    f"{sample['rss_mib']:.1f} MiB tcp {sample['tcp_connections']} "
                    f"pg {sample['pg_sessions']}",
                    flush=True,
                )
            elapsed = time.monotonic() - started
            print(f"idle for {args.settle:g} s, then a last sample …", flush=True)
            time.sleep(args.settle)
            settled = soak.sample()

    final = samples[-1]
    baseline = samples[kinds.index(final["kind"])]  # the warm-up sample after the same fault
    measured = ("threads", "fds", "rss_mib", "tcp_connections", "pg_sessions")
    counted = samples[len(kinds) :]
    # same kind of fault as the last cycle, second half: the trend without the per-fault sawtooth
    half = [s for s in counted[len(counted) // 2 :] if s["kind"] == final["kind"]]
    growth = {
        m: {
            "baseline": baseline[m],
            "final": final[m],
            "growth": round(final[m] - baseline[m], 2),
            "settled": settled[m],
            "settled_growth": round(settled[m] - baseline[m], 2),
            "min": min(s[m] for s in counted),
            "max": max(s[m] for s in counted),
            "slope_per_100_cycles_second_half": round(
                100 * float(numpy.polyfit([s["cycle"] for s in half], [s[m] for s in half], 1)[0]),
                2,
            ),
        }
        for m in measured
    }
    faults_summary = {
        k: {
            "cycles": len(v["recovery_s"]),
            "exporter_showed_a_target_down": f"{int(sum(v['detected']))}/{len(v['detected'])}",
            "targets_seen_down": dict(seen_down[k]),
            "not_recovered_within_s": sum(x == float("inf") for x in v["recovery_s"]),
            "all_up_again_s": _summary([x for x in v["recovery_s"] if x != float("inf")]),
            "metrics_p50_ms": round(percentile(v["metrics_ms"], 50), 1),
            "metrics_p99_ms": round(percentile(v["metrics_ms"], 99), 1),
            "metrics_max_ms": round(max(v["metrics_ms"], default=float("nan")), 1),
        }
        for k, v in per_kind.items()
    }
    result = {
        "cycles": args.cycles, "base_port": args.base_port, "elapsed_s": round(elapsed, 1),
        "freeze_s": args.freeze, "partition_s": args.partition, "etcd_hold_s": args.hold,
        "settle_s": args.settle, "growth": growth, "faults": faults_summary, "notes": notes,
        "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
        "samples": samples,
    }  # fmt: skip
    print(f"\n{args.cycles} fault cycles in {elapsed / 60:.1f} min ({', '.join(kinds)} in turn)")
    print(
        f"{'exporter':<18}{'baseline':>9}{'final':>9}{'growth':>8}{'min':>8}{'max':>8}"
        f"{'settled':>9}{'growth':>8}{'trend/100 (2nd half)':>22}"
    )
    for m in measured:
        g = growth[m]
        print(
            f"{m:<18}{g['baseline']:>9}{g['final']:>9}{g['growth']:>8}{g['min']:>8}"
            f"{g['max']:>8}{g['settled']:>9}{g['settled_growth']:>8}"
            f"{g['slope_per_100_cycles_second_half']:>22}"
        )
    print(
        f"\n{'fault':<11}{'cycles':>7}{'showed down':>13}{'back p50':>10}{'back max':>10}"
        f"{'/metrics p50':>14}{'p99':>9}{'max':>9}"
    )
    for k, f in faults_summary.items():
        back = f["all_up_again_s"]
        print(
            f"{k:<11}{f['cycles']:>7}{f['exporter_showed_a_target_down']:>13}"
            f"{back['p50']!s:>9}s{back['max']!s:>9}s{f['metrics_p50_ms']:>12}ms"
            f"{f['metrics_p99_ms']:>7}ms{f['metrics_max_ms']:>7}ms"
        )
    for k, f in faults_summary.items():
        print(f"{k}: targets seen down (cycles): {f['targets_seen_down'] or 'none'}")
    for note in notes:
        print(f"note: {note}")
    print(f"saved: {save('soak', result)}")


if __name__ == "__main__":
    main()
