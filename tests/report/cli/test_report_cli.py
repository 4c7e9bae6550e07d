"""`edgesla report` on hand-made inputs: PASS, FAIL and INCONCLUSIVE where each is right,
exit codes 0/1/3, and bad input exit 2 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import edgesla
from tests.report.loadtest_runs import write_run

SPEC = """version: 1
window: loadtest
objectives:
  - {name: requests-ok, sli: loadtest_success, objective: "%s"}
  - {name: lookup-p99, sli: latency, source: loadtest, threshold: 200ms, percentile: 99,
     operations: [care_lookup]}
"""


def _report(
    tmp_path: Path, objective: str, *runs: Path, in_process: bool = True
) -> tuple[int, Path, str]:
    """`edgesla report` on ``runs``; in this interpreter unless told otherwise (a PASS and a
    FAIL run the real program)."""
    spec = tmp_path / f"slo-{runs[0].name}.yaml"
    spec.write_text(SPEC % objective)
    out = tmp_path / f"report-{runs[0].name}"
    given = [arg for run in runs for arg in ("--loadtest", str(run))]
    result = edgesla(
        "report", "--slo", str(spec), *given, "--out", str(out), "--no-pdf", in_process=in_process
    )
    return result.returncode, out, result.stdout + result.stderr


def test_pass_with_enough_evidence(tmp_path: Path) -> None:
    run = write_run(tmp_path, "pass", 400_000, 0)
    code, out, text = _report(tmp_path, "99.999%", run, in_process=False)
    assert code == 0, text
    doc = json.loads((out / "report.json").read_text())
    assert doc["verdict"] == "PASS"
    assert (out / "junit.xml").exists()
    assert "PASS" in (out / "report.html").read_text()


def test_fail_when_the_data_shows_the_objective_broken(tmp_path: Path) -> None:
    run = write_run(tmp_path, "fail", 10_000, 50)
    code, out, text = _report(tmp_path, "99.9%", run, in_process=False)
    assert code == 1, text
    assert json.loads((out / "report.json").read_text())["verdict"] == "FAIL"


def test_inconclusive_with_too_little_evidence(tmp_path: Path) -> None:
    code, out, text = _report(tmp_path, "99.999%", write_run(tmp_path, "few", 1_000, 0))
    assert code == 3, text
    assert json.loads((out / "report.json").read_text())["verdict"] == "INCONCLUSIVE"
    assert "more good events" in text


def test_a_broken_objective_with_a_saturated_generator_is_inconclusive(tmp_path: Path) -> None:
    """The load-test gate's rule: the generator, not the target, may be at fault."""
    run = write_run(tmp_path, "busy", 10_000, 50, saturated=True)
    code, out, text = _report(tmp_path, "99.9%", run)
    assert code == 3, text
    (result,) = [r for r in _results(out) if r["name"] == "requests-ok"]
    assert result["verdict"] == "INCONCLUSIVE"
    assert "the load generator was the bottleneck: its CPU was saturated" in result["summary"]
    assert "below the 99.9 % objective, but not proven against the target" in result["summary"]


def test_a_planned_operation_that_never_ran_is_named_and_blocks_a_pass(tmp_path: Path) -> None:
    planned = {"care_lookup": 1000.0, "billing_write": 3.0}
    run = write_run(tmp_path, "missing-op", 400_000, 0, planned=planned)
    code, out, text = _report(tmp_path, "99.999%", run)
    assert code == 3, text  # "all operations" cannot PASS without billing_write
    (result,) = [r for r in _results(out) if r["name"] == "requests-ok"]
    assert result["verdict"] == "INCONCLUSIVE"
    assert "planned but never run: billing_write (3 req/s planned)" in json.dumps(result)


def test_runs_of_one_pop_pool_into_one_result(tmp_path: Path) -> None:
    first = write_run(tmp_path, "first", 200_000, 0)
    second = write_run(tmp_path, "second", 200_000, 0)
    code, out, text = _report(tmp_path, "99.999%", first, second)
    assert code == 0, text  # neither run alone has the 299,572 good events five nines need
    results = [r for r in _results(out) if r["name"] == "requests-ok"]
    assert len(results) == 1
    assert (results[0]["good"], results[0]["total"]) == (400_000, 400_000)
    doc = json.loads((out / "report.json").read_text())
    assert {str(first), str(second)} <= set(
        " ".join(doc["sources"]).replace("load test ", "").split()
    )


def _results(out: Path) -> list[dict[str, object]]:
    return list(json.loads((out / "report.json").read_text())["objectives"])


def test_unreachable_prometheus_is_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = edgesla("report", "--prometheus", "http://127.0.0.1:1", "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "127.0.0.1:1" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("kind", ["empty", "foreign"])
def test_empty_or_foreign_results_dir_is_bad_input(tmp_path: Path, kind: str) -> None:
    bad = tmp_path / kind
    bad.mkdir()
    if kind == "foreign":
        (bad / "meta.json").write_text('{"format": "something-else/9"}')
    out = tmp_path / "never"
    result = edgesla("report", "--loadtest", str(bad), "--out", str(out), in_process=True)
    assert result.returncode == 2, result.stderr
    assert str(bad) in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nwindw: 30d\n", "windw"),
        (
            "version: 1\nobjectives:\n  - {name: a, sli: probe_success, objective: 100%}\n",
            "objective",
        ),
        ("version: 1\nobjectives:\n  - {name: a, sli: probe_success, objective: 0}\n", "objective"),
    ],
)
def test_bad_spec_is_exit_2(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "slo.yaml"
    spec.write_text(text)
    run = write_run(tmp_path, "ok", 10, 0)
    never = tmp_path / "never"
    result = edgesla(
        "report", "--slo", str(spec), "--loadtest", str(run), "--out", str(never), in_process=True
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "never").exists()


def test_no_evidence_at_all_is_bad_input(tmp_path: Path) -> None:
    result = edgesla("report", "--out", str(tmp_path / "never"))
    assert result.returncode == 2
    assert "no evidence to judge" in result.stderr
