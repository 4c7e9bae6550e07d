"""Evidence from load-test results directories written by ``edgesla.loadtests.results``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.results import (
    GeneratorHealth,
    GeneratorHost,
    RunMeta,
    read_results,
    write_results,
)
from edgesla.report.inputs import loadtest
from tests.report.loadtest_runs import write_synced_run

STARTED = datetime(2024, 1, 1, tzinfo=UTC)


def _results_dir(tmp_path: Path) -> Path:
    recorder = Recorder()
    for i in range(1000):  # lookup: 5 failures, 7 successes over 200 ms, 3 of them 150..199 ms
        ms = 250.0 if i < 7 else 199.0 if i < 10 else 20.0
        ok = i < 995
        recorder.record("lookup", 0.0, 0.0, ms / 1000, ok, None if ok else "timeout")
    for _ in range(50):  # query: all 2 ms
        recorder.record("query", 0.0, 0.0, 0.002, True)
    meta = RunMeta(
        profile="peak",
        target_rates={"lookup": 10.0, "query": 1.0, "idle": 1.0},
        duration_seconds=100,
        started_at=STARTED,
        ended_at=STARTED + timedelta(seconds=100),
        generators=(GeneratorHost("localhost", 1),),
        command_line=("edgesla", "loadtest"),
        health=GeneratorHealth(cpu_saturated=False, too_few_users=False),
        pop="pop-a",
    )
    return write_results(tmp_path / "run", meta, recorder)


def test_availability_counts_requests(tmp_path: Path) -> None:
    results = read_results(_results_dir(tmp_path))
    ev = loadtest.availability(results, ["lookup"])
    assert (ev.good, ev.total, ev.pop) == (995, 1000, "pop-a")
    assert (ev.window_start, ev.window_end) == (STARTED, STARTED + timedelta(seconds=100))
    assert loadtest.availability(results).total == 1050


def test_latency_is_exact_at_the_threshold(tmp_path: Path) -> None:
    results = read_results(_results_dir(tmp_path))
    ev = loadtest.latency(results, 0.2, ["lookup"])
    assert (ev.over, ev.total, ev.issues) == (7, 995, ())
    assert ev.buckets[-1][1] == 995
    assert [b for b in ev.buckets if b[0] <= 0.2][-1][1] == 988


def test_no_requests_is_an_issue_not_a_pass(tmp_path: Path) -> None:
    results = read_results(_results_dir(tmp_path))
    ev = loadtest.availability(results, ["idle"])
    assert ev.total == 0
    assert ev.issues[0].kind == "missing_series"
    assert loadtest.latency(results, 0.01, ["idle"]).issues[0].kind == "missing_series"


def test_off_threshold_is_bracketed_and_flagged(tmp_path: Path) -> None:
    results = read_results(_results_dir(tmp_path))
    ev = loadtest.latency(results, 0.199, ["lookup"])
    assert ev.over == 10  # the bucket holding 199 ms straddles the threshold: upper bracket
    assert ev.issues[0].kind == "other"


def test_unknown_operation_and_foreign_dirs_are_config_errors(tmp_path: Path) -> None:
    results = read_results(_results_dir(tmp_path))
    with pytest.raises(ConfigError, match="no operation"):
        loadtest.availability(results, ["nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="empty"):
        read_results(tmp_path / "empty")


def test_a_run_with_a_sync_gives_the_judged_requests_by_window(tmp_path: Path) -> None:
    run = read_results(write_synced_run(tmp_path, "synced"))
    evidence = loadtest.latency(run, 0.01, ["care_lookup"])
    during, outside = evidence.windows
    assert (during.window, during.over, during.total) == ("sync", 100, 100)
    assert (outside.window, outside.over, outside.total) == ("outside", 0, 200)
    assert during.over + outside.over == evidence.over
    assert during.total + outside.total == evidence.total
    assert during.buckets[-1][1] == 100  # the window's own histogram
    plain = loadtest.latency(read_results(_results_dir(tmp_path)), 0.2, ["lookup"])
    assert plain.windows == ()  # no sync, no windows


def test_a_sync_that_was_not_the_one_planned_is_a_data_issue(tmp_path: Path) -> None:
    path = write_synced_run(tmp_path, "synced")
    sync = json.loads((path / "sync.json").read_text())
    sync["problems"] = ["the sync fell behind: 800 of 1,000 documents written"]
    (path / "sync.json").write_text(json.dumps(sync))
    evidence = loadtest.latency(read_results(path), 0.01, ["care_lookup"])
    (issue,) = [i for i in evidence.issues if "sync" in i.detail]
    assert issue.detail.endswith(
        "are not what they claim: the sync fell behind: 800 of 1,000 documents written"
    )
