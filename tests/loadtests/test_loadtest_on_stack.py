"""`edgesla loadtest` against the real local stack (MongoDB-wire, PostgreSQL masters,
the self-care service on uvicorn), through Locust as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesla.loadtests.profile import OPERATIONS
from edgesla.loadtests.results import LOCUST_FILES, read_results
from edgesla.stack.layout import Layout
from tests.helpers import edgesla
from tests.loadtests.checks import locust_counts, people_output, reconciled
from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def _run(stack: Layout, out: Path, *extra: str) -> tuple[int, str, str]:
    result = edgesla(
        "loadtest",
        "--config",
        str(stack.pop_config),
        "--duration",
        "7s",
        "--out",
        str(out),
        "--rate-scale",
        "5",
        *extra,
        timeout=120,
    )
    return result.returncode, result.stdout, result.stderr


def _gate(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    return path


def test_every_operation_runs_and_results_are_written(stack: Layout, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = _run(stack, out)
    assert code == 0, stdout + stderr
    results = read_results(out)
    assert set(results.operations) == set(OPERATIONS)
    for name, op in results.operations.items():
        assert op.requests > 0, name
        assert op.failed == 0, (name, op.failures)
        summary = op.response.summary()
        assert summary.p99 is not None
        assert summary.p99 >= op.service.summary().p99  # type: ignore[operator]
    assert sorted(p.name for p in (out / "locust").iterdir()) == sorted(LOCUST_FILES)
    assert locust_counts(out) == {name: op.requests for name, op in results.operations.items()}
    assert "response = from the intended start" in stdout
    assert "accounting: every planned request is accounted for" in stdout
    assert results.meta.profile == "peak"
    reconciled(results)
    people_output(stderr)


def test_gate_exit_codes(stack: Layout, tmp_path: Path) -> None:
    """The gate is an SLO spec judged as the report judges it (edgesla.report.gate)."""
    # 1 ms is broken whatever the box does; on a busy shared box a run of ~14 requests can
    # see a late start or two, which the default 1 % would call "generator-limited" (exit 3)
    strict = _gate(
        tmp_path,
        "version: 1\nloadtest: {max_late_start_ratio: 0.5}\nobjectives:\n"
        "  - {name: lookup-p99, sli: latency, source: loadtest, operations: [care_lookup],\n"
        "     threshold: 1ms, percentile: 99}\n",
    )
    code, stdout, stderr = _run(
        stack, tmp_path / "strict", "--slo", str(strict), "--operations", "care_lookup"
    )
    assert code == 1, stdout + stderr
    assert "FAIL" in stdout
    # a median within 2 s and half the requests succeeding: ~14 requests prove that at 95 %
    lax = _gate(
        tmp_path,
        "version: 1\nobjectives:\n"
        "  - {name: half-ok, sli: loadtest_success, objective: 50%}\n"
        "  - {name: lookup-p50, sli: latency, source: loadtest, operations: [care_lookup],\n"
        "     threshold: 2s, percentile: 50}\n",
    )
    code, stdout, stderr = _run(
        stack, tmp_path / "lax", "--slo", str(lax), "--operations", "care_lookup"
    )
    assert code == 0, stdout + stderr
    assert sorted(p.name for p in (tmp_path / "lax" / "gate").iterdir()) == [
        "junit.xml",
        "report.html",
        "report.json",
    ]
    gated = json.loads((tmp_path / "lax" / "gate" / "report.json").read_text())
    assert {o["name"]: o["verdict"] for o in gated["objectives"]} == {
        "half-ok": "PASS",
        "lookup-p50": "PASS",
    }
    # an old gate file: refused before anything runs, with its conversion
    old = _gate(tmp_path, "version: 1\ndefaults: {p99: 2s, max_error_ratio: 0.5}\n")
    code, stdout, stderr = _run(stack, tmp_path / "old", "--slo", str(old))
    assert code == 2, stdout + stderr
    assert "load-test gate file of the old format" in stderr
    assert "name: care-lookup-p99" in stderr
    assert not (tmp_path / "old").exists()


def test_two_processes_merge_histograms_exactly(stack: Layout, tmp_path: Path) -> None:
    """Formerly flaky (a whole operation missing): a worker could get its first "spawn"
    before Locust had fired ``init`` in it, and the master wrote the results from whatever
    worker statistics arrived in Locust's 0.5 s after "quit". Now every worker's final report
    is waited for, and every planned request reconciled."""
    out = tmp_path / "two"
    code, stdout, stderr = _run(
        stack, out, "--processes", "2", "--operations", "care_lookup,selfcare_http"
    )
    assert code == 0, stdout + stderr
    results = read_results(out)
    ours = {name: op.requests for name, op in results.operations.items() if op.requests}
    assert set(ours) == {"care_lookup", "selfcare_http"}
    assert ours == locust_counts(out)  # Locust's own statistics got every request too
    assert sum(g.processes for g in results.meta.generators) == 2
    for op in results.operations.values():
        assert op.response.summary().count == op.successes
    reconciled(results)
    assert results.accounting is not None
    assert len(results.accounting.workers) == 2
    people_output(stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "rush-hour"], "Invalid value for '--profile'"),
        (["--duration", "0s"], "--duration: must be above 0"),
        (["--duration", "soon"], "--duration: invalid duration 'soon'"),
        (["--rate-scale", "-1"], "Invalid value for '--rate-scale'"),
        (["--operations", "care_lookup,teleport"], "--operations: unknown teleport"),
        (["--max-user-rate", "0"], "Invalid value for '--max-user-rate'"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_runs(
    stack: Layout, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "never"
    result = edgesla("loadtest", "--config", str(stack.pop_config), "--out", str(out), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert not out.exists()


def test_existing_non_empty_out_is_refused_and_left_alone(stack: Layout, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    result = edgesla("loadtest", "--config", str(stack.pop_config), "--out", str(out))
    assert result.returncode == 2
    assert str(out) in result.stderr
    assert [p.name for p in out.iterdir()] == ["precious.txt"]


def test_unreachable_targets_at_start_are_exit_2(stack: Layout, tmp_path: Path) -> None:
    text = stack.pop_config.read_text().replace(f":{stack.mongo_port}/", ":1/")
    broken = tmp_path / "pop.yaml"
    broken.write_text(text)
    out = tmp_path / "never"
    result = edgesla("loadtest", "--config", str(broken), "--out", str(out), "--duration", "5s")
    assert result.returncode == 2
    assert "must answer before it starts" in result.stderr
    assert "MongoDB mongodb://127.0.0.1:1/" in result.stderr
    assert not out.exists()


def test_summary_json_is_machine_readable(stack: Layout, tmp_path: Path) -> None:
    out = tmp_path / "json"
    code, _, stderr = _run(stack, out, "--operations", "billing_write")
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert "billing_write" in json.dumps(summary)


def test_master_and_worker_processes_as_documented(stack: Layout, tmp_path: Path) -> None:
    """The README's multi-host commands, with master and worker as separate processes on
    loopback (the same protocol as across hosts): the master writes the merged results."""
    import subprocess
    import sys

    common = [
        "--pop-config", str(stack.pop_config), "--load-profile", "peak",
        "--schedule-duration", "7s", "--operations", "care_lookup", "--rate-scale", "20",
    ]  # fmt: skip
    locustfile = str(Path(__file__).resolve().parents[2] / "loadtests" / "edge_pop.py")
    out = tmp_path / "mw"
    master = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            locustfile,
            "--master",
            "--headless",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port(397)),
            "--expect-workers",
            "1",
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "10s",
            "--results-dir",
            str(out),
            *common,
            "CareUser",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            locustfile,
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(port(397)),
            *common,
            "CareUser",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _, err = master.communicate(timeout=90)
        assert master.returncode == 0, err[-2000:]
    finally:
        worker.wait(timeout=30)
    results = read_results(out)
    op = results.operations["care_lookup"]
    assert op.requests > 0
    assert op.response.summary().count == op.successes
    reconciled(results)
