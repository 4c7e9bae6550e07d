"""The results directory: round trip, all-or-nothing writes, strict reading with clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import edgesla.loadtests.results as results_module
from edgesla import ConfigError
from edgesla.loadtests.accounting import OperationAccount, RunAccounting, WorkerAccount
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.results import (
    FORMAT,
    GeneratorHealth,
    GeneratorHost,
    RunMeta,
    check_out_dir,
    read_results,
    write_results,
)

FIX = "pass the --out directory of a finished `edgesla loadtest` run"
START = datetime(2025, 6, 2, 20, 0, tzinfo=UTC)


def _meta() -> RunMeta:
    return RunMeta(
        profile="peak",
        pop="fra-1",
        target_rates={"care_lookup": 50.0, "device_provision": 2.5},
        duration_seconds=60.0,
        started_at=START,
        ended_at=START + timedelta(seconds=60),
        generators=(GeneratorHost("gen-a", 4), GeneratorHost("gen-b", 2)),
        command_line=("edgesla", "loadtest", "--profile", "peak", "--out", "results"),
        health=GeneratorHealth(cpu_saturated=False, too_few_users=True, max_cpu_percent=71.5),
        locust_version="2.47.0",
    )


def _recorder() -> Recorder:
    recorder = Recorder()
    for i in range(3000):
        t = i / 50
        recorder.record("care_lookup", t, t, t + 0.001 + (i % 300) / 1000, ok=True)
    recorder.record("care_lookup", 1.0, 1.4, 1.41, ok=True, late=True)
    recorder.record("care_lookup", 2.0, 2.0, 7.0, ok=False, cause="timeout")
    return recorder


@pytest.fixture
def written(tmp_path: Path) -> Path:
    return write_results(tmp_path / "run", _meta(), _recorder())


def test_round_trip(written: Path, tmp_path: Path) -> None:
    recorder = _recorder()
    results = read_results(written)
    assert results.meta == _meta()
    assert set(results.operations) == {"care_lookup", "device_provision"}
    assert results.operations["care_lookup"] == recorder.results()["care_lookup"]
    lookup = results.operations["care_lookup"]
    assert (lookup.successes, dict(lookup.failures), lookup.late_starts) == (
        3001,
        {"timeout": 1},
        1,
    )
    assert results.achieved_rate("care_lookup") == pytest.approx(3002 / 60)
    # an operation of the profile that never ran is present, with zero requests
    assert results.operations["device_provision"].requests == 0
    assert sorted(p.name for p in written.iterdir()) == [
        "meta.json",
        "operations",
        "summary.json",
        "summary.txt",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no partial sibling left
    # built without a ledger (as the report's tests do): no accounting, and it says so
    assert results.accounting is None
    assert results.complete is None
    assert json.loads((written / "meta.json").read_text())["complete"] is None


def test_summary_files(written: Path) -> None:
    summary = json.loads((written / "summary.json").read_text())
    lookup = summary["operations"]["care_lookup"]
    assert summary["format"] == FORMAT
    assert lookup["requests"] == 3002
    assert lookup["error_ratio"] == pytest.approx(1 / 3002)
    assert lookup["target_rate_per_second"] == 50.0
    # 1..300 ms service times, and one late start whose response time is 410 ms
    assert lookup["over_threshold"]["0.2"]["service"] == {"count": 1000, "of": 3001}
    assert lookup["over_threshold"]["0.2"]["response"] == {"count": 1001, "of": 3001}
    assert 0.297 <= lookup["service_time_seconds"]["p99"] <= 0.3006
    text = (written / "summary.txt").read_text()
    assert "profile peak, PoP fra-1" in text
    assert "generator health: WARNING too few users" in text
    assert "failures of care_lookup: timeout 1" in text
    assert "care_lookup: 1001 of 3001 over 200 ms (33.356%)" in text


def test_locust_files_are_copied_beside(tmp_path: Path) -> None:
    locust = tmp_path / "locust-tmp"
    locust.mkdir()
    (locust / "stats.csv").write_text("Type,Name\n")
    out = write_results(tmp_path / "run", _meta(), _recorder(), locust_dir=locust)
    assert (out / "locust" / "stats.csv").read_text() == "Type,Name\n"
    read_results(out)


def test_existing_non_empty_out_dir_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    message = (
        f"{out}: the results directory exists and is not empty; "
        "choose a new --out directory, or move this one away"
    )
    with pytest.raises(ConfigError) as info:
        check_out_dir(out)
    assert str(info.value) == message
    assert info.value.exit_code == 2
    with pytest.raises(ConfigError, match="exists and is not empty"):
        write_results(out, _meta(), _recorder())
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_existing_empty_out_dir_is_used(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    read_results(write_results(out, _meta(), _recorder()))


def test_interrupted_write_leaves_nothing_that_looks_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = results_module._write_json

    def fail_on_summary(path: Path, content: object) -> None:
        calls.append(path.name)
        if path.name == "summary.json":
            raise KeyboardInterrupt  # Ctrl-C in the middle of writing
        real(path, content)  # type: ignore[arg-type]

    monkeypatch.setattr(results_module, "_write_json", fail_on_summary)
    with pytest.raises(KeyboardInterrupt):
        write_results(tmp_path / "run", _meta(), _recorder())
    assert "care_lookup.json" in calls  # it was interrupted mid-way
    assert list(tmp_path.iterdir()) == []


def test_meta_json_is_written_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order = []
    real = results_module._write_json

    def spy(path: Path, content: object) -> None:
        order.append(path.name)
        real(path, content)  # type: ignore[arg-type]

    monkeypatch.setattr(results_module, "_write_json", spy)
    write_results(tmp_path / "run", _meta(), _recorder())
    assert order[-1] == "meta.json"


def test_missing_empty_and_foreign_directories(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as info:
        read_results(missing)
    assert str(info.value) == f"{missing}: does not exist; {FIX}"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError) as info:
        read_results(empty)
    assert str(info.value) == f"{empty}: the directory is empty; {FIX}"
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "stats.csv").write_text("Type,Name\n")
    with pytest.raises(ConfigError) as info:
        read_results(foreign)
    assert str(info.value) == (
        f"{foreign / 'meta.json'}: missing; not a complete edgesla load-test results directory "
        f"(or the run was interrupted); {FIX}"
    )
    assert info.value.exit_code == 2


def test_wrong_format_version(written: Path) -> None:
    meta = json.loads((written / "meta.json").read_text())
    meta["format"] = "edgesla-loadtest/1"  # before the accounting: refused, not guessed at
    (written / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError) as info:
        read_results(written)
    assert str(info.value) == (
        f"{written / 'meta.json'}: format: expected 'edgesla-loadtest/2', got "
        "'edgesla-loadtest/1'; written by another tool or an incompatible edgesla version "
        "(read it with the edgesla version that wrote it)"
    )


def test_missing_operations_file(written: Path) -> None:
    victim = written / "operations" / "device_provision.json"
    victim.unlink()
    with pytest.raises(ConfigError) as info:
        read_results(written)
    assert str(info.value) == (
        f"{victim}: missing; not a complete edgesla load-test results directory "
        f"(or the run was interrupted); {FIX}"
    )


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        (
            "meta.json",
            {"target_rates_per_second": {"care_lookup": -1}},
            "target rate of 'care_lookup': must be > 0 requests/s, got -1.0",
        ),
        ("meta.json", {"colour": "red"}, "unknown keys ['colour'], missing keys []"),
        ("meta.json", {"started_at": "yesterday"}, "started_at: expected an ISO-8601 UTC time"),
        (
            "operations/care_lookup.json",
            {"successes": 5},
            "response_time.hdr: holds 3001 values, but successes is 5",
        ),
        (
            "operations/care_lookup.json",
            {"operation": "other"},
            "operation: expected 'care_lookup', got 'other'",
        ),
    ],
)
def test_corrupt_files_name_file_and_problem(
    written: Path, file: str, change: dict[str, object], message: str
) -> None:
    path = written / file
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(ConfigError) as info:
        read_results(written)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_unlisted_operation_file_is_foreign(written: Path) -> None:
    (written / "operations" / "stray.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"\['stray'\] are not listed in meta.json"):
        read_results(written)


def test_invalid_json(written: Path) -> None:
    (written / "summary.json").write_text("{")
    with pytest.raises(ConfigError, match=r"summary.json: not valid JSON"):
        read_results(written)


# --- the accounting (accounting.json) ------------------------------------------------------


def _account(
    planned: int, succeeded: int, failed: dict[str, int], late: int = 0
) -> OperationAccount:
    unaccounted = planned - succeeded - sum(failed.values()) - late
    return OperationAccount(
        planned=planned,
        succeeded=succeeded,
        failed=failed,
        not_started={"late": late, "stopped": 0},
        unaccounted=unaccounted,
    )


def _accounting(problems: tuple[str, ...] = (), lookup_planned: int = 3004) -> RunAccounting:
    worker = WorkerAccount(
        id="gen-a_1f2e",
        index=0,
        host="gen-a",
        pid=4242,
        final_report=not problems,
        shares={"CareUser": 2},
        planned=None if problems else 3004,
        problems=list(problems),
    )
    return RunAccounting(
        complete=not problems,
        problems=list(problems),
        schedule_seed=7,
        shares_planned={"CareUser": 2},
        expected_workers=1,
        drain_seconds=3.0,
        final_report_wait_seconds=10.0,
        workers=[worker],
        operations={
            "care_lookup": _account(lookup_planned, 3001, {"timeout": 1}, late=2),
            "device_provision": _account(0, 0, {}),
        },
    )


def test_the_accounting_round_trips_and_is_summarized(tmp_path: Path) -> None:
    out = write_results(tmp_path / "run", _meta(), _recorder(), accounting=_accounting())
    results = read_results(out)
    assert results.accounting == _accounting()
    assert results.complete is True
    assert json.loads((out / "meta.json").read_text())["complete"] is True
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
    lookup = summary["operations"]["care_lookup"]
    assert (lookup["planned"], lookup["not_started"], lookup["unaccounted"]) == (
        3004,
        {"late": 2, "stopped": 0},
        0,
    )
    text = (out / "summary.txt").read_text()
    assert "accounting: every planned request is accounted for" in text
    assert (
        "care_lookup: 3004 planned = 3001 succeeded + 1 failed + 2 not started (late 2, stopped 0)"
    ) in text
    assert "INCOMPLETE" not in text


def test_an_incomplete_run_is_refused_unless_asked_for(tmp_path: Path) -> None:
    problem = "worker 0 (host gen-a, pid 4242, id gen-a_1f2e): sent no final report"
    accounting = _accounting((problem,), lookup_planned=3010)
    out = write_results(tmp_path / "run", _meta(), _recorder(), accounting=accounting)
    text = (out / "summary.txt").read_text()
    assert text.splitlines()[1] == (
        "INCOMPLETE: these results cannot back a verdict (exit 3); what is missing:"
    )
    assert f"  - {problem}" in text
    assert "care_lookup: 3010 planned = 3001 succeeded + 1 failed + 2 not started " in text
    assert "6 UNACCOUNTED" in text
    with pytest.raises(ConfigError) as info:
        read_results(out)
    assert str(info.value).startswith(
        f"{out}: the load test is INCOMPLETE, so its results cannot back a verdict: {problem}"
    )
    assert info.value.exit_code == 2
    results = read_results(out, allow_incomplete=True)
    assert results.complete is False
    assert results.accounting is not None
    assert results.accounting.workers[0].name == "worker 0 (host gen-a, pid 4242, id gen-a_1f2e)"


def test_an_accounting_that_disagrees_with_the_histograms_is_not_written(tmp_path: Path) -> None:
    right = _accounting()
    wrong = right.model_copy(
        update={
            "operations": {
                **right.operations,
                "care_lookup": _account(3004, 3000, {"timeout": 1}, late=3),
            }
        }
    )
    with pytest.raises(ValueError, match="care_lookup: accounted 3000 succeeded"):
        write_results(tmp_path / "run", _meta(), _recorder(), accounting=wrong)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"complete": False, "problems": ["lost"]}, "complete is False, meta.json says True"),
        ({"complete": False}, "complete is False but problems are []"),
        ({"operations": {}}, "operations ['care_lookup', 'device_provision'] have no account"),
        ({"expected_workers": -1}, "expected_workers: Input should be greater than or equal"),
    ],
)
def test_a_tampered_accounting_is_refused(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    out = write_results(tmp_path / "run", _meta(), _recorder(), accounting=_accounting())
    path = out / "accounting.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(ConfigError) as info:
        read_results(out)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_an_operation_account_must_add_up() -> None:
    with pytest.raises(ValueError, match=r"planned 10 != succeeded 5 \+ failed 1"):
        OperationAccount(
            planned=10,
            succeeded=5,
            failed={"timeout": 1},
            not_started={"late": 1, "stopped": 0},
            unaccounted=0,
        )
