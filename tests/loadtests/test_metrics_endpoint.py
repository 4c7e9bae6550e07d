"""`edgesla loadtest --metrics-listen`: the load generator's /metrics during a real run against
the local stack, scraped as Prometheus would, and checked against the results directory."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.metrics import GeneratorView, registry_for
from edgesla.loadtests.results import read_results
from edgesla.stack.layout import Layout
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION
from tests.helpers import EDGESLA, edgesla
from tests.ports import port

_F = TypeVar("_F", bound=Callable[..., None])


def on_stack(test: _F) -> _F:
    """Needs the shared local stack and takes several seconds."""
    marked: _F = pytest.mark.slow(pytest.mark.stack(test))
    return marked


LISTEN = f"127.0.0.1:{port(741)}"


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(v for n, lab, v in samples if n == name and labels.items() <= lab.items())


def _scrape_while(proc: subprocess.Popen[str], scrapes: list[str]) -> None:
    while proc.poll() is None:
        try:
            reply = requests.get(f"http://{LISTEN}/metrics", timeout=2)
            if reply.status_code == 200:
                scrapes.append(reply.text)
        except requests.RequestException:
            pass
        time.sleep(0.5)


@on_stack
def test_metrics_during_the_run_match_the_results(stack: Layout, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            EDGESLA,
            "loadtest",
            "--config",
            str(stack.pop_config),
            "--duration",
            "10s",
            "--out",
            str(out),
            "--rate-scale",
            "5",
            "--metrics-listen",
            LISTEN,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    scrapes: list[str] = []
    scraper = threading.Thread(target=_scrape_while, args=(proc, scrapes))
    scraper.start()
    stdout, stderr = proc.communicate(timeout=120)
    scraper.join()
    assert proc.returncode == 0, stdout + stderr
    assert len(scrapes) >= 10, "too few scrapes during the run"

    mid = _samples(scrapes[len(scrapes) // 2])
    common = {"pop": LOCAL_POP, "region": LOCAL_REGION, "profile": "peak"}
    assert _value(mid, conv.LOADTEST_REQUESTS_TOTAL, **common) > 0
    assert _value(mid, conv.LOADTEST_USERS, **common) > 0
    assert _value(mid, conv.LOADTEST_TARGET_RATE, **common) > 0
    assert any(n == conv.LOADTEST_GENERATOR_CPU_RATIO and 0 <= v <= 1 for n, _, v in mid)

    last = _samples(scrapes[-1])
    results = read_results(out)
    for name, op in results.operations.items():
        labels = {**common, "operation": name}
        assert _value(last, conv.LOADTEST_REQUESTS_TOTAL, **labels, result="success") == (
            op.successes
        ), name
        assert _value(last, conv.LOADTEST_REQUESTS_TOTAL, **labels, result="failure") == (
            op.failed
        ), name
        assert _value(last, conv.LOADTEST_LATE_STARTS_TOTAL, **labels) == op.late_starts
        histogram = conv.LOADTEST_LATENCY_SECONDS
        assert _value(last, f"{histogram}_count", **labels) == op.successes
        # exact at the SLO threshold: the recorder's own counter
        over = op.over(conv.CUSTOMER_CARE_LATENCY_SECONDS).at_least
        assert _value(last, f"{histogram}_bucket", **labels, le="0.2") == op.successes - over
    # the schedule is over at the last scrape: no intended arrivals
    assert _value(last, conv.LOADTEST_TARGET_RATE, **common) == 0


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
@on_stack
def test_promtool_finds_nothing_to_lint(stack: Layout, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            EDGESLA,
            "loadtest",
            "--config",
            str(stack.pop_config),
            "--duration",
            "4s",
            "--out",
            str(tmp_path / "run"),
            "--operations",
            "care_lookup",
            "--metrics-listen",
            LISTEN,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    scrapes: list[str] = []
    scraper = threading.Thread(target=_scrape_while, args=(proc, scrapes))
    scraper.start()
    stdout, stderr = proc.communicate(timeout=120)
    scraper.join()
    assert proc.returncode == 0, stdout + stderr
    assert scrapes
    lint = subprocess.run(
        ["promtool", "check", "metrics"],
        input=scrapes[-1],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout + lint.stderr == ""


@on_stack
def test_a_taken_port_is_bad_input_before_anything_runs(stack: Layout, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port(742)))
        taken.listen()
        result = edgesla(
            "loadtest",
            "--config",
            str(stack.pop_config),
            "--duration",
            "4s",
            "--out",
            str(tmp_path / "run"),
            "--metrics-listen",
            f"127.0.0.1:{port(742)}",
        )
    assert result.returncode == 2
    assert f"--metrics-listen 127.0.0.1:{port(742)}: cannot listen there" in result.stderr
    assert not (tmp_path / "run").exists()


@on_stack
def test_the_master_serves_what_its_workers_report(stack: Layout, tmp_path: Path) -> None:
    """With --processes, the users run in worker processes: the master's /metrics shows their
    requests as the workers report them (events.worker_report), never more than the results."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            EDGESLA,
            "loadtest",
            "--config",
            str(stack.pop_config),
            "--duration",
            "8s",
            "--out",
            str(out),
            "--rate-scale",
            "5",
            "--processes",
            "2",
            "--metrics-listen",
            LISTEN,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    scrapes: list[str] = []
    scraper = threading.Thread(target=_scrape_while, args=(proc, scrapes))
    scraper.start()
    stdout, stderr = proc.communicate(timeout=120)
    scraper.join()
    assert proc.returncode == 0, stdout + stderr
    results = read_results(out)
    assert [g.processes for g in results.meta.generators] == [2]
    last = _samples(scrapes[-1])
    served = _value(last, conv.LOADTEST_REQUESTS_TOTAL, pop=LOCAL_POP)
    assert 0 < served <= sum(op.requests for op in results.operations.values())
    assert max(_value(_samples(s), conv.LOADTEST_USERS) for s in scrapes) > 0


@on_stack
def test_the_stacks_prometheus_scrapes_the_load_generator(stack: Layout, tmp_path: Path) -> None:
    """`stack up` writes loadtest.metrics_listen into pop.yaml and a job for it into its
    Prometheus config: a run without --metrics-listen is scraped there."""
    result = edgesla(
        "loadtest",
        "--config",
        str(stack.pop_config),
        "--duration",
        "12s",
        "--out",
        str(tmp_path / "run"),
        "--operations",
        "care_lookup",
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    query = f'max_over_time({conv.LOADTEST_REQUESTS_TOTAL}{{job="{conv.JOB_LOADTEST}"}}[2m])'
    reply = requests.get(
        f"http://127.0.0.1:{stack.prometheus_port}/api/v1/query", params={"query": query}, timeout=5
    ).json()
    series = reply["data"]["result"]
    assert series, reply
    assert {s["metric"]["pop"] for s in series} == {LOCAL_POP}
    assert not any(k.startswith("exported_") for s in series for k in s["metric"])
    assert max(float(s["value"][1]) for s in series) > 0


def test_the_collector_renders_the_recorder_on_a_fresh_registry() -> None:
    recorder = Recorder()
    recorder.record("care_lookup", 0.0, 0.0, 0.004, ok=True)
    # intended at 0 s, started 100 ms late: 250 ms from the intended start
    recorder.record("care_lookup", 0.0, 0.1, 0.25, ok=True, late=True)
    recorder.record("care_lookup", 0.0, 0.0, 0.5, ok=False, cause="timeout")
    view = GeneratorView(
        recorder=lambda: recorder,
        rates=lambda t: {"care_lookup": 2.0, "billing_write": 0.5},
        elapsed=lambda: 1.0,
        duration=10.0,
        users=lambda: 3,
        cpu_percent=lambda: 45.0,
    )
    registry = registry_for(view, "pop-a", "eu", "peak")
    common = {"pop": "pop-a", "region": "eu", "profile": "peak"}
    op = {**common, "operation": "care_lookup"}
    value = registry.get_sample_value
    assert value(conv.LOADTEST_REQUESTS_TOTAL, {**op, "result": "success"}) == 2
    assert value(conv.LOADTEST_REQUESTS_TOTAL, {**op, "result": "failure"}) == 1
    assert value(conv.LOADTEST_LATE_STARTS_TOTAL, op) == 1
    bucket = f"{conv.LOADTEST_LATENCY_SECONDS}_bucket"
    assert value(bucket, {**op, "le": "0.005"}) == 1
    assert value(bucket, {**op, "le": "0.2"}) == 1
    assert value(bucket, {**op, "le": "0.5"}) == 2
    assert value(bucket, {**op, "le": "+Inf"}) == 2
    assert value(f"{conv.LOADTEST_LATENCY_SECONDS}_sum", op) == pytest.approx(0.254, rel=1e-3)
    assert value(conv.LOADTEST_TARGET_RATE, op) == 2.0
    assert value(conv.LOADTEST_TARGET_RATE, {**common, "operation": "billing_write"}) == 0.5
    assert value(conv.LOADTEST_USERS, common) == 3
    assert value(conv.LOADTEST_GENERATOR_CPU_RATIO, common) == 0.45
