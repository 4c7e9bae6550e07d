"""Faults as a user sees them through /metrics: a frozen, silent or cut-off server counts
failures, never availability, and shows ``up`` 0 within interval + timeout.

The real ``edgesla exporter`` runs as a subprocess with its own short schedule (interval 2 s,
timeout 1 s) against a private stack (ports ``port(800)``..``port(813)``; the exporter under
test on ``port(814)``), plus one target on a server that accepts TCP and never answers.
Faults: every process of pg-b frozen (3 probe periods, twice), its postmaster alone frozen,
packets to pg-b dropped (iptables), the MongoDB-wire server frozen, etcd members frozen and
killed. A thread polls /metrics every 0.1 s throughout; detection and recovery times and the
scrape p99 during each fault are printed (``-s``) and asserted only against interval +
timeout plus a small grace. Freezing PostgreSQL (another user's processes) and iptables need
root: those tests skip otherwise.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
from edgesla.exporters.runs import DEADLINE_GRACE_SECONDS
from edgesla.probes._pgpool import MAX_CONNECTIONS_PER_SERVER
from edgesla.stack.layout import Layout
from tests.chaos.faults import (
    Blackhole,
    dropped,
    frozen,
    killed,
    pids_listening,
    postgres_pids,
    require_root,
)
from tests.conftest import pg
from tests.helpers import (
    EDGESLA,
    eventually,
    make_state_dir,
    stack_json,
    stack_up,
    teardown_stack,
)
from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

BASE = port(800)
LISTEN = port(814)
INTERVAL, TIMEOUT = 2.0, 1.0
#: Detected within interval + timeout, plus the framework's grace and a margin for a loaded
#: machine and the 0.1 s polling.
BOUND = INTERVAL + TIMEOUT + DEADLINE_GRACE_SECONDS + 0.75
FREEZE = 3 * INTERVAL  # three probe periods
APP = "edgesla-chaos"
PG_B_TARGETS = ("pg-b-billing-lookup", "pg-multimaster")


Sample = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Poll:
    at: float
    seconds: float
    samples: Sample


@dataclass
class Watcher:
    """Scrapes /metrics every 0.1 s in a thread; keeps every poll."""

    url: str
    polls: list[Poll] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, name="metrics-watcher", daemon=True).start()

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                start = time.monotonic()
                try:
                    text = session.get(self.url, timeout=5).text
                except requests.RequestException:
                    time.sleep(0.1)
                    continue
                took = time.monotonic() - start
                samples: Sample = {}
                for family in text_string_to_metric_families(text):
                    for s in family.samples:
                        samples[(s.name, tuple(sorted(s.labels.items())))] = float(s.value)
                self.polls.append(Poll(start, took, samples))
                time.sleep(max(0.0, 0.1 - took))

    def stop(self) -> None:
        self._stop.set()

    def value(self, name: str, poll: Poll | None = None, **labels: str) -> float | None:
        poll = poll or self.polls[-1]
        for (sample, keys), value in poll.samples.items():
            if sample == name and all((k, v) in keys for k, v in labels.items()):
                return value
        return None

    def first(self, check: Callable[[Poll], bool], since: float, timeout: float) -> Poll:
        """The first poll at or after ``since`` for which ``check`` holds (waits for it)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            polls = self.polls
            for poll in polls[seen:]:
                if poll.at >= since and check(poll):
                    return poll
            seen = len(polls)
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen within {timeout:.1f}s")
            time.sleep(0.05)

    def scrape_p99(self, start: float, end: float) -> float:
        took = sorted(p.seconds for p in self.polls if start <= p.at <= end)
        return took[min(len(took) - 1, int(0.99 * len(took)))] if took else float("nan")


@dataclass
class Rig:
    layout: Layout
    watcher: Watcher
    exporter: subprocess.Popen[bytes]
    url: str
    #: Servers a test killed and started again: stopped and reaped at teardown.
    respawned: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def up(self, target: str, poll: Poll | None = None) -> float | None:
        return self.watcher.value(conv.PROBE_UP, poll, target=target)

    def count(self, target: str, result: str, poll: Poll | None = None) -> float:
        found = self.watcher.value(conv.PROBE_RESULTS_TOTAL, poll, target=target, result=result)
        return found or 0.0

    def reason(self, target: str, poll: Poll | None = None) -> str | None:
        for reason in ("timeout", "refused", "unhealthy", "error", "query_error"):
            if (
                self.watcher.value(conv.PROBE_FAILURE_REASON, poll, target=target, reason=reason)
                == 1
            ):
                return reason
        return None

    def threads(self) -> int:
        """The exporter's fewest threads over a second (runs come and go)."""
        proc = psutil.Process(self.exporter.pid)
        counts = []
        for _ in range(10):
            counts.append(proc.num_threads())
            time.sleep(0.1)
        return min(counts)


def _config(layout: Layout, blackhole: int) -> dict[str, Any]:
    doc = yaml.safe_load(layout.pop_config.read_text())
    doc["defaults"] = {"interval": f"{INTERVAL:g}s", "timeout": f"{TIMEOUT:g}s",
                       "jitter": "500ms"}  # fmt: skip
    doc["exporter"] = {"listen": f"127.0.0.1:{LISTEN}"}
    doc.pop("loadtest", None)
    for target in doc["targets"]:
        for holder in target.get("nodes", [target]):
            if "dsn" in holder:
                holder["dsn"] += f" application_name={APP}"
    doc["targets"].append(
        {
            "name": "silent-pg",
            "prober": "postgres_query",
            "sslmode": "disable",
            "dsn": f"host=127.0.0.1 port={blackhole} dbname=edgesla user=postgres",
        }
    )
    return dict(doc)


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    state_dir = make_state_dir("probe-faults")
    hole = Blackhole()
    proc = None
    watcher = None
    respawned: list[subprocess.Popen[bytes]] = []
    log = None
    try:
        result = stack_up(state_dir, BASE, subscribers=50)
        assert result.returncode == 0, result.stderr + result.stdout
        layout = Layout(state_dir, BASE)
        config = state_dir / "chaos-pop.yaml"
        config.write_text(yaml.safe_dump(_config(layout, hole.port), sort_keys=False))
        log = (state_dir / "logs" / "exporter-chaos.log").open("wb")
        proc = subprocess.Popen(
            [EDGESLA, "exporter", "--config", str(config), "--log-level", "info"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{LISTEN}"
        eventually(lambda: _ready(url, proc), timeout=30, interval=0.2)
        watcher = Watcher(f"{url}/metrics")
        watcher.start()
        rig = Rig(layout, watcher, proc, url, respawned)
        eventually(lambda: watcher.polls and all(rig.up(t) == 1 for t in _healthy_targets()), 30)
        yield rig
    finally:
        if watcher is not None:
            watcher.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(20)
        if log is not None:
            log.close()
        hole.close()
        for server in respawned:  # not recorded by the stack: stop them here
            server.terminate()
        for server in respawned:
            server.wait(20)
        teardown_stack(state_dir)


def _ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    assert proc.poll() is None, "the exporter exited; see logs/exporter-chaos.log"
    try:
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def _healthy_targets() -> tuple[str, ...]:
    return (
        "subscribers-lookup",
        "subscribers-replset",
        "pg-a-billing-lookup",
        "pg-b-billing-lookup",
        "pg-multimaster",
        "etcd",
    )


def _sessions(layout: Layout, node: str) -> int:
    with pg(layout, node) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (APP,)
        ).fetchone()
    return int(row[0]) if row else 0


def report(what: str, **figures: float) -> None:
    text = ", ".join(f"{k}={v:.3f}" for k, v in figures.items())
    print(f"\nCHAOS {what}: {text}")


def fault_cycle(
    rig: Rig,
    what: str,
    fault: Callable[[], AbstractContextManager[Any]],
    targets: tuple[str, ...],
    reasons: tuple[str, ...] = ("timeout",),
    hold: float = FREEZE,
) -> None:
    """Apply ``fault`` for ``hold`` seconds; the targets' success counters must not move,
    their ``up`` must fall within BOUND with one of ``reasons``, and come back after."""
    w = rig.watcher
    with fault():
        start = time.monotonic()
        time.sleep(0.05)  # a reply already in flight when the fault began is not the fault's
        base = w.first(lambda p: True, since=start + 0.05, timeout=5)
        successes = {t: rig.count(t, "success", base) for t in targets}
        failures = {t: rig.count(t, "failure", base) for t in targets}
        downs = {t: w.first(lambda p, t=t: rig.up(t, p) == 0, start, BOUND + 2) for t in targets}
        left = start + hold - time.monotonic()
        time.sleep(max(0.0, left))
        during = w.polls[-1]
        end = time.monotonic()
    for target in targets:
        assert rig.count(target, "success", during) == successes[target], target
        assert rig.count(target, "failure", during) > failures[target], target
        assert rig.reason(target, downs[target]) in reasons, (target, rig.reason(target))
        detected = downs[target].at - start
        report(
            f"{what} {target}",
            detected_s=detected,
            failures=rig.count(target, "failure", during) - failures[target],
        )
        assert detected < BOUND, f"{target}: up 0 after {detected:.2f}s"
    for target in targets:
        back = w.first(lambda p, t=target: rig.up(t, p) == 1, end, timeout=BOUND + 10)
        report(f"{what} {target} recovered", after_s=back.at - end)
    took = [p.seconds for p in w.polls if start <= p.at <= end]
    report(
        f"{what} /metrics",
        p99_ms=1000 * w.scrape_p99(start, end),
        median_ms=1000 * statistics.median(took),
        scrapes=len(took),
    )


# --- PostgreSQL ---------------------------------------------------------------------------


def test_a_frozen_pg_b_counts_only_failures_twice_and_recovers(rig: Rig) -> None:
    require_root("freezing PostgreSQL (it runs as another user)")
    sessions_before = _sessions(rig.layout, "pg-b")
    threads_before = rig.threads()
    pg_a = rig.count("pg-a-billing-lookup", "success")
    for cycle in (1, 2):
        fault_cycle(
            rig,
            f"pg-b frozen #{cycle}",
            lambda: frozen(postgres_pids(rig.layout.data_dir / "pg-b")),
            PG_B_TARGETS,
        )
        time.sleep(INTERVAL)
    # pg-a's own lookup went on answering through both freezes
    assert rig.count("pg-a-billing-lookup", "success") >= pg_a + 2 * FREEZE / INTERVAL - 1
    assert rig.count("pg-a-billing-lookup", "failure") == 0
    time.sleep(1)  # the backends of the connections cut at the deadline notice and exit
    sessions_after = _sessions(rig.layout, "pg-b")
    report("pg-b sessions", before=sessions_before, after=sessions_after)
    assert sessions_after <= MAX_CONNECTIONS_PER_SERVER
    threads_after = rig.threads()
    report("exporter threads", before=threads_before, after=threads_after)
    assert threads_after <= threads_before + 1
    assert rig.watcher.value(conv.EXPORTER_ABANDONED_RUNS) == 0
    # the log says why, as transitions: not a warning per heartbeat (one a second)
    text = (rig.layout.log_dir / "exporter-chaos.log").read_text()
    assert "target pg-b-billing-lookup: DOWN, reason=timeout" in text
    beats = [ln for ln in text.splitlines() if "background beat: failing" in ln]
    assert 1 <= len(beats) <= 2, beats  # one per freeze


def test_a_frozen_postmaster_alone_is_down_for_new_sessions(rig: Rig) -> None:
    require_root("freezing PostgreSQL (it runs as another user)")
    fault_cycle(
        rig,
        "pg-b postmaster frozen",
        lambda: frozen(postgres_pids(rig.layout.data_dir / "pg-b", postmaster_only=True)),
        ("pg-b-billing-lookup",),
    )


def test_dropped_packets_to_pg_b_are_timeouts(rig: Rig) -> None:
    require_root("iptables")
    fault_cycle(
        rig, "pg-b packets dropped", lambda: dropped(rig.layout.pg_port("pg-b")), PG_B_TARGETS
    )


def test_a_server_that_accepts_and_never_answers_fails_every_period(rig: Rig) -> None:
    w = rig.watcher
    start = time.monotonic()
    first = w.first(lambda p: True, start, 5)
    threads = rig.threads()
    later = w.first(lambda p: p.at > first.at + 3 * INTERVAL, start, 5 * INTERVAL)
    failures = rig.count("silent-pg", "failure", later) - rig.count("silent-pg", "failure", first)
    assert rig.up("silent-pg", later) == 0
    assert rig.reason("silent-pg", later) == "timeout"
    assert failures >= 2  # one a period, none skipped
    assert w.value(conv.PROBE_OVERRUNS_TOTAL, later, target="silent-pg") == 0
    assert w.value(conv.PROBE_DEADLINE_EXCEEDED_TOTAL, later, target="silent-pg") == 0
    assert rig.threads() <= threads + 1  # no pile-up of stuck threads


def test_probe_calls_never_open_more_sessions_than_the_bound(rig: Rig) -> None:
    """200 /probe calls, 20 at a time, on pg-b (postgres_exporter #727: one session each)."""
    peak, pids = 0, set()
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        with pg(rig.layout, "pg-b") as conn:
            while not stop.is_set():
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APP,)
                ).fetchall()
                peak = max(peak, len(rows))
                pids.update(r[0] for r in rows)
                time.sleep(0.005)

    def call(_: int) -> tuple[int, float]:
        start = time.monotonic()
        reply = requests.get(
            f"{rig.url}/probe",
            params={"target": "pg-b-billing-lookup"},
            headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"},
            timeout=10,
        )
        assert reply.status_code in (200, 503), reply.text
        if reply.status_code == 200:
            assert 'target="pg-b-billing-lookup"} 1.0' in reply.text
        return reply.status_code, time.monotonic() - start

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(call, range(200)))
    finally:
        stop.set()
        sampler.join()
    took = sorted(t for _, t in answers)
    rejected = sum(code == 503 for code, _ in answers)
    report(
        "/probe x200 (20 at a time)",
        peak_sessions=peak,
        sessions_seen=len(pids),
        rejected=rejected,
        p50_ms=1000 * took[100],
        p99_ms=1000 * took[197],
    )
    assert 1 <= peak <= MAX_CONNECTIONS_PER_SERVER
    assert rejected == 0  # quick runs: every request found a place within its budget


# --- MongoDB and etcd -------------------------------------------------------------------


def test_a_frozen_mongodb_is_a_timeout_and_recovers(rig: Rig) -> None:
    mongo = next(c for c in stack_json(rig.layout.state_dir)["components"] if c["name"] == "mongo")
    pids = [int(mongo["pid"]), *pids_listening(rig.layout.mongo_port)]
    fault_cycle(
        rig,
        "mongodb frozen",
        lambda: frozen(sorted(set(pids))),
        ("subscribers-lookup", "subscribers-replset"),
    )


def _etcd_pid(layout: Layout, member: str) -> int:
    return next(
        int(c["pid"]) for c in stack_json(layout.state_dir)["components"] if c["name"] == member
    )


def test_etcd_members_frozen_then_killed(rig: Rig) -> None:
    pids = [_etcd_pid(rig.layout, m) for m in ("etcd1", "etcd2", "etcd3")]
    fault_cycle(rig, "etcd all frozen", lambda: frozen(pids), ("etcd",))
    fault_cycle(
        rig,
        "etcd 2 of 3 frozen",
        lambda: frozen(pids[:2]),
        ("etcd",),
        reasons=("unhealthy", "timeout"),
    )
    logs = rig.layout.log_dir

    @contextmanager
    def two_killed() -> Iterator[None]:
        with (
            killed(pids[1], logs / "etcd2.log", rig.respawned),
            killed(pids[2], logs / "etcd3.log", rig.respawned),
        ):
            yield

    fault_cycle(rig, "etcd 2 of 3 killed", two_killed, ("etcd",), reasons=("unhealthy", "timeout"))
    eventually(
        lambda: rig.watcher.value(conv.CONTROLPLANE_MEMBERS_HEALTHY, component="etcd") == 3, 30
    )
