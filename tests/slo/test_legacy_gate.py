"""An old load-test gate file is refused, with the SLO spec it converts to."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgesla import ConfigError
from edgesla.loadtests.profile import OPERATIONS
from edgesla.report.gate import load_gate
from edgesla.slo.legacy_gate import convert, is_gate_file
from edgesla.slo.spec import AvailabilityObjective, LatencyObjective, parse_spec
from tests.helpers import edgesla

#: loadtests/slo-default.yaml before the gate took an SLO spec
OLD_DEFAULT = """version: 1
defaults: {p99: 200ms, max_error_ratio: 0.00001}
operations:
  care_lookup: {p99: 200ms}
  session_start: {p99: 10ms}
  device_change: {p99: 0.5ms, max_error_ratio: 0.001}
max_late_start_ratio: 0.02
"""


def test_the_converted_spec_keeps_every_limit() -> None:
    spec = parse_spec(yaml.safe_load(convert(yaml.safe_load(OLD_DEFAULT), OPERATIONS)))
    assert spec.window == "loadtest"
    assert spec.loadtest.max_late_start_ratio == 0.02
    by_name = {o.name: o for o in spec.objectives}
    assert len(by_name) == 2 * len(OPERATIONS)  # defaults apply to every operation
    p99 = by_name["device-change-p99"]
    assert isinstance(p99, LatencyObjective)
    assert (p99.operations, p99.threshold, p99.percentile) == (("device_change",), 0.0005, 99)
    assert by_name["session-start-p99"].threshold == 0.01  # type: ignore[union-attr]
    assert by_name["billing-write-p99"].threshold == 0.2  # type: ignore[union-attr]
    ok = by_name["device-change-success"]
    assert isinstance(ok, AvailabilityObjective)
    assert ok.objective == pytest.approx(0.999)
    assert by_name["care-lookup-success"].ratio == pytest.approx(0.99999)


def test_an_old_gate_file_is_refused_showing_its_conversion(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(OLD_DEFAULT, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_gate(path, OPERATIONS, ["care_lookup"])
    message = str(caught.value)
    assert message.startswith(f"{path}: this is a load-test gate file of the old format")
    assert "save it as a new file and pass that" in message
    shown = "\n".join(
        line.removeprefix("    ") for line in message.splitlines() if line.startswith("    ")
    )
    assert parse_spec(yaml.safe_load(shown)).loadtest.max_late_start_ratio == 0.02


def test_a_zero_error_ratio_is_named_not_turned_into_100_percent() -> None:
    text = convert({"version": 1, "defaults": {"max_error_ratio": 0}}, ["care_lookup"])
    assert "care_lookup: max_error_ratio 0 (no error at all) cannot be proven" in text
    assert "success" not in text


def test_an_invalid_old_file_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text("version: 1\ndefaults: {p99: -1s}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"old format.*also invalid \(defaults\.p99"):
        load_gate(path, OPERATIONS, ["care_lookup"])


@pytest.mark.parametrize(
    ("data", "old"),
    [
        ({"version": 1, "operations": {}}, True),
        ({"version": 1, "max_late_start_ratio": 0.1}, True),
        ({"version": 1, "objectives": [], "operations": {}}, False),
        ({"version": 1, "window": "loadtest"}, False),
        ("version: 1", False),
    ],
)
def test_what_counts_as_an_old_gate_file(data: object, old: bool) -> None:
    assert is_gate_file(data) is old


@pytest.mark.parametrize("command", ["report", "rules"])
def test_report_and_rules_refuse_an_old_gate_file_too(tmp_path: Path, command: str) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(OLD_DEFAULT, encoding="utf-8")
    out = tmp_path / "out"
    result = edgesla(command, "--slo", str(path), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert "load-test gate file of the old format" in result.stderr
    assert "name: selfcare-http-p99" in result.stderr  # the defaults, for every operation
    assert not out.exists()
