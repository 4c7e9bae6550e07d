"""The SLO spec loader: strict, typed, and clear about what is wrong, where, and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.slo.spec import (
    AvailabilityObjective,
    LatencyObjective,
    default_spec,
    load_spec,
    parse_percent,
)

ROOT = Path(__file__).parent.parent.parent
DATA = ROOT / "tests" / "testdata" / "slo"
EXAMPLE = ROOT / "examples" / "slo.yaml"
_KNOWN = (
    "care-lookup-p99, controlplane-availability, edge-query-p99, loadtest-availability, "
    "probe-availability, replication-lag, subscriber-lookup-probe-p99"
)

INVALID = {
    "invalid-alerting-confidence.yaml": "  alerting: confidence is the spec's top-level key "
    "'confidence' (one level for the report and the alerts); move it there and write guard: "
    "wilson here",
    "invalid-alerting-guard.yaml": "  alerting.guard: unknown guard 'clopper-pearson': use "
    "wilson (fire on the error ratio's lower confidence bound; an exact Clopper-Pearson bound "
    "cannot be computed in PromQL) or none",
    "invalid-alerting-min-events.yaml": "  alerting.min_events: min_events -5 must be a whole "
    "number of events, 0 or more (0: no minimum), e.g. 100; keep it below what a long window "
    "(1h) normally holds",
    "invalid-bad-window.yaml": "  window: invalid window '30 days': use a duration such as 30d "
    "or 7d, a fixed period {start: 2026-11-01T00:00:00Z, end: 2026-12-01T00:00:00Z}, or "
    "'loadtest' for the window of the load-test run(s) given",
    "invalid-confidence.yaml": "  confidence: confidence 95 must be above 0.5 and below 1 "
    "(a fraction: 0.95 for 95 %)",
    "invalid-duplicate-name.yaml": "  objectives[1] (name: availability): the name is used "
    "twice; objective names must be unique",
    "invalid-empty-objectives.yaml": "  objectives: the list is empty; list objectives, or "
    "leave the key out for the defaults",
    "invalid-latency-no-threshold.yaml": "  objectives[0] (name: care-lookup-p99).threshold: "
    "required key is missing (examples/slo.yaml shows every key)",
    "invalid-latency-wrong-filter.yaml": "  objectives[0] (name: care-lookup-p99): targets "
    "filters probes; with source: loadtest use operations",
    "invalid-maintenance-no-zone.yaml": "  maintenance[0].start: 2025-01-05T02:00:00 has no "
    "time zone: write UTC with a Z, e.g. 2025-01-05T02:00:00Z",
    "invalid-maintenance-order.yaml": "  maintenance[0]: end 2025-01-05T02:00:00+00:00 must be "
    "after start 2025-01-05T03:00:00+00:00",
    "invalid-no-version.yaml": "version: expected 1, got None; add 'version: 1' at the top",
    "invalid-objective-100.yaml": "  objectives[0] (name: probe-availability).objective: "
    "objective '100%' must be below 100 %: 100 % can never be proven by counting events; "
    "five nines is 99.999%",
    "invalid-objective-fraction.yaml": "  objectives[0] (name: probe-availability).objective: "
    "objective 0.99999 looks like a fraction; objectives are percentages: write 99.999%",
    "invalid-objective-zero.yaml": "  objectives[0] (name: replication-lag).objective: "
    "objective 0 must be above 0 %: it would promise nothing",
    "invalid-override-unknown-objective.yaml": "  pops.lab-pop-01.probe-availabilty: unknown "
    f"objective 'probe-availabilty'; known objectives: {_KNOWN}",
    "invalid-override-wrong-key.yaml": "  pops.lab-pop-01.care-lookup-p99.objective: objective "
    "'care-lookup-p99' (latency) has no objective; use percentile",
    "invalid-unknown-key.yaml": "  objectives[0] (name: care-lookup-p99).percentil: unknown key "
    "(check its spelling; examples/slo.yaml shows every key)",
    "invalid-unknown-sli.yaml": "  objectives[0] (name: probe-availability): unknown sli "
    "'probe_succes'; known SLIs: controlplane_ready, latency, loadtest_success, probe_success, "
    "replication_lag",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_spec_names_file_key_and_fix(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_spec(DATA / name)
    message = str(info.value)
    assert message.startswith(f"{DATA / name}: ")
    assert INVALID[name] in message
    assert info.value.exit_code == 2


def test_every_invalid_example_is_covered() -> None:
    assert {p.name for p in DATA.glob("invalid-*.yaml")} == set(INVALID)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the SLO spec: No such file"):
        load_spec(tmp_path / "nope.yaml")


def test_minimal_spec_is_the_default_spec() -> None:
    spec = load_spec(DATA / "valid-minimal.yaml")
    assert spec == default_spec()
    assert spec.window_seconds == 30 * 86400
    assert spec.confidence == 0.95
    availability = [o for o in spec.objectives if isinstance(o, AvailabilityObjective)]
    assert {o.sli for o in availability} == {
        "probe_success",
        "loadtest_success",
        "controlplane_ready",
    }
    assert all(o.objective == 0.99999 for o in availability)
    latency = {o.name: o for o in spec.objectives if isinstance(o, LatencyObjective)}
    assert latency["care-lookup-p99"].threshold == 0.200
    assert latency["edge-query-p99"].threshold == 0.010
    assert all(o.ratio == 0.99 for o in latency.values())
    with pytest.raises(ValueError, match="frozen"):
        spec.confidence = 0.9  # type: ignore[misc]


def test_example_loads_and_shows_the_defaults() -> None:
    spec = load_spec(EXAMPLE)
    assert spec.maintenance_windows[0][2] == "PostgreSQL minor upgrade, CHG-1234"
    assert spec.maintenance[0].start.isoformat() == "2025-01-05T02:00:00+00:00"
    ours = [o.model_dump(exclude={"description"}) for o in spec.objectives]
    defaults = [o.model_dump(exclude={"description"}) for o in default_spec().objectives]
    assert ours == defaults


def test_overrides_apply_per_pop_only() -> None:
    spec = load_spec(EXAMPLE)
    lab = {o.name: o for o in spec.objectives_for("lab-pop-01")}
    assert lab["probe-availability"].ratio == pytest.approx(0.9999)
    fra = {o.name: o for o in spec.objectives_for("pop-fra-03")}
    edge = fra["edge-query-p99"]
    assert isinstance(edge, LatencyObjective)
    assert (edge.threshold, edge.percentile) == (0.015, 99.5)
    assert spec.objectives_for("elsewhere") == spec.objectives


def test_loadtest_window() -> None:
    from edgesla.slo.spec import parse_spec

    assert parse_spec({"version": 1, "window": "loadtest"}).window_seconds is None


@pytest.mark.parametrize(
    ("text", "fraction"),
    [("99.999%", 0.99999), (99.999, 0.99999), ("99.9 %", 0.999), (99, 0.99), ("50%", 0.5)],
)
def test_percentages_are_exact(text: str | float, fraction: float) -> None:
    assert parse_percent(text) == fraction
