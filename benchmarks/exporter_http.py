"""The exporter's HTTP surface under load and abuse, beside postgres_exporter, in the same run.

A private stack; `edgesla exporter` on its PoP config as a user starts it (once plain, once
with basic auth: a bcrypt cost-12 hash, as `htpasswd -nBC 12` makes), and Debian's
prometheus-postgres-exporter 0.11.1 against the stack's pg-a (plain, and with basic auth from
its exporter-toolkit web config). For each, one after the other:

- scrapes: ``--connections`` concurrent scrapers with wrk, closed loop (each sends its next
  scrape as soon as the last is answered: the most load they can make), for ``--duration``
  seconds: p50, p99, max, errors, req/s; then again with ``--idle`` kept-alive connections
  held open, idle, next to them; threads and RSS of the exporter before and after;
- paced: the same number of Python scrapers on kept-alive connections, one scrape a second
  each, at spread phases (as Prometheus servers would) and all at the same instant; latency
  from the intended start;
- auth abuse (both exporters with basic auth): the time to refuse a wrong password of the
  known user and a password of an unknown user (medians of 10 pairs taken in turn, a new
  password each time as a guesser sends: equal means user names cannot be found by timing),
  and good, cached scrapes every 100 ms while 40 clients send new wrong passwords as fast as
  they can: their p50 and max, failures, and how the flood was answered (401 or 429).

Everything shares the machine's cores with wrk and with whatever else runs there.

    .venv/bin/python benchmarks/exporter_http.py [--duration 15] [--connections 20] [--idle 200]

Ports: EDGESLA_TEST_BASE_PORT (default 19500) + 820..837 (tests/ports.py).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bcrypt
import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import EDGESLA, component, private_stack, save

POSTGRES_EXPORTER = "/usr/bin/prometheus-postgres-exporter"
BASE = int(os.environ.get("EDGESLA_TEST_BASE_PORT", "19500")) + 820
STACK, EDGESLA_PORT, EDGESLA_AUTH_PORT, PGEXP_PORT, PGEXP_AUTH_PORT = (
    BASE, BASE + 14, BASE + 15, BASE + 16, BASE + 17,
)  # fmt: skip
USER, PASSWORD = "prometheus", "bench-secret"
_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@contextmanager
def process(argv: list[str], log: Path, ready_url: str, **env: str) -> Iterator[psutil.Process]:
    """Start a server, wait for ``ready_url`` to answer (any status), SIGTERM it after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(ready_url, timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{argv[0]} did not start; see {log}") from None
                time.sleep(0.2)
        yield psutil.Process(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT[unit]


def wrk(url: str, connections: int, duration: float, auth: str | None) -> dict[str, Any]:
    """One closed-loop wrk run: latency percentiles and max (ms), req/s, errors."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s"]
    if auth:
        argv += ["-H", f"Authorization: Basic {auth}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    pct = dict(re.findall(r"^\s*(50|75|90|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.M))
    if "99" not in pct:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    latency = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    assert latency, out
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), "
        r"timeout (\d+)",
        out,
    )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "p50_ms": _ms(pct["50"]),
        "p99_ms": _ms(pct["99"]),
        "max_ms": _ms(latency.group(3)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "errors": (sum(map(int, socket_errors.groups())) if socket_errors else 0)
        + (int(non2xx.group(1)) if non2xx else 0),
    }


def paced(
    url: str, scrapers: int, interval: float, duration: float, auth: str | None, aligned: bool
) -> dict[str, Any]:
    """``scrapers`` Python clients with kept-alive connections, each scraping every ``interval``
    (as Prometheus does, at a random phase, or all at the same instant when ``aligned``);
    latency from the intended start, so a late start counts (no coordinated omission)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    headers = {"Authorization": f"Basic {auth}"} if auth else {}

    def scraper(n: int) -> None:
        phase = 0.0 if aligned else interval * n / scrapers
        with requests.Session() as session:
            k = 0
            while (due := start + phase + k * interval) < start + duration:
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    ok = session.get(url, headers=headers, timeout=10).status_code == 200
                except requests.RequestException:
                    ok = False
                took = (time.monotonic() - due) * 1e3
                with lock:
                    latencies.append(took)
                    errors[0] += not ok
                k += 1

    threads = [threading.Thread(target=scraper, args=(n,)) for n in range(scrapers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max_ms": latencies[-1],
        "requests": len(latencies),
        "errors": errors[0],
    }


def held_idle(port: int, count: int, path: str) -> list[socket.socket]:
    """``count`` kept-alive connections, each after one answered request, left idle."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        held.append(sock)
    return held


def still_open(held: list[socket.socket]) -> int:
    alive = 0
    for sock in held:
        sock.setblocking(False)
        try:
            alive += sock.recv(65536, socket.MSG_PEEK) != b""  # data: open (a late body)
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def resources(proc: psutil.Process) -> dict[str, float]:
    return {"threads": proc.num_threads(), "rss_mib": proc.memory_info().rss / 2**20}


def scrape_runs(
    name: str, proc: psutil.Process, port: int, args: Any, auth: str | None, idle_path: str
) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/metrics"
    print(f"  {name}: {args.connections} scrapers for {args.duration:g} s ...", flush=True)
    before = resources(proc)
    load = wrk(url, args.connections, args.duration, auth)
    after = resources(proc)
    print(f"  {name}: {args.connections} paced scrapers, one scrape/s each ...", flush=True)
    spread = paced(url, args.connections, 1.0, args.duration, auth, aligned=False)
    aligned = paced(url, args.connections, 1.0, args.duration, auth, aligned=True)
    print(f"  {name}: the same beside {args.idle} idle connections ...", flush=True)
    held = held_idle(port, args.idle, idle_path)
    with_idle = resources(proc)
    idle_load = wrk(url, args.connections, args.duration, auth)
    open_at_end = still_open(held)
    idle_after = resources(proc)
    for sock in held:
        sock.close()
    return {
        "load": load,
        "paced": spread,
        "aligned": aligned,
        "idle_load": idle_load,
        "idle_open_at_end": open_at_end,
        "threads_before": before["threads"],
        "threads_after_load": after["threads"],
        "threads_with_idle": with_idle["threads"],
        "threads_after_idle_load": idle_after["threads"],
        "rss_mib_before": before["rss_mib"],
        "rss_mib_after": idle_after["rss_mib"],
    }


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def auth_abuse(port: int) -> dict[str, Any]:
    """Refusal times for a wrong password vs an unknown user; cached scrapes during a flood."""
    url = f"http://127.0.0.1:{port}/metrics"

    def refusal_ms(user: str) -> float:
        """A new wrong password each time: a first attempt, as in guessing (no cache helps)."""
        started = time.perf_counter()
        requests.get(url, auth=(user, f"wrong-{secrets.token_hex(8)}"), timeout=30)
        return (time.perf_counter() - started) * 1e3

    requests.get(url, auth=(USER, PASSWORD), timeout=30)  # verified once: cached from now on
    pairs = [(refusal_ms(USER), refusal_ms("nobody")) for _ in range(10)]  # interleaved
    wrong = statistics.median(w for w, _ in pairs)
    unknown = statistics.median(u for _, u in pairs)
    stop, statuses, lock = threading.Event(), {"401": 0, "429": 0, "other": 0}, threading.Lock()

    def flood(n: int) -> None:
        """Guesses: a new password each time."""
        with requests.Session() as session:
            k = 0
            while not stop.is_set():
                k += 1
                code = session.get(url, auth=(USER, f"guess-{n}-{k}"), timeout=60).status_code
                with lock:
                    statuses[str(code) if str(code) in statuses else "other"] += 1

    threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(40)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    good = []
    with requests.Session() as session:
        for _ in range(50):
            started = time.perf_counter()
            status = session.get(url, auth=(USER, PASSWORD), timeout=60).status_code
            good.append(((time.perf_counter() - started) * 1e3, status))
            time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    times = sorted(t for t, _ in good)
    return {
        "wrong_password_ms": wrong,
        "unknown_user_ms": unknown,
        "flood_good_p50_ms": statistics.median(times),
        "flood_good_max_ms": times[-1],
        "flood_good_failed": sum(s != 200 for _, s in good),
        "flood_401": statuses["401"],
        "flood_429": statuses["429"],
        "flood_other": statuses["other"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=20, help="concurrent scrapers")
    parser.add_argument("--idle", type=int, default=200, help="idle connections held open")
    args = parser.parse_args()
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=12)).decode()
    auth = _basic(USER, PASSWORD)
    results: dict[str, Any] = {"duration_s": args.duration, "connections": args.connections,
                               "idle": args.idle, "cpus": os.cpu_count()}  # fmt: skip
    print("starting a private stack ...", flush=True)
    with private_stack(STACK) as status, tempfile.TemporaryDirectory() as tmp:
        web = Path(tmp) / "web.yml"
        web.write_text(f"basic_auth_users:\n  {USER}: '{hashed}'\n")
        pop, dsn = status["pop_config"], component(status, "pg-a")["url"]
        pg_env = {"DATA_SOURCE_NAME": f"{dsn} sslmode=disable"}
        runs = {
            "edgesla": ([EDGESLA, "exporter", "--config", pop,
                         "--listen", f"127.0.0.1:{EDGESLA_PORT}"], EDGESLA_PORT, None, {}),
            "edgesla_auth": ([EDGESLA, "exporter", "--config", pop, "--web-config", str(web),
                              "--listen", f"127.0.0.1:{EDGESLA_AUTH_PORT}"],
                             EDGESLA_AUTH_PORT, auth, {}),
            "postgres_exporter": ([POSTGRES_EXPORTER, "--no-collector.bgwriter",
                                   f"--web.listen-address=127.0.0.1:{PGEXP_PORT}"],
                                  PGEXP_PORT, None, pg_env),
            "postgres_exporter_auth": ([POSTGRES_EXPORTER, "--no-collector.bgwriter",
                                        f"--web.listen-address=127.0.0.1:{PGEXP_AUTH_PORT}",
                                        f"--web.config.file={web}"],
                                       PGEXP_AUTH_PORT, auth, pg_env),
        }  # fmt: skip
        for name, (argv, port, credentials, env) in runs.items():
            log = Path(tmp) / f"{name}.log"
            with process(argv, log, f"http://127.0.0.1:{port}/", **env) as proc:
                time.sleep(2)  # first probe round / first connections settle
                if credentials:  # the first authenticated scrape pays the bcrypt check
                    requests.get(
                        f"http://127.0.0.1:{port}/metrics", auth=(USER, PASSWORD), timeout=30
                    )
                results[name] = scrape_runs(name, proc, port, args, credentials, "/")
                if credentials:
                    print(f"  {name}: auth abuse ...", flush=True)
                    results[name]["abuse"] = auth_abuse(port)
    _print(results)
    print(f"saved: {save('exporter_http', results)}")


def _print(results: dict[str, Any]) -> None:
    names = [
        n
        for n in ("edgesla", "edgesla_auth", "postgres_exporter", "postgres_exporter_auth")
        if n in results
    ]
    print(
        f"\n{results['connections']} concurrent scrapers, {results['duration_s']:g} s per run, "
        f"{results['cpus']} CPUs shared with the clients"
    )
    header = f"{'':26}" + "".join(f"{n:>24}" for n in names)
    print(header)

    def row(label: str, get: Any, fmt: str = "{:.1f}") -> None:
        print(f"{label:26}" + "".join(f"{fmt.format(get(results[n])):>24}" for n in names))

    for key, label in (
        ("load", "wrk, closed loop (as fast as answered)"),
        ("paced", "1 scrape/s each, spread phases"),
        ("aligned", "1 scrape/s each, all at once"),
        ("idle_load", f"wrk closed loop + {results['idle']} idle conns"),
    ):
        print(label)
        row("  p50 ms", lambda r, k=key: r[k]["p50_ms"])
        row("  p99 ms", lambda r, k=key: r[k]["p99_ms"])
        row("  max ms", lambda r, k=key: r[k]["max_ms"])
        if "req_per_s" in results[names[0]][key]:
            row("  req/s", lambda r, k=key: r[k]["req_per_s"], "{:.0f}")
        row("  errors", lambda r, k=key: r[k]["errors"], "{:d}")
    row("idle conns open at end", lambda r: r["idle_open_at_end"], "{:d}")
    row("threads before", lambda r: r["threads_before"], "{:d}")
    row("threads under load", lambda r: r["threads_after_load"], "{:d}")
    row("threads with idle conns", lambda r: r["threads_with_idle"], "{:d}")
    row("RSS MiB before", lambda r: r["rss_mib_before"])
    row("RSS MiB after", lambda r: r["rss_mib_after"])
    abusers = [n for n in names if "abuse" in results[n]]
    if abusers:
        print("\nbasic auth abuse (bcrypt cost 12)")
        print(f"{'':34}" + "".join(f"{n:>24}" for n in abusers))
        for key, label in (
            ("wrong_password_ms", "refuse wrong password, ms"),
            ("unknown_user_ms", "refuse unknown user, ms"),
            ("flood_good_p50_ms", "cached scrape in flood p50 ms"),
            ("flood_good_max_ms", "cached scrape in flood max ms"),
            ("flood_good_failed", "cached scrapes failed (of 50)"),
            ("flood_401", "flood answered 401"),
            ("flood_429", "flood answered 429"),
        ):
            print(f"{label:34}" + "".join(f"{results[n]['abuse'][key]:>24.1f}" for n in abusers))


if __name__ == "__main__":
    main()
