"""The resolution an objective was judged at: derived from the counts, warned about for the
control plane when coarser than half its budget (five nines over 30 d: 12.96 s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from edgesla import conventions as conv
from edgesla.report.evaluate import FLEET, availability, roll_up
from edgesla.report.inputs._counters import Gap
from edgesla.report.inputs._evidence import Parts, SeriesCount, availability_evidence
from edgesla.report.model import AvailabilityEvidence
from edgesla.report.resolution import is_control_plane, probe_intervals, resolution_issue
from edgesla.slo.period import Period

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS_30 = conv.WINDOW_SECONDS_30D


def _evidence(sli: str, every: float, pop: str = "pop-a") -> AvailabilityEvidence:
    runs = round(DAYS_30 / every)
    return AvailabilityEvidence(
        sli=sli,
        pop=pop,
        good=runs,
        total=runs,
        window_start=START,
        window_end=START + timedelta(days=30),
        probe_intervals=(("etcd", every),),
    )


def test_intervals_are_observed_time_over_runs() -> None:
    runs = {"etcd": 2_592_000, "pg": 172_800, "never": 0}
    observed = {"etcd": 2_592_000.0, "pg": 2_592_000.0, "never": 2_592_000.0}
    assert probe_intervals(runs, observed) == (("etcd", 1.0), ("pg", 15.0))


def test_evidence_leaves_maintenance_and_unobserved_time_out() -> None:
    """30 d, one hour of maintenance, and one hour in which nothing probed etcd: etcd ran
    every second of the rest, the PostgreSQL target every 15 s."""
    period = Period(START, START + timedelta(days=30), "month", "November 2026 (UTC)")
    t0, hour = START.timestamp(), 3600.0
    open_s = DAYS_30 - hour
    etcd_runs, pg_runs = round(open_s - hour), round(open_s / 15)
    parts = Parts(
        series=[
            SeriesCount({"target": "etcd", "result": "success"}, etcd_runs - 5),
            SeriesCount({"target": "etcd", "result": "failure"}, 5),
            SeriesCount({"target": "pg", "result": "success"}, pg_runs),
        ],
        gaps=[("etcd", Gap(t0 + 10 * hour, t0 + 11 * hour, probed=False))],
    )
    clipped = [(t0 + hour, t0 + 2 * hour, "upgrade")]
    evidence = availability_evidence("probe_success", "pop-a", period, parts, clipped, "test")
    assert evidence.probe_intervals == (("etcd", 1.0), ("pg", 15.0))


def test_only_control_plane_slis_are_control_plane() -> None:
    assert is_control_plane("controlplane_ready")
    assert not is_control_plane("probe_success")
    assert not is_control_plane("loadtest_success")


def test_a_control_plane_objective_at_15_s_says_it_is_too_coarse() -> None:
    coarse = availability("cp", _evidence("controlplane_ready", 15.0), 0.99999, 0.95)
    assert coarse.probe_interval_seconds == 15.0
    notes = [i for i in coarse.issues if i.kind == "resolution"]
    assert len(notes) == 1
    assert "judged at a probe every 15 s (target(s) etcd)" in notes[0].detail
    assert "25.9 s error budget" in notes[0].detail
    assert "probe every 12.96 s or more often" in notes[0].detail
    assert coarse.verdict == "INCONCLUSIVE"  # a warning, not a verdict: 172,800 clean runs

    fine = availability("cp", _evidence("controlplane_ready", 1.0), 0.99999, 0.95)
    assert fine.probe_interval_seconds == 1.0
    assert not [i for i in fine.issues if i.kind == "resolution"]
    assert fine.verdict == "PASS"  # 2,592,000 clean runs prove five nines


def test_the_data_plane_states_its_resolution_without_the_warning() -> None:
    result = availability("all", _evidence("probe_success", 15.0), 0.99999, 0.95)
    assert result.probe_interval_seconds == 15.0
    assert not [i for i in result.issues if i.kind == "resolution"]


def test_the_fleet_is_judged_at_its_coarsest_pop() -> None:
    results = [
        availability("cp", _evidence("controlplane_ready", 1.0, "pop-a"), 0.99999, 0.95),
        availability("cp", _evidence("controlplane_ready", 5.0, "pop-b"), 0.99999, 0.95),
    ]
    (fleet,) = roll_up(results, 0.95)
    assert (fleet.pop, fleet.probe_interval_seconds) == (FLEET, 5.0)


def test_no_runs_no_interval_no_warning() -> None:
    assert resolution_issue((), 25.92, DAYS_30) is None


def test_a_short_period_says_how_long_a_period_the_interval_can_judge() -> None:
    """A 5-minute load-test window allows 3 ms of downtime at five nines: no interval can
    measure that; at 1 s, 2.31 days can."""
    issue = resolution_issue((("etcd", 1.0),), 300 * 1e-5, 300)
    assert issue is not None
    assert "3 ms error budget" in issue.detail
    assert issue.detail.endswith("or judge a period of 2.31 days or more")
