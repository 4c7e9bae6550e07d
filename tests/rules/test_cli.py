"""`edgesla rules` as a user runs it: exit codes, messages, and nothing half-written."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from edgesla.cli import cli
from edgesla.rules import RULES_FILE
from edgesla.rules.alertmanager import ALERTMANAGER_FILE
from edgesla.rules.writer import ROLLUPS_FILE

FLEET = textwrap.dedent("""\
    version: 1
    pops:
      - {name: pop-a, region: eu, exporter: "pop-a.example.net:9830"}
""")


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _rules(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["rules", *args])
    return result.exit_code, result.output


def test_default_spec_writes_one_file_with_rules_and_alerts(tmp_path: Path) -> None:
    code, output = _rules("--out", str(tmp_path / "rules"))
    assert code == 0, output
    path = tmp_path / "rules" / RULES_FILE
    assert f"wrote {path}" in output
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["groups"]
    assert path.read_text(encoding="utf-8").startswith("# DO NOT EDIT")
    written = sorted(p.name for p in (tmp_path / "rules").iterdir())
    assert written == sorted([RULES_FILE, ROLLUPS_FILE, ALERTMANAGER_FILE])  # no temp left
    check = subprocess.run(
        ["promtool", "check", "rules", str(tmp_path / "rules" / ROLLUPS_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            "version: 1\nwindow: loadtest\n",
            "window: 'loadtest' has no fixed length",
            id="window-loadtest",
        ),
        pytest.param(
            "version: 1\nwindow: 1d\n",
            "window: 1d is shorter than the longest alert window (3d); use a window of at least 3d",
            id="window-too-short",
        ),
        pytest.param(
            "version: 1\nobjectives:\n  - {name: avail, sli: probe_success, objective: 90%}\n",
            "objectives[0] (name: avail): objective 90% leaves an error budget of 10%; the "
            "14.4× burn-rate alert (1h/5m) would need an error ratio of 1.44 > 1 and could "
            "never fire; use an objective above 93.06%",
            id="budget-too-large",
        ),
        pytest.param(
            "version: 1\nobjectives:\n  - {name: lat, sli: latency, source: probes, "
            "threshold: 150ms}\n",
            "objectives[0] (name: lat).threshold: 150ms is not a bucket bound of "
            "edgesla_probe_latency_seconds",
            id="latency-not-a-bound",
        ),
        pytest.param(
            "version: 1\nobjectives:\n  - {name: lat, sli: latency, source: probes, "
            "threshold: 200ms}\npops:\n  pop-a: {lat: {threshold: 300ms}}\n",
            "pops.pop-a.lat.threshold: 300ms is not a bucket bound",
            id="per-pop-latency-not-a-bound",
        ),
        pytest.param(
            "version: 1\nobjectives:\n  - {name: x, sli: nonsense}\n",
            "unknown sli 'nonsense'",
            id="unknown-sli",
        ),
        pytest.param(
            "version: 1\nalerting: {guard: wilson, confidence: 0.99}\n",
            "alerting: confidence is the spec's top-level key 'confidence'",
            id="alerting-own-confidence",
        ),
    ],
)
def test_bad_spec_exits_2_naming_file_place_and_fix(
    tmp_path: Path, spec: str, message: str
) -> None:
    slo = _write(tmp_path / "slo.yaml", spec)
    out = tmp_path / "out"
    code, output = _rules("--slo", str(slo), "--out", str(out))
    assert code == 2, output
    flat = " ".join(output.split())
    assert str(slo) in flat
    assert message in flat
    assert not out.exists()  # nothing written on error


def test_pop_not_in_fleet_exits_2(tmp_path: Path) -> None:
    slo = _write(
        tmp_path / "slo.yaml",
        "version: 1\npops:\n  pop-zz: {probe-availability: {objective: 99.99%}}\n",
    )
    fleet = _write(tmp_path / "fleet.yaml", FLEET)
    code, output = _rules("--slo", str(slo), "--fleet", str(fleet), "--out", str(tmp_path / "o"))
    assert code == 2, output
    assert (
        "pops.pop-zz: PoP 'pop-zz' is not in the fleet inventory; add it to the fleet file or "
        "remove its overrides (fleet PoPs: pop-a)" in " ".join(output.split())
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    slo = _write(
        tmp_path / "slo.yaml",
        "version: 1\nwindow: 2d\nobjectives:\n"
        "  - {name: lat, sli: latency, source: probes, threshold: 150ms}\n",
    )
    code, output = _rules("--slo", str(slo), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "window: 2d" in output
    assert "150ms is not a bucket bound" in output


def test_out_not_writable_exits_2_and_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    code, output = _rules("--out", str(blocker / "rules"))
    assert code == 2, output
    assert f"--out {blocker / 'rules'}: cannot write there" in " ".join(output.split())


def test_a_failed_run_leaves_the_previous_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "rules"
    assert _rules("--out", str(out))[0] == 0
    before = (out / RULES_FILE).read_text(encoding="utf-8")
    slo = _write(tmp_path / "slo.yaml", "version: 1\nwindow: 1h\n")
    assert _rules("--slo", str(slo), "--out", str(out))[0] == 2
    assert (out / RULES_FILE).read_text(encoding="utf-8") == before
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [RULES_FILE, ROLLUPS_FILE, ALERTMANAGER_FILE]
    )


def test_fleet_pops_get_absent_alerts(tmp_path: Path) -> None:
    fleet = _write(tmp_path / "fleet.yaml", FLEET)
    code, output = _rules("--fleet", str(fleet), "--out", str(tmp_path / "o"))
    assert code == 0, output
    text = (tmp_path / "o" / RULES_FILE).read_text(encoding="utf-8")
    assert 'absent(edgesla_probe_up{pop="pop-a"})' in text


def test_help_names_promtool_and_exit_codes() -> None:
    code, output = _rules("--help")
    assert code == 0
    assert "promtool check rules" in output
    assert "2 bad spec" in output
