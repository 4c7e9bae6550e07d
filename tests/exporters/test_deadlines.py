"""The framework's own deadline, with fake probers that hang: a run past its timeout is a
timeout failure at the deadline, whatever the prober does later; hung probers never starve
the schedule; /probe waits for a place within its budget or answers 503."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client import generate_latest

from edgesla import conventions as conv
from edgesla.config import PopConfig, parse_config
from edgesla.exporters.app import make_app
from edgesla.exporters.exporter import Busy, DutyLog, Exporter
from edgesla.exporters.runs import DEADLINE_GRACE_SECONDS
from edgesla.probes._duty import Duty, ProbeFn
from edgesla.probes._result import ProbeResult, Reason, Sample
from tests.helpers import eventually

LABELS = {"pop": "test-pop", "region": "test", "prober": "etcd"}


def _heartbeat(fn: ProbeFn) -> dict[str, tuple[Duty, ...]]:
    """A heartbeat duty as the registry declares it: every target's heartbeat_interval."""
    return {"postgres_replication": (Duty("beat", fn, every=lambda t: t.heartbeat_interval),)}


def config(*names: str, interval: str = "1s", timeout: str = "200ms", **extra: Any) -> PopConfig:
    return parse_config(
        {
            "version": 1,
            "pop": "test-pop",
            "region": "test",
            "defaults": {
                "interval": interval,
                "timeout": timeout,
                "jitter": "0s",
                "control_plane": {"interval": interval, "timeout": timeout},
            },
            "targets": [
                {"name": name, "prober": "etcd", "endpoints": ["http://127.0.0.1:1"]}
                for name in names
            ],
            **extra,
        }
    )


def value(core: Exporter, name: str, **labels: str) -> float:
    """A target's sample (give ``target=``), or an exporter self-metric (pop, region only)."""
    base = LABELS if "target" in labels else {"pop": "test-pop", "region": "test"}
    found = core.registry.get_sample_value(name, base | labels)
    return 0.0 if found is None else found


def results(core: Exporter, target: str, result: str) -> float:
    return value(core, conv.PROBE_RESULTS_TOTAL, target=target, result=result)


class Switch:
    """A prober that answers at once until ``hang`` is set, then blocks until released."""

    def __init__(self) -> None:
        self.hang = threading.Event()
        self.release = threading.Event()
        self.returned = 0

    def __call__(self, target: Any, timeout: float) -> ProbeResult:
        if self.hang.is_set():
            self.release.wait(30)
        self.returned += 1
        return ProbeResult.ok(0.001, "fine", (Sample("edgesla_etcd_quorum_ok", 1.0),))


@pytest.fixture
def running() -> Iterator[Callable[[Exporter], Exporter]]:
    started: list[Exporter] = []

    def start(core: Exporter) -> Exporter:
        core.start()
        started.append(core)
        return core

    yield start
    for core in started:
        core.stop(wait=2)


def test_a_hung_prober_is_a_timeout_at_its_deadline_and_its_late_success_is_discarded(
    running: Callable[[Exporter], Exporter],
) -> None:
    prober = Switch()
    core = running(Exporter(config("a"), {"etcd": prober}))
    eventually(lambda: value(core, conv.PROBE_UP, target="a") == 1)
    prober.hang.set()
    hung_at = time.monotonic()
    successes = results(core, "a", "success")
    eventually(lambda: value(core, conv.PROBE_UP, target="a") == 0, timeout=5, interval=0.01)
    detected = time.monotonic() - hung_at
    assert detected < 1.0 + 0.2 + DEADLINE_GRACE_SECONDS + 0.5  # interval + timeout + grace
    assert value(core, conv.PROBE_FAILURE_REASON, target="a", reason="timeout") == 1
    assert value(core, conv.PROBE_DEADLINE_EXCEEDED_TOTAL, target="a") == 1
    assert value(core, conv.EXPORTER_ABANDONED_RUNS) == 1
    assert value(core, "edgesla_etcd_quorum_ok", target="a") == 0  # no stale sample
    # while the prober stays hung, every interval counts a failure, none is skipped
    eventually(lambda: results(core, "a", "failure") >= 3, timeout=5)
    assert value(core, conv.PROBE_OVERRUNS_TOTAL, target="a") == 0
    prober.release.set()  # the hung run now returns a success: too late, discarded
    eventually(lambda: prober.returned > successes, timeout=5)
    prober.hang.clear()
    eventually(lambda: value(core, conv.EXPORTER_ABANDONED_RUNS) == 0, timeout=5)
    eventually(lambda: value(core, conv.PROBE_UP, target="a") == 1, timeout=5)
    assert (
        results(core, "a", "success") == successes + 1
    )  # the next scheduled run, not the late one


def test_a_hung_prober_does_not_starve_the_other_targets(
    running: Callable[[Exporter], Exporter],
) -> None:
    hung, quick = Switch(), Switch()
    hung.hang.set()
    probers = {"etcd": lambda t, s: (hung if t.name == "hung" else quick)(t, s)}
    core = running(Exporter(config("hung", "quick"), probers, max_concurrency=1))
    eventually(lambda: results(core, "quick", "success") >= 3, timeout=10)
    assert value(core, conv.PROBE_UP, target="hung") == 0
    assert value(core, conv.EXPORTER_ABANDONED_RUNS) == 1
    assert value(core, conv.EXPORTER_ABANDONED_LIMIT_REACHED_TOTAL) == 0
    hung.release.set()


def test_reaching_the_abandoned_run_limit_is_visible_and_bounds_the_threads(
    running: Callable[[Exporter], Exporter],
) -> None:
    prober = Switch()
    prober.hang.set()
    before = threading.active_count()
    core = running(Exporter(config("a", "b", "c"), {"etcd": prober}, max_concurrency=1))
    eventually(lambda: value(core, conv.EXPORTER_ABANDONED_LIMIT_REACHED_TOTAL) >= 1, timeout=10)
    assert value(core, conv.EXPORTER_ABANDONED_RUNS) == 1
    assert value(core, conv.EXPORTER_ABANDONED_RUNS_LIMIT) == 1
    assert value(core, conv.EXPORTER_RUNS_IN_FLIGHT) == 1  # the expired run kept its place
    time.sleep(1.5)  # more intervals: still no more than the bound of prober threads
    assert threading.active_count() - before <= 1 + 1 + 1  # scheduler, live + abandoned
    for name in "abc":  # each target counted its failure at the deadline, none stayed "up"
        assert value(core, conv.PROBE_UP, target=name) == 0
    prober.release.set()


def test_a_slow_prober_within_its_grace_is_an_overrun_not_a_pile_up(
    running: Callable[[Exporter], Exporter],
) -> None:
    """Timeout 150 ms + 250 ms grace > interval 200 ms: the next run comes due while the
    previous one is still inside its deadline: skipped and counted, never run beside it."""
    starts: list[float] = []

    def slow(target: Any, timeout: float) -> ProbeResult:
        starts.append(time.monotonic())
        time.sleep(0.3)
        return ProbeResult.ok(0.3)

    core = running(Exporter(config("a", interval="200ms", timeout="150ms"), {"etcd": slow}))
    eventually(lambda: value(core, conv.PROBE_OVERRUNS_TOTAL, target="a") >= 2, timeout=10)
    assert results(core, "a", "success") >= 1
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(starts))


def _call(app: Any, path: str, query: str = "", **headers: str) -> tuple[str, bytes]:
    status: list[str] = []
    environ = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET"} | headers
    body = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], body


def test_probe_waits_within_its_budget_then_answers_503() -> None:
    """One place, held by a slow run: a /probe with a 1 s budget waits 0.5 s, then 503."""
    release = threading.Event()

    def slow(target: Any, timeout: float) -> ProbeResult:
        release.wait(timeout)
        return ProbeResult.ok(0.01)

    core = Exporter(
        config("a", "b", interval="10s", timeout="3s"), {"etcd": slow}, max_concurrency=1
    )
    app = make_app(core)
    holder = threading.Thread(target=core.probe_once, args=("a",))
    holder.start()
    eventually(lambda: core.runner.live == 1)
    start = time.monotonic()
    status, body = _call(app, "/probe", "target=b", HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS="1.5")
    waited = time.monotonic() - start
    assert status.startswith("503"), body
    assert b"busy, try again: 1 probe runs in flight (max_concurrency 1)" in body
    assert 0.45 < waited < 1.0  # half of (1.5 - 0.5 s offset)
    assert value(core, conv.EXPORTER_PROBE_REJECTED_TOTAL) == 1
    with pytest.raises(Busy):
        core.probe_once("b", timeout=0.2)
    release.set()
    holder.join(5)
    status, body = _call(app, "/probe", "target=b")
    assert status.startswith("200"), body
    assert b'edgesla_probe_up{pop="test-pop",prober="etcd",region="test",target="b"} 1.0' in body


def test_probe_once_is_cut_at_its_budget_too() -> None:
    prober = Switch()
    prober.hang.set()
    core = Exporter(config("a", interval="10s", timeout="3s"), {"etcd": prober})
    start = time.monotonic()
    result, _ = core.probe_once("a", timeout=0.3)
    assert time.monotonic() - start < 0.3 + DEADLINE_GRACE_SECONDS + 0.3
    assert result.reason is Reason.TIMEOUT
    assert "no result within the timeout of 0.3s" in result.detail
    prober.release.set()


def test_a_duty_publishes_its_samples_beside_the_probes(
    running: Callable[[Exporter], Exporter],
) -> None:
    def probe(target: Any, timeout: float) -> ProbeResult:
        return ProbeResult.ok(0.001, samples=(Sample(conv.PG_SLOT_ACTIVE, 1.0, {"slot": "s"}),))

    def beat(target: Any, timeout: float) -> ProbeResult:
        lag = Sample(conv.PG_REPLICATION_LAG_SECONDS, 0.25, {"origin": "a", "peer": "b"})
        return ProbeResult.ok(0.001, samples=(lag,))

    cfg = parse_config(
        {
            "version": 1,
            "pop": "test-pop",
            "region": "test",
            "defaults": {"interval": "500ms", "timeout": "200ms", "jitter": "0s"},
            "targets": [
                {
                    "name": "mm",
                    "prober": "postgres_replication",
                    "heartbeat_interval": "100ms",
                    "nodes": [{"name": "a", "dsn": "host=x"}, {"name": "b", "dsn": "host=y"}],
                }
            ],
        }
    )
    core = running(Exporter(cfg, {"postgres_replication": probe}, _heartbeat(beat)))
    labels = {"pop": "test-pop", "region": "test", "prober": "postgres_replication"}

    def both() -> bool:
        text = generate_latest(core.registry).decode()
        return conv.PG_SLOT_ACTIVE + "{" in text and conv.PG_REPLICATION_LAG_SECONDS + "{" in text

    eventually(both, timeout=5)
    lag = core.registry.get_sample_value(
        conv.PG_REPLICATION_LAG_SECONDS, labels | {"target": "mm", "origin": "a", "peer": "b"}
    )
    assert lag == 0.25
    # duties are not probe runs: only the probe's runs are counted
    total = sum(
        core.registry.get_sample_value(
            conv.PROBE_RESULTS_TOTAL, labels | {"target": "mm", "result": r}
        )
        or 0
        for r in ("success", "failure")
    )
    assert total < 5


def test_a_failing_duty_logs_its_transitions_and_a_reminder_a_minute() -> None:
    duty_log = DutyLog("target mm: background beat")
    down = ProbeResult.fail(Reason.TIMEOUT, "pg-b: no answer within 1s")
    said = [duty_log.observe(down, float(t)) for t in range(0, 130)]
    warnings = [(t, m) for t, m in enumerate(said) if m is not None]
    assert [t for t, _ in warnings] == [0, 60, 120]
    assert warnings[0][1] == (
        logging.WARNING,
        "target mm: background beat: failing, reason=timeout: pg-b: no answer within 1s",
    )
    assert warnings[1][1][1].startswith(
        "target mm: background beat: still failing after 60s (61 failed runs)"
    )
    assert duty_log.observe(ProbeResult.ok(0.01), 131.0) == (
        logging.INFO,
        "target mm: background beat: recovered after 131s (130 failed runs)",
    )
    assert duty_log.observe(ProbeResult.ok(0.01), 132.0) is None


def test_a_failing_duty_warns_once_not_every_run(
    running: Callable[[Exporter], Exporter], caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def beat(target: Any, timeout: float) -> ProbeResult:
        calls.append(1)
        return ProbeResult.fail(Reason.REFUSED, "pg-b: connection refused")

    cfg = parse_config(
        {
            "version": 1,
            "pop": "test-pop",
            "region": "test",
            "defaults": {"interval": "10s", "timeout": "50ms", "jitter": "0s"},
            "targets": [
                {
                    "name": "mm",
                    "prober": "postgres_replication",
                    "heartbeat_interval": "50ms",
                    "nodes": [{"name": "a", "dsn": "host=x"}, {"name": "b", "dsn": "host=y"}],
                }
            ],
        }
    )
    ok: ProbeFn = lambda t, s: ProbeResult.ok(0.001)  # noqa: E731
    with caplog.at_level(logging.WARNING, logger="edgesla.exporter"):
        running(Exporter(cfg, {"postgres_replication": ok}, _heartbeat(beat)))
        eventually(lambda: len(calls) >= 10, timeout=10)
    said = [r.getMessage() for r in caplog.records if "background beat" in r.getMessage()]
    assert said == ["target mm: background beat: failing, reason=refused: pg-b: connection refused"]
