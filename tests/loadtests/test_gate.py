"""The load-test gate: PASS, FAIL and INCONCLUSIVE where each is right."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla import ConfigError, exitcodes
from edgesla.loadtests.gate import evaluate, load_gate
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.profile import OPERATIONS
from edgesla.loadtests.results import GeneratorHealth

HEALTHY = GeneratorHealth(cpu_saturated=False, too_few_users=False)


def _gate(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    return path


def _recorder(latency: float, count: int = 1000, failures: int = 0, late: int = 0) -> Recorder:
    recorder = Recorder()
    for i in range(count):
        start = float(i)
        recorder.record(
            "care_lookup",
            start,
            start,
            start + latency,
            ok=i >= failures,
            cause=None if i >= failures else "timeout",
            late=i < late,
        )
    return recorder


def test_pass_when_every_objective_is_met(tmp_path: Path) -> None:
    spec = load_gate(_gate(tmp_path, "version: 1\ndefaults: {p99: 10ms}\n"), OPERATIONS)
    verdict = evaluate(spec, _recorder(0.004).results(), HEALTHY)
    assert verdict.code == exitcodes.OK


def test_fail_on_p99_when_the_generator_kept_up(tmp_path: Path) -> None:
    spec = load_gate(_gate(tmp_path, "version: 1\ndefaults: {p99: 10ms}\n"), OPERATIONS)
    verdict = evaluate(spec, _recorder(0.0123).results(), HEALTHY)
    assert verdict.code == exitcodes.FAILURE
    (check,) = [c for c in verdict.checks if c.what == "p99"]
    assert not check.ok
    assert check.measured == pytest.approx(0.0123, rel=1e-3)


def test_fail_on_error_ratio(tmp_path: Path) -> None:
    spec = load_gate(
        _gate(tmp_path, "version: 1\ndefaults: {max_error_ratio: 0.001}\n"), OPERATIONS
    )
    verdict = evaluate(spec, _recorder(0.001, failures=2).results(), HEALTHY)
    assert verdict.code == exitcodes.FAILURE


def test_inconclusive_when_the_generator_was_the_bottleneck(tmp_path: Path) -> None:
    spec = load_gate(_gate(tmp_path, "version: 1\ndefaults: {p99: 10ms}\n"), OPERATIONS)
    verdict = evaluate(spec, _recorder(0.05, late=50).results(), HEALTHY)
    assert verdict.code == exitcodes.INCONCLUSIVE
    assert "load generator was the bottleneck" in verdict.reason
    saturated = GeneratorHealth(cpu_saturated=True, too_few_users=False)
    assert evaluate(spec, _recorder(0.05).results(), saturated).code == exitcodes.INCONCLUSIVE


def test_no_requests_is_never_a_pass(tmp_path: Path) -> None:
    spec = load_gate(_gate(tmp_path, "version: 1\n"), OPERATIONS)
    assert evaluate(spec, Recorder().results(), HEALTHY).code == exitcodes.INCONCLUSIVE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\noperations: {teleport: {p99: 1s}}\n", r"unknown operation\(s\) teleport"),
        ("version: 1\ndefaults: {p99: -1s}\n", "defaults.p99"),
        ("version: 1\ndefaults: {max_error_ratio: 1.5}\n", "defaults.max_error_ratio"),
        ("version: 2\n", "version"),
        ("version: 1\nextra: true\n", "extra"),
    ],
)
def test_bad_gate_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_gate(_gate(tmp_path, text), OPERATIONS)
