"""The machine-readable outputs and the terminal summary, from the hand-built report."""

from __future__ import annotations

import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from edgesla import ConfigError, PreflightError, exitcodes
from edgesla.report.model import Report
from edgesla.report.render import (
    exit_code,
    render_html,
    render_json,
    render_junit,
    render_terminal,
    write_all,
)
from edgesla.report.render.json_ import FORMAT, load_json


def test_html_is_self_contained_and_verdict_first(report: Report) -> None:
    html = render_html(report)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "http://" not in html.replace("prometheus http://127.0.0.1:19490", "")
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    banner = html.index('class="verdict">FAIL<')
    assert banner < html.index("<h2>Objectives</h2>") < html.index("<h2>Per PoP</h2>")
    for figure in (
        "97.87 %",
        "99.9998 %",
        "126,772",
        "INCONCLUSIVE",
        "p99 ≤ 10 ms",
        "99.9994 %",
    ):
        assert figure in html, figure
    assert html.count('<section class="card') == len(report.objectives)
    # every result with evidence has a chart (the fleet roll-ups carry none: evaluate.roll_up)
    assert html.count("<svg") == sum(r.evidence is not None for r in report.objectives) == 7
    assert "etcd readiness series missing for 20 min" in html  # data issue shown


def test_html_escapes_names(report: Report) -> None:
    hostile = dataclasses.replace(
        report,
        title="<script>alert(1)</script>",
        objectives=(dataclasses.replace(report.objectives[0], name="a<b & c"),),
    )
    html = render_html(hostile)
    assert "<script>" not in html
    assert "a&lt;b &amp; c" in html


def test_json_versioned_stable_and_round_trips(report: Report) -> None:
    text = render_json(report)
    assert text == render_json(report)
    data = load_json(text)
    assert list(data)[:2] == ["format", "title"]
    assert data["format"] == FORMAT == "edgesla-report/1"
    assert json.dumps(data, indent=2, ensure_ascii=False) + "\n" == text
    assert data["verdict"] == "FAIL"
    assert data["window_start"] == "2025-05-01T00:00:00Z"
    inconclusive = next(o for o in data["objectives"] if o["verdict"] == "INCONCLUSIVE")
    assert inconclusive["events_needed"] == 126_772
    assert inconclusive["good"] == inconclusive["total"] == 172_800
    latency = next(o for o in data["objectives"] if o["kind"] == "latency")
    assert latency["evidence"]["type"] == "latency"
    assert latency["evidence"]["buckets"][-1] == ["+Inf", 380_000]
    lag = next(o for o in data["objectives"] if o["kind"] == "replication_lag")
    assert lag["evidence"]["samples_points"] == 43_200
    assert "samples" not in lag["evidence"]


def test_json_refuses_a_foreign_document() -> None:
    with pytest.raises(ConfigError, match="edgesla-report/1"):
        load_json('{"format": "something-else/2"}')


def test_junit_counts(report: Report) -> None:
    root = ET.fromstring(render_junit(report))  # noqa: S314 - our own output, not untrusted
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(report.objectives) == 10
    assert len(root.findall(".//failure")) == 2
    skipped = root.findall(".//skipped")
    assert len(skipped) == 1
    assert "126,772" in skipped[0].get("message", "")
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("10", "2", "1")
    names = {c.get("name") for c in cases}
    assert "Edge NoSQL query latency @ pop-fra1" in names


def test_terminal_verdict_line_first(report: Report) -> None:
    lines = render_terminal(report).splitlines()
    assert lines[0].startswith("FAIL")
    assert "2 of 10 objectives broken" in lines[0]
    assert len(lines) == 1 + len(report.objectives)
    assert lines[1].split()[0] == "FAIL"
    assert any("INCONCLUSIVE" in line and "126,772" in line for line in lines)


def test_exit_codes(report: Report) -> None:
    assert exit_code(report) == exitcodes.FAILURE == 1
    others = tuple(o for o in report.objectives if o.verdict != "FAIL")
    inconclusive = dataclasses.replace(report, verdict="INCONCLUSIVE", objectives=others)
    assert exit_code(inconclusive) == exitcodes.INCONCLUSIVE == 3
    passing = tuple(o for o in others if o.verdict == "PASS")
    assert exit_code(dataclasses.replace(report, verdict="PASS", objectives=passing)) == 0
    # never a PASS without evidence, nor when an objective disagrees with the headline
    assert exit_code(dataclasses.replace(report, verdict="PASS", objectives=())) == 3
    assert exit_code(dataclasses.replace(report, verdict="PASS")) == 1


def test_write_all_without_pdf_leaves_no_temp_files(report: Report, tmp_path: Path) -> None:
    paths = write_all(report, tmp_path, pdf=False)
    assert set(paths) == {"html", "json", "junit"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.json"]


def test_write_all_failure_keeps_old_files(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "report.html").write_text("old", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.delenv("EDGESLA_CHROMIUM", raising=False)
    with pytest.raises(PreflightError, match=r"apt-get install .*chromium"):
        write_all(report, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == "old"


def test_the_resolution_judged_at_is_shown_near_the_period(report: Report) -> None:
    """Per probe-counted objective, the coarsest probe interval (its evidence's runs over the
    time observed): beside the period in the terminal line and the HTML banner (so the PDF),
    on the cards, and in the JSON."""
    intervals = {"Probe availability": 15.0, "Control-plane readiness": 1.0}
    judged = dataclasses.replace(
        report,
        objectives=tuple(
            dataclasses.replace(r, probe_interval_seconds=intervals.get(r.name))
            for r in report.objectives
        ),
    )
    said = "Probe availability every 15 s · Control-plane readiness every 1 s"
    head = render_terminal(judged).splitlines()[0]
    assert f"; probed: {said}." in head
    assert head.index("Period") < head.index("probed:")
    html = render_html(judged)
    assert f"<dt>Probed</dt><dd>{said} (the resolution" in html
    assert html.index("<dt>Period</dt>") < html.index("<dt>Probed</dt>") < html.index("<h2>")
    assert "<dt>Probed every</dt><dd>1 s (coarsest target)</dd>" in html
    rows = json.loads(render_json(judged))["objectives"]
    assert {r["name"]: r["probe_interval_seconds"] for r in rows} == intervals | {
        r.name: None for r in report.objectives if r.name not in intervals
    }
    assert "probed:" not in render_terminal(report)  # nothing counted from probes: no claim
