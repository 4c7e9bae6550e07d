"""The replication lag as Prometheus sees it: a real ``edgesla exporter`` process, /metrics
sampled every 0.25 s (finer than the 500 ms heartbeat), against the shared stack's masters.

The truth it is compared with is measured independently: a thread polls both masters every
10 ms and notes when each beat (of any writer) first shows on its origin and on its peer.
Figures (percentiles, slope, fall-back time) are printed; run with ``-s`` to see them.
Timing on this shared 2-core machine is noisy: bounds are functional, with margins.
"""

from __future__ import annotations

import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
from edgesla.config import PopConfig, dump_config
from edgesla.stack.layout import Layout
from tests.conftest import pg
from tests.helpers import EDGESLA, eventually
from tests.ports import port
from tests.probes.pg.targets import SUB_ON_B, replication_target

pytestmark = pytest.mark.stack

HEARTBEAT = 0.5  # the default heartbeat_interval
SCRAPE_EVERY = 0.25
PAIRS = (("pg-a", "pg-b"), ("pg-b", "pg-a"))
LAG, ERROR = conv.PG_REPLICATION_LAG_SECONDS, conv.PG_REPLICATION_LAG_ERROR_SECONDS


def pop_config(stack: Layout) -> str:
    target = replication_target(stack).model_copy(update={"name": "pg-multimaster"})
    config = PopConfig.model_validate(
        {
            "version": 1,
            "pop": "lag-test",
            "region": "lab",
            "defaults": {"interval": 5.0, "timeout": 2.0, "jitter": 0.0},
            "targets": [target],
        }
    )
    return dump_config(config)


@contextmanager
def exporter(stack: Layout, tmp_path: Path, listen_port: int) -> Iterator[str]:
    """A real `edgesla exporter` for the pg-multimaster target only; its /metrics URL."""
    config = tmp_path / "pop.yaml"
    config.write_text(pop_config(stack), encoding="utf-8")
    log = (tmp_path / f"exporter-{listen_port}.log").open("wb")
    proc = subprocess.Popen(
        [EDGESLA, "exporter", "--config", str(config), "--listen", f"127.0.0.1:{listen_port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{listen_port}/metrics"

    def serving() -> bool:
        assert proc.poll() is None, f"exporter exited; see {log.name}"
        try:
            return all(pair in scrape(url).lags for pair in PAIRS)
        except requests.ConnectionError:
            return False

    try:
        eventually(serving, timeout=30, interval=0.2)
        yield url
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        log.close()


@dataclass
class Scrape:
    at: float
    lags: dict[tuple[str, str], float] = field(default_factory=dict)
    errors: dict[tuple[str, str], float] = field(default_factory=dict)
    offsets: dict[str, tuple[float, float]] = field(default_factory=dict)  # node -> (offset, ±)
    interval: float | None = None
    body: str = ""


def scrape(url: str) -> Scrape:
    at = time.monotonic()
    body = requests.get(url, timeout=2).text
    found = Scrape(at, body=body)
    offsets: dict[str, float] = {}
    bounds: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = sample.labels
            if sample.name in (LAG, ERROR):
                table = found.lags if sample.name == LAG else found.errors
                table[(labels["origin"], labels["peer"])] = sample.value
            elif sample.name == conv.PG_CLOCK_OFFSET_SECONDS:
                offsets[labels["node"]] = sample.value
            elif sample.name == conv.PG_CLOCK_OFFSET_ERROR_SECONDS:
                bounds[labels["node"]] = sample.value
            elif sample.name == conv.PG_HEARTBEAT_INTERVAL_SECONDS:
                found.interval = sample.value
    found.offsets = {node: (offsets[node], bounds[node]) for node in offsets if node in bounds}
    return found


class Sampler:
    """Scrapes ``url`` every SCRAPE_EVERY seconds in a thread until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.scrapes: list[Scrape] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.scrapes.append(scrape(self.url))
            self._stop.wait(SCRAPE_EVERY)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def series(self, pair: tuple[str, str], since: float = 0.0) -> list[tuple[float, float]]:
        return [(s.at, s.lags[pair]) for s in self.scrapes if s.at >= since and pair in s.lags]


class Truth:
    """When every beat first showed on its origin and on its peer, polled every 10 ms."""

    def __init__(self, stack: Layout) -> None:
        self._stack = stack
        self.delays: dict[tuple[str, str], list[float]] = {pair: [] for pair in PAIRS}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        seen: dict[tuple[str, str, int], float] = {}
        query = "SELECT origin, seq FROM public.repl_heartbeat WHERE origin IN ('pg-a', 'pg-b')"
        with pg(self._stack, "pg-a") as a, pg(self._stack, "pg-b") as b:
            while not self._stop.is_set():
                for conn, node in ((a, "pg-a"), (b, "pg-b")):
                    now = time.monotonic()
                    for origin, seq in conn.execute(query).fetchall():
                        seen.setdefault((origin, node, seq), now)
                time.sleep(0.01)
        for (origin, node, seq), at in seen.items():
            written = seen.get((origin, origin, seq))
            if origin != node and written is not None:
                self.delays[(origin, node)].append(at - written)

    def __enter__(self) -> Truth:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "p50": pick(0.5), "p99": pick(0.99), "max": ordered[-1]}


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of value over time."""
    ts, vs = [t for t, _ in points], [v for _, v in points]
    mt, mv = statistics.fmean(ts), statistics.fmean(vs)
    return sum((t - mt) * (v - mv) for t, v in points) / sum((t - mt) ** 2 for t in ts)


def seq_of(conn: psycopg.Connection, origin: str) -> int:
    row = conn.execute(
        "SELECT seq FROM public.repl_heartbeat WHERE origin = %s", (origin,)
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def url(stack: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with exporter(stack, tmp_path_factory.mktemp("lag-exporter"), port(880)) as found:
        yield found


def test_a_healthy_lag_is_the_true_apply_delay_for_a_minute(stack: Layout, url: str) -> None:
    with Truth(stack) as truth, Sampler(url) as sampler:
        time.sleep(60)
    for pair in PAIRS:
        exported = [v for _, v in sampler.series(pair)]
        real = truth.delays[pair]
        figures = {"exported": quantiles(exported), "truth": quantiles(real)}
        print(f"healthy {pair[0]}->{pair[1]} over 60 s:", figures)  # the report's figures
        assert len(exported) >= 150  # ~240 scrapes; a loaded machine may slow the loop
        assert len(real) >= 60  # beats of both exporters (this one and the stack's)
        # the true apply delay, within ±100 ms: no bias from the phase it is read at
        assert abs(figures["exported"]["p50"] - figures["truth"]["p50"]) < 0.1
        assert figures["exported"]["max"] < figures["truth"]["max"] + 0.1
        # under 0.3 s but where the stack itself took longer (async commit + 200 ms WAL writer)
        assert max(exported) < max(0.3, figures["truth"]["max"] + 0.1)
        # half a polling step (10 ms to 50 ms) and round trips; a busy machine's late poll
        # widens one window now and then, and the error bar says so
        errors = quantiles([s.errors[pair] for s in sampler.scrapes if pair in s.errors])
        print(f"error bar {pair[0]}->{pair[1]}:", errors)
        assert errors["p50"] < 0.03
        assert errors["p99"] < 0.1


def test_the_clock_offset_on_loopback_is_zero_within_its_bound(url: str) -> None:
    found = scrape(url)
    assert found.interval == HEARTBEAT
    assert set(found.offsets) == {"pg-a", "pg-b"}
    for node, (offset, bound) in found.offsets.items():
        print(f"offset {node}: {offset * 1e6:+.0f} us ± {bound * 1e6:.0f} us")
        assert 0 < bound < 0.05  # half the shortest round trip of the last 8
        assert abs(offset) <= bound + 0.0005  # one clock: 0 within the bound (PG has µs)


def test_promtool_lints_the_beat_series_clean(url: str) -> None:
    body = requests.get(url, timeout=5).content
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=body, capture_output=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout + lint.stderr == b""


def test_a_stall_grows_second_by_second_and_falls_back_within_a_heartbeat(
    url: str, pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    with Sampler(url) as sampler:
        time.sleep(1.0)
        pg_b.execute(f"ALTER SUBSCRIPTION {SUB_ON_B} DISABLE")
        began = time.monotonic()
        try:
            time.sleep(6.0)
        finally:
            pg_b.execute(f"ALTER SUBSCRIPTION {SUB_ON_B} ENABLE")
        behind = seq_of(pg_a, "pg-a")  # caught up once pg-b shows this beat
        caught_up = eventually(
            lambda: seq_of(pg_b, "pg-a") >= behind and time.monotonic(), timeout=30, interval=0.005
        )
        time.sleep(2 * HEARTBEAT + 1.0)
    stall = sampler.series(("pg-a", "pg-b"), since=began + 1.0)
    stall = [(t, v) for t, v in stall if t < began + 6.0]
    rate = slope(stall)
    peak = max(v for _, v in stall)
    fell = next(t for t, v in sampler.series(("pg-a", "pg-b"), since=caught_up) if v < 1.0)
    print(
        f"stall: slope {rate:.3f} over {len(stall)} scrapes, peak {peak:.2f} s after 6 s; "
        f"fall-back {fell - caught_up:.2f} s after catch-up "
        f"({caught_up - began - 6.0:.2f} s after ENABLE)"
    )
    assert rate == pytest.approx(1.0, abs=0.15)  # second by second
    assert 4.5 < peak < 6.0 + 0.5
    assert all(v < 1.0 for _, v in sampler.series(("pg-b", "pg-a"), since=began))  # unaffected
    # once pg-b has every beat, the next beat cycle's result is back under the threshold
    assert fell - caught_up < HEARTBEAT + SCRAPE_EVERY + 0.5
    late = sampler.series(("pg-a", "pg-b"), since=caught_up + HEARTBEAT + 1.0)
    assert late
    assert all(v < 1.0 for _, v in late)


def test_an_exporter_restarted_mid_stall_still_reports_the_growing_lag(
    stack: Layout, tmp_path: Path, pg_a: psycopg.Connection, pg_b: psycopg.Connection
) -> None:
    """The apply worker on pg-b waits on a lock (pg-a's change to a locked table, and every
    beat behind it); the first exporter is stopped and a new one started during the stall."""
    locker = pg(stack, "pg-b")
    locker.execute("BEGIN")
    locker.execute("LOCK TABLE public.subscriber IN ACCESS EXCLUSIVE MODE")
    try:
        pg_a.execute(
            "UPDATE public.subscriber SET status = status WHERE subscriber_id = "
            "(SELECT min(subscriber_id) FROM public.subscriber)"
        )
        began = time.monotonic()
        with exporter(stack, tmp_path, port(881)) as first:
            time.sleep(2.0)
            before = scrape(first).lags[("pg-a", "pg-b")]
        with exporter(stack, tmp_path, port(882)) as second, Sampler(second) as sampler:
            time.sleep(3.0)
        readings = sampler.series(("pg-a", "pg-b"))
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    rate = slope(readings)
    print(
        f"restart mid-stall: before {before:.2f} s, after restart {readings[0][1]:.2f} s "
        f"at {readings[0][0] - began:.2f} s into the stall, slope {rate:.3f}"
    )
    assert before > 1.0
    for at, value in readings:  # an upper bound: the newest applied beat predates the stall
        assert at - began - 0.75 < value < at - began + HEARTBEAT + 0.75
    assert rate == pytest.approx(1.0, abs=0.15)
    assert eventually(lambda: seq_of(pg_b, "pg-a") >= seq_of(pg_a, "pg-a"), timeout=30)
