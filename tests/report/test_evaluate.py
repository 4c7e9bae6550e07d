"""The evaluators, against golden files: ``golden/in-*.yaml`` (evidence) -> ``out-*.json``.

Each ``in-*.yaml`` also states the verdict it expects (``expect``), so regenerating the golden
files (``EDGESLA_UPDATE_GOLDEN=1 pytest tests/report``) can change wording and figures but
never silently turn a FAIL into a PASS. Review the diff of ``out-*.json`` before committing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgesla.report.evaluate import (
    FLEET,
    availability,
    build_report,
    latency,
    replication_lag,
    roll_up,
)
from edgesla.report.model import (
    AvailabilityEvidence,
    DataIssue,
    LagEvidence,
    LatencyEvidence,
    ObjectiveResult,
)
from tests.golden import matches_golden

GOLDEN = Path(__file__).parent.parent / "testdata" / "report" / "golden"
START = datetime(2025, 1, 1, tzinfo=UTC)


def _lag_evidence(raw: dict[str, Any], issues: tuple[DataIssue, ...]) -> LagEvidence:
    """Expand the run-length encoded ``lags: [[lag, count], ...]`` into samples."""
    step, start = float(raw["step_seconds"]), raw["start"]
    lags = [float(lag) for lag, count in raw["lags"] for _ in range(count)]
    samples = tuple((start + timedelta(seconds=i * step), lag) for i, lag in enumerate(lags))
    return LagEvidence(
        sli=raw["sli"], pop=raw["pop"], samples=samples, step_seconds=step, issues=issues
    )


def _evaluate_one(item: dict[str, Any], confidence: float) -> ObjectiveResult:
    raw = dict(item["evidence"])
    issues = tuple(DataIssue(**issue) for issue in raw.pop("issues", []))
    if item["evaluator"] == "availability":
        evidence = AvailabilityEvidence(**raw, issues=issues)
        return availability(item["name"], evidence, item["objective"], confidence)
    if item["evaluator"] == "latency":
        slow = LatencyEvidence(**raw, issues=issues)
        return latency(item["name"], slow, item["percentile"], confidence)
    lag = _lag_evidence(raw, issues)
    return replication_lag(item["name"], lag, item["objective"], item["threshold"], confidence)


def _evaluate(case: dict[str, Any]) -> list[ObjectiveResult]:
    results = [_evaluate_one(item, case["confidence"]) for item in case["objectives"]]
    if case.get("roll_up"):
        results += roll_up(results, case["confidence"])
    return results


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def serialise(results: list[ObjectiveResult]) -> str:
    """Deterministic JSON of the results; the evidence is the input file, so it is left out."""
    rows = []
    for result in results:
        row = dataclasses.asdict(dataclasses.replace(result, evidence=None))
        del row["evidence"]
        rows.append(row)
    return json.dumps(rows, indent=2, sort_keys=True, default=_json_default, allow_nan=False) + "\n"


CASES = sorted(GOLDEN.glob("in-*.yaml"))


@pytest.mark.parametrize("case_file", CASES, ids=[p.stem for p in CASES])
def test_golden(case_file: Path) -> None:
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    results = _evaluate(case)
    per_pop = [r for r in results if r.pop != FLEET]
    assert [r.verdict for r in per_pop] == [item["expect"] for item in case["objectives"]]
    fleet = {r.name: r.verdict for r in results if r.pop == FLEET}
    assert fleet == case.get("expect_fleet", {})

    out = GOLDEN / case_file.name.replace("in-", "out-", 1).replace(".yaml", ".json")
    matches_golden(out, serialise(results))


def test_every_golden_output_has_an_input() -> None:
    outputs = {p.name for p in GOLDEN.glob("out-*.json")}
    assert outputs == {p.name.replace("in-", "out-", 1).replace(".yaml", ".json") for p in CASES}


def _probes(pop: str, good: int, total: int) -> AvailabilityEvidence:
    return AvailabilityEvidence(
        sli="probe_success",
        pop=pop,
        good=good,
        total=total,
        window_start=START,
        window_end=START + timedelta(days=30),
    )


def test_manager_summaries() -> None:
    passed = availability("probes", _probes("pop-a", 1_204_324, 1_204_331), 0.9999, 0.95)
    assert passed.verdict == "PASS"
    assert passed.summary == (
        "99.999 % of 1,204,331 probes succeeded (7 failed); at 95 % confidence the true "
        "availability is at least 99.998 % — above the 99.99 % objective."
    )
    short = availability("probes", _probes("pop-a", 172_800, 172_800), 0.99999, 0.95)
    assert short.verdict == "INCONCLUSIVE"
    assert short.events_needed == 126_772
    assert "126,772 more probes in a row without a single failure are needed" in short.summary


def test_estimated_downtime_and_budget() -> None:
    failed = availability("probes", _probes("pop-a", 999_950, 1_000_000), 0.99999, 0.95)
    assert failed.downtime_seconds == pytest.approx(50 / 1_000_000 * 30 * 86400)
    assert (failed.budget_allowed, failed.budget_consumed) == (10.0, 5.0)
    assert failed.events_needed is None


def test_build_report_orders_worst_first_and_rolls_up() -> None:
    results = [
        availability("b-avail", _probes("pop-b", 10, 10), 0.99999, 0.95),
        availability("a-avail", _probes("pop-b", 999_950, 1_000_000), 0.99999, 0.95),
        availability("a-avail", _probes("pop-a", 1_000_000, 1_000_000), 0.99999, 0.95),
        availability("b-avail", _probes("pop-a", 1_000_000, 1_000_000), 0.99999, 0.95),
    ]
    report = build_report(
        results,
        title="t",
        generated_at=START,
        window_start=START,
        window_end=START + timedelta(days=30),
        confidence=0.95,
    )
    order = [(r.pop, r.name, r.verdict) for r in report.objectives]
    assert order == [
        ("pop-a", "a-avail", "PASS"),
        ("pop-a", "b-avail", "PASS"),
        ("pop-b", "a-avail", "FAIL"),
        ("pop-b", "b-avail", "INCONCLUSIVE"),
        ("fleet", "a-avail", "FAIL"),
        ("fleet", "b-avail", "PASS"),
    ]
    assert report.pops == ("pop-a", "pop-b")
    assert report.verdict == "FAIL"
    assert report.objectives[4].summary.endswith("PoPs that fail it on their own: pop-b.")


def test_single_pop_report_has_no_fleet_and_empty_is_inconclusive() -> None:
    one = availability("avail", _probes("pop-a", 1_000_000, 1_000_000), 0.99999, 0.95)
    kwargs: dict[str, Any] = {
        "title": "t", "generated_at": START, "window_start": START,
        "window_end": START, "confidence": 0.95,
    }  # fmt: skip
    report = build_report([one], **kwargs)
    assert [r.pop for r in report.objectives] == ["pop-a"]
    assert report.verdict == "PASS"
    assert build_report([], **kwargs).verdict == "INCONCLUSIVE"


def test_lag_nan_counts_as_over() -> None:
    samples = ((START, 0.1), (START, math.nan))
    lag = LagEvidence(sli="replication_lag", pop="p", samples=samples, step_seconds=1.0)
    result = replication_lag("lag", lag, 0.999, 1.0, 0.95)
    assert (result.good, result.total, result.downtime_seconds) == (1, 2, 1.0)
