"""`edgesla report` over a past calendar month of a backfilled Prometheus, as a manager runs
it on 1 December: the period named on the command line, every PoP of the fleet judged (a
silent one INCONCLUSIVE with its reason), exact counts for the month only, and bad periods
and fleet files refused (exit 2) with nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edgesla.report.pipeline import NO_DATA
from tests import month_data
from tests.helpers import edgesla

pytestmark = [pytest.mark.stack, pytest.mark.slow]

SPEC = """version: 1
title: November SLA
objectives:
  - {name: availability, sli: probe_success, objective: 99.9%}
  - {name: mongo-p99, sli: latency, source: probes, targets: [mongo], threshold: 10ms,
     percentile: 99}
  - {name: lookup-p99, sli: latency, source: probes, threshold: 200ms, percentile: 99}
  - {name: lag, sli: replication_lag, threshold: 1s, objective: 99%}
"""


def _report(
    tmp_path: Path, url: str, *args: str, spec: str = SPEC, name: str = "out"
) -> tuple[int, Path, str]:
    slo = tmp_path / "slo.yaml"
    slo.write_text(spec, encoding="utf-8")
    out = tmp_path / name
    result = edgesla(
        "report", "--slo", str(slo), "--prometheus", url, "--out", str(out), "--no-pdf", *args
    )
    return result.returncode, out, result.stdout + result.stderr


def _results(out: Path) -> dict[tuple[str, str], dict[str, Any]]:
    doc = json.loads((out / "report.json").read_text())
    return {(r["pop"], r["name"]): r for r in doc["objectives"]}


def test_a_past_calendar_month_of_every_fleet_pop(
    tmp_path: Path, month_prometheus: str, fleet_file: Path
) -> None:
    code, out, text = _report(
        tmp_path, month_prometheus, "--month", "2025-11", "--fleet", str(fleet_file)
    )
    assert code == 3, text  # INCONCLUSIVE: silent and late PoPs; nothing proven broken
    doc = json.loads((out / "report.json").read_text())
    assert doc["window_start"] == "2025-11-01T00:00:00Z"
    assert doc["window_end"] == "2025-12-01T00:00:00Z"
    assert doc["period"] == "November 2025 (UTC)"
    assert "November 2025 (UTC): 2025-11-01 00:00 UTC" in text  # stated on the terminal
    results = _results(out)
    fleet_pops = {"pop-a", "pop-b", "pop-late", "pop-silent"}
    assert {pop for pop, _ in results} == fleet_pops | {"fleet"}  # pop-extra is not judged
    for name in ("availability", "mongo-p99", "lookup-p99", "lag"):
        assert all((pop, name) in results for pop in fleet_pops), name
    assert doc["unlisted_pops"] == ["pop-extra"]
    silent = results[("pop-silent", "availability")]
    assert silent["verdict"] == "INCONCLUSIVE"
    assert [i["detail"] for i in silent["issues"]] == [NO_DATA]
    _, expected = month_data.openmetrics()
    a = results[("pop-a", "availability")]
    counts = [expected[("pop-a", t)] for t in ("pg", "mongo")]
    assert a["good"] == sum(c.success for c in counts)  # November only, both targets
    assert a["total"] == sum(c.success + c.failure for c in counts)
    # the resolution judged at, from the counts: a run a minute, exporter outages and a late
    # start (unobserved) left out
    for pop in ("pop-a", "pop-b", "pop-late"):
        judged = results[(pop, "availability")]
        assert judged["probe_interval_seconds"] == 60.0, pop
    assert results[("fleet", "availability")]["probe_interval_seconds"] == 60.0
    assert dict(map(tuple, a["evidence"]["probe_intervals"])) == {"pg": 60.0, "mongo": 60.0}
    assert "probed: availability every 60 s" in text


def test_month_boundaries_follow_the_time_zone(tmp_path: Path, month_prometheus: str) -> None:
    code, out, text = _report(
        tmp_path, month_prometheus, "--month", "2025-11", "--tz", "Europe/Berlin"
    )
    assert code in (1, 3), text
    doc = json.loads((out / "report.json").read_text())
    assert (doc["window_start"], doc["window_end"]) == (
        "2025-10-31T23:00:00Z",
        "2025-11-30T23:00:00Z",
    )
    assert doc["period"] == "November 2025 (Europe/Berlin)"


def test_from_to_and_a_fixed_spec_window(tmp_path: Path, month_prometheus: str) -> None:
    code, out, text = _report(
        tmp_path, month_prometheus, "--from", "2025-11-03", "--to", "2025-11-10T12:00:00+01:00"
    )
    assert code in (1, 3), text
    doc = json.loads((out / "report.json").read_text())
    assert (doc["window_start"], doc["window_end"]) == (
        "2025-11-03T00:00:00Z",
        "2025-11-10T11:00:00Z",
    )
    fixed = SPEC.replace(
        "title: November SLA",
        "title: November SLA\nwindow: {start: 2025-11-05T00:00:00Z, end: 2025-11-06T00:00:00Z}",
    )
    code, out, text = _report(tmp_path, month_prometheus, spec=fixed, name="fixed")
    assert code in (1, 3), text
    doc = json.loads((out / "report.json").read_text())
    assert (doc["window_start"], doc["window_end"]) == (
        "2025-11-05T00:00:00Z",
        "2025-11-06T00:00:00Z",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2999-01"], "lies in the future"),
        (["--month", "2025-13"], "--month '2025-13': write a calendar month as YYYY-MM"),
        (["--from", "2025-11-10", "--to", "2025-11-03"], "ends before it starts"),
        (["--from", "yesterday"], "--from 'yesterday': not an ISO-8601 time"),
        (["--to", "2025-11-10"], "--to needs --from"),
        (["--month", "2025-11", "--from", "2025-11-03"], "--month names a whole calendar month"),
        (["--month", "2025-11", "--tz", "Mars/Olympus"], "--tz 'Mars/Olympus': unknown time zone"),
        (["--month", "2020-01"], "holds no edgesla exporter series in the period"),
    ],
)
def test_bad_periods_are_exit_2_and_nothing_is_written(
    tmp_path: Path, month_prometheus: str, args: list[str], message: str
) -> None:
    code, out, text = _report(tmp_path, month_prometheus, *args)
    assert code == 2, text
    assert message in text
    assert "Traceback" not in text
    assert not out.exists()


def test_a_month_still_running_says_how_to_judge_it_so_far(
    tmp_path: Path, month_prometheus: str
) -> None:
    from datetime import UTC, datetime

    this_month = datetime.now(UTC).strftime("%Y-%m")
    code, out, text = _report(tmp_path, month_prometheus, "--month", this_month)
    assert code == 2, text
    assert f"use --from {this_month}-01" in text
    assert not out.exists()


def test_a_bad_fleet_file_is_exit_2_naming_it(tmp_path: Path, month_prometheus: str) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("version: 1\npops:\n  - {name: pop-a, region: eu}\n", encoding="utf-8")
    code, out, text = _report(
        tmp_path, month_prometheus, "--month", "2025-11", "--fleet", str(fleet)
    )
    assert code == 2, text
    assert str(fleet) in text
    assert "exporter" in text
    assert not out.exists()
