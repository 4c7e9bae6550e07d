"""What 1-s probing of the control plane costs: the exporter at 15 s and at 1 s, side by side.

A private stack, its own exporter and Prometheus stopped (so only the exporters under test
ask its etcd anything); then ``--idle`` seconds with no exporter, for etcd's background
requests (none expected). Then two ``edgesla exporter`` processes, started as a user starts
them, at once against the same three etcd members for ``--seconds``: one with
``control_plane: {interval: 15s, timeout: 5s}`` (the old default), one with the new default
(1 s / 500 ms), each with ``--targets`` etcd targets. Measured:

- per exporter: CPU seconds per second (``utime + stime`` from ``/proc/PID/stat`` over the
  run, start-up left out), peak RSS (``VmHWM``), probe runs, failures, overruns and deadline
  cut-offs (its own ``/metrics``);
- on etcd, from its own ``/metrics`` on every member: ``/health`` checks
  (``etcd_server_health_success`` + ``_failures``), gRPC calls (``grpc_server_handled_total``:
  status, member list), ``/metrics`` reads (``promhttp_metric_handler_requests_total``), less
  the idle rate and this script's own reads. Both exporters run the same probe, so etcd's
  requests per probe run are the measured total over all runs, and each exporter's
  requests per second are its runs times that.

Everything shares the machine's cores with whatever else runs: compare the two side by
side, not with other runs.

    .venv/bin/python -m benchmarks.control_plane_cost [--seconds 90] [--targets 1]

Ports: EDGESLA_TEST_BASE_PORT (default 19500) + 970..983 (the stack), 984 and 985 (the two
exporters) (tests/ports.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests

from benchmarks._common import EDGESLA, private_stack, save
from edgesla import conventions as conv
from edgesla.stack.layout import ETCD_MEMBERS, HOST, Layout
from tests.ports import port

STACK, EXPORTERS = 970, (984, 985)
SCHEDULES = {"15s": ("15s", "5s"), "1s": ("1s", "500ms")}  # label: (interval, timeout)
_ETCD_COUNTERS = {
    "health": ("etcd_server_health_success", "etcd_server_health_failures"),
    "grpc": ("grpc_server_handled_total",),
    "metrics": ("promhttp_metric_handler_requests_total",),
}
_TICK = os.sysconf("SC_CLK_TCK")


def _sum(text: str, name: str, label: str = "") -> float:
    pattern = rf"^{name}(\{{[^}}]*\}})? (\S+)$"
    return sum(
        float(m.group(2))
        for m in re.finditer(pattern, text, re.MULTILINE)
        if label in (m.group(1) or "")
    )


def etcd_requests(endpoints: list[str]) -> dict[str, float]:
    """Requests etcd has counted so far, by kind, summed over the members."""
    out = dict.fromkeys(_ETCD_COUNTERS, 0.0)
    for endpoint in endpoints:
        text = requests.get(f"{endpoint}/metrics", timeout=10).text
        for kind, names in _ETCD_COUNTERS.items():
            out[kind] += sum(_sum(text, name) for name in names)
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def pop_yaml(label: str, endpoints: list[str], targets: int) -> str:
    interval, timeout = SCHEDULES[label]
    items = "".join(
        f"  - {{name: etcd-{i}, prober: etcd, endpoints: [{', '.join(endpoints)}]}}\n"
        for i in range(targets)
    )
    return (
        f"version: 1\npop: bench-{label}\nregion: bench\n"
        f"defaults: {{control_plane: {{interval: {interval}, timeout: {timeout}}}}}\n"
        f"targets:\n{items}"
    )


@contextmanager
def exporter(config: Path, listen_port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [EDGESLA, "exporter", "--config", str(config), "--listen", f"{HOST}:{listen_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://{HOST}:{listen_port}/-/ready", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the exporter on {listen_port} exited {proc.returncode}")
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the exporter on {listen_port} was not ready within 60 s")
        yield proc
    finally:
        proc.terminate()
        proc.wait(20)


def exporter_counts(listen_port: int) -> dict[str, float]:
    text = requests.get(f"http://{HOST}:{listen_port}/metrics", timeout=10).text
    return {
        "runs": _sum(text, conv.PROBE_RESULTS_TOTAL),
        "failures": _sum(text, conv.PROBE_RESULTS_TOTAL, 'result="failure"'),
        "overruns": _sum(text, conv.PROBE_OVERRUNS_TOTAL),
        "deadline_exceeded": _sum(text, conv.PROBE_DEADLINE_EXCEEDED_TOTAL),
    }


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in after}


def measure(seconds: float, idle: float, targets: int) -> dict[str, Any]:
    with private_stack(port(STACK)) as status:
        layout = Layout(Path(status["state_dir"]), port(STACK))
        for name in ("exporter", "prometheus"):
            subprocess.run(
                [EDGESLA, "stack", "stop", name, "--state-dir", str(layout.state_dir)],
                check=True,
                capture_output=True,
            )
        endpoints = [f"http://{HOST}:{layout.etcd_client_port(m)}" for m in ETCD_MEMBERS]
        before = etcd_requests(endpoints)
        time.sleep(idle)  # the measurement is of a span of time: nothing to poll for
        background = _delta(etcd_requests(endpoints), before)
        background["metrics"] -= len(endpoints)  # this script's own first read
        background = {k: v / idle for k, v in background.items()}
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as running:
            procs = {}
            for label, listen in zip(SCHEDULES, EXPORTERS, strict=True):
                config = Path(tmp) / f"pop-{label}.yaml"
                config.write_text(pop_yaml(label, endpoints, targets), encoding="utf-8")
                procs[label] = (running.enter_context(exporter(config, port(listen))), listen)
            start = time.monotonic()
            cpu0 = {label: cpu_seconds(p.pid) for label, (p, _) in procs.items()}
            counts0 = {label: exporter_counts(port(listen)) for label, (_, listen) in procs.items()}
            etcd0 = etcd_requests(endpoints)
            time.sleep(seconds)
            etcd1 = etcd_requests(endpoints)
            elapsed = time.monotonic() - start
            out: dict[str, Any] = {}
            for label, (proc, listen) in procs.items():
                counts = _delta(exporter_counts(port(listen)), counts0[label])
                out[label] = {
                    "interval": SCHEDULES[label][0], "timeout": SCHEDULES[label][1],
                    "cpu_seconds_per_second": round(
                        (cpu_seconds(proc.pid) - cpu0[label]) / elapsed, 4
                    ),
                    "peak_rss_mib": round(peak_rss_kib(proc.pid) / 1024, 1),
                    **{k: int(v) for k, v in counts.items()},
                    "runs_per_second": round(counts["runs"] / elapsed, 3),
                }  # fmt: skip
        # this script read /metrics of each member twice (etcd0 and etcd1: one read counted)
        seen = _delta(etcd1, etcd0)
        seen["metrics"] -= len(endpoints)
        by_exporters = {k: max(0.0, v - background[k] * elapsed) for k, v in seen.items()}
        runs = sum(out[label]["runs"] for label in SCHEDULES)
        per_run = {k: round(v / runs, 2) if runs else None for k, v in by_exporters.items()}
        for label in SCHEDULES:
            share = out[label]["runs"] / elapsed
            out[label]["etcd_requests_per_second"] = {
                k: round(share * v, 2) if v is not None else None for k, v in per_run.items()
            }
            out[label]["etcd_requests_per_second_total"] = round(
                sum(share * v for v in per_run.values() if v is not None), 2
            )
        slow, fast = out["15s"], out["1s"]
        return {
            "ratios_1s_to_15s": {
                "cpu": round(fast["cpu_seconds_per_second"] / slow["cpu_seconds_per_second"], 1)
                if slow["cpu_seconds_per_second"]
                else None,
                "etcd_requests": round(
                    fast["etcd_requests_per_second_total"] / slow["etcd_requests_per_second_total"],
                    1,
                )
                if slow["etcd_requests_per_second_total"]
                else None,
                "peak_rss": round(fast["peak_rss_mib"] / slow["peak_rss_mib"], 3),
            },
            "seconds": round(elapsed, 1),
            "idle_seconds": idle,
            "targets_per_exporter": targets,
            "etcd_members": len(endpoints),
            "etcd_background_requests_per_second": {k: round(v, 3) for k, v in background.items()},
            "etcd_requests_per_probe_run": per_run,
            "exporters": out,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="side-by-side run length")
    parser.add_argument("--idle", type=float, default=15.0, help="etcd background span")
    parser.add_argument("--targets", type=int, default=1, help="etcd targets per exporter")
    parser.add_argument("--name", default="control_plane_cost", help="results/NAME.json")
    args = parser.parse_args()
    if args.seconds <= 0 or args.idle <= 0 or args.targets < 1:
        parser.error("--seconds and --idle must be > 0, --targets >= 1")
    result = measure(args.seconds, args.idle, args.targets)
    result["conditions"] = {
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": "shared, busy machine: compare the two exporters of this run side by side",
    }
    path = save(args.name, result)
    for label, row in result["exporters"].items():
        print(
            f"{label:>4}: {row['cpu_seconds_per_second']:.4f} CPU s/s, peak RSS "
            f"{row['peak_rss_mib']} MiB, {row['runs_per_second']} runs/s, etcd "
            f"{row['etcd_requests_per_second_total']} req/s, {row['failures']} failed, "
            f"{row['overruns']} overruns"
        )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
