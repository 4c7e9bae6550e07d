"""Evidence from a real Prometheus serving a promtool-backfilled TSDB (see conftest)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from edgesla import ConfigError
from edgesla.report.inputs import FleetStats, PrometheusClient, availability_fleet, lag, prometheus
from edgesla.slo.period import Period
from tests.ports import port
from tests.report.inputs.conftest import (
    FAILS_A,
    FAILS_D_MONGO,
    FAILS_D_PG,
    GAP_B,
    RESET_B,
    STEP,
    T0,
    WINDOW_SAMPLES,
)

pytestmark = pytest.mark.stack
END = T0 + timedelta(hours=4)


def test_clean_pop_counts_exactly(prometheus_url: str) -> None:
    ev = prometheus.availability(prometheus_url, T0, END, pop="pop-a")
    assert (ev.good, ev.total) == (WINDOW_SAMPLES - len(FAILS_A), WINDOW_SAMPLES)
    assert ev.issues == ()
    assert ev.downtime_seconds == len(FAILS_A) * STEP
    assert len(ev.bad_over_time) == 500
    assert ev.bad_over_time[-1] == (END, float(len(FAILS_A)))


def test_counter_reset_and_gap_are_counted_and_reported(prometheus_url: str) -> None:
    ev = prometheus.availability(prometheus_url, T0, END, pop="pop-b")
    assert (ev.good, ev.total) == (WINDOW_SAMPLES - 3, WINDOW_SAMPLES)
    resets = [i for i in ev.issues if i.kind == "counter_reset"]
    assert {i.start for i in resets} == {T0 + timedelta(seconds=RESET_B - T0.timestamp() + STEP)}
    assert len(resets) == 2  # success and failure series
    (gap,) = [i for i in ev.issues if i.kind == "gap"]
    assert (gap.start, gap.end) == tuple(T0 + timedelta(seconds=t - T0.timestamp()) for t in GAP_B)


def test_maintenance_is_excluded_and_shown(prometheus_url: str) -> None:
    window = (T0, T0 + timedelta(minutes=10), "db upgrade")
    ev = prometheus.availability(prometheus_url, T0, END, pop="pop-a", maintenance=[window])
    assert (ev.good, ev.total) == (WINDOW_SAMPLES - 40 - 2, WINDOW_SAMPLES - 40)
    (issue,) = ev.issues
    assert issue.kind == "excluded"
    assert "db upgrade: 40 events excluded (3 failed)" in issue.detail
    assert ev.downtime_seconds == 2 * STEP


def test_missing_series_is_total_zero_with_an_issue(prometheus_url: str) -> None:
    ev = prometheus.availability(prometheus_url, T0, END, pop="nowhere")
    assert (ev.good, ev.total) == (0, 0)
    assert [i.kind for i in ev.issues] == ["missing_series"]
    ev = prometheus.availability(prometheus_url, T0, END, pop="pop-a", targets=["other"])
    assert ev.total == 0
    assert ev.issues[0].kind == "missing_series"


def test_latency_is_exact_at_the_bucket_bounds(prometheus_url: str) -> None:
    ev = prometheus.latency(prometheus_url, T0, END, pop="pop-a", threshold=0.2)
    assert (ev.over, ev.total) == (19, WINDOW_SAMPLES)
    assert ev.issues == ()
    ev = prometheus.latency(prometheus_url, T0, END, pop="pop-a", threshold=0.01)
    assert (ev.over, ev.total) == (96, WINDOW_SAMPLES)
    assert dict(ev.buckets)[0.01] == WINDOW_SAMPLES - 96
    assert dict(ev.buckets)[float("inf")] == WINDOW_SAMPLES


def test_latency_across_a_reset(prometheus_url: str) -> None:
    ev = prometheus.latency(prometheus_url, T0, END, pop="pop-b", threshold=0.2)
    assert (ev.over, ev.total) == (19, WINDOW_SAMPLES)
    # the scrape gap is checked for latency too (the exporter kept probing: a "gap", counted)
    assert {i.kind for i in ev.issues} == {"counter_reset", "gap"}


def test_latency_off_bucket_threshold_is_flagged(prometheus_url: str) -> None:
    ev = prometheus.latency(prometheus_url, T0, END, pop="pop-a", threshold=0.1)
    assert ev.over == 96  # counted over 0.01 s: overstated, never understated
    assert [i.kind for i in ev.issues] == ["other"]


def test_replication_lag_is_the_worst_pair(prometheus_url: str) -> None:
    client, period = PrometheusClient(prometheus_url), Period(T0, END, "range", "")
    ev = lag.per_pop(client, period, "pop-a", threshold=0.75)
    # every 15-s step of [T0, END): the worst pair is 0.5 s, 1.0 s at one sample
    assert ev.counted == (WINDOW_SAMPLES - 1, WINDOW_SAMPLES)
    assert len(ev.samples) == lag.CHART_POINTS
    assert max(v for _, v in ev.samples) == 1.0
    assert ev.samples[0][1] == 0.5
    missing = lag.per_pop(client, period, "pop-c", threshold=0.75)
    assert missing.samples == ()
    assert missing.issues[0].kind == "missing_series"
    fleet = lag.fleet(client, period, {"pop-a": 0.75, "pop-c": 0.75})
    assert fleet["pop-a"] == dataclasses.replace(ev, queries=())  # same counts, chart, issues
    assert fleet["pop-c"].issues[0].kind == "missing_series"


def test_fleet_lag_in_parts_counts_the_same(
    prometheus_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prometheus refuses a subquery over ``--query.max-samples`` (300 PoPs x 30 days at 15 s
    is over the default): the raw scan and the chart go in parts of ``SUBQUERY_POINTS``."""
    client, period = PrometheusClient(prometheus_url), Period(T0, END, "range", "")
    thresholds = {"pop-a": 0.75, "pop-b": 0.75, "pop-c": 0.75}
    whole: list[str] = []
    expected = lag.fleet(client, period, thresholds, queries=whole, rollups=False)
    monkeypatch.setattr(lag, "SUBQUERY_POINTS", 700)  # 960 steps a PoP: 3 parts, 1 PoP a chart
    parts: list[str] = []
    assert lag.fleet(client, period, thresholds, queries=parts, rollups=False) == expected
    assert expected["pop-a"].counted == (WINDOW_SAMPLES - 1, WINDOW_SAMPLES)
    assert len(parts) > len(whole)


def test_pops(prometheus_url: str) -> None:
    assert prometheus.pops(prometheus_url, T0, END) == ["pop-a", "pop-b", "pop-c", "pop-d"]


def test_fleet_equals_per_pop_and_falls_back_on_trouble(prometheus_url: str) -> None:
    stats = FleetStats()
    window = (T0, T0 + timedelta(minutes=10), "db upgrade")
    fleet = availability_fleet(
        prometheus_url, T0, END, maintenance=[window], scrape_interval=STEP, stats=stats
    )
    assert sorted(fleet) == ["pop-a", "pop-b", "pop-c", "pop-d"]
    # reset and gap: only those slices of pop-b are read raw; no PoP needs the per-PoP path
    assert stats.sliced == ["pop-b"]
    assert stats.per_pop == []
    assert stats.fleet_pops == 4
    for pop, ev in fleet.items():
        one = prometheus.availability(prometheus_url, T0, END, pop=pop, maintenance=[window])
        assert (ev.good, ev.total, ev.issues) == (one.good, one.total, one.issues)
        # down while any target is, maintenance left out: the per-PoP path's exact figure
        assert ev.downtime_seconds == one.downtime_seconds, pop
        # the budget-burn chart leaves maintenance out too
        assert ev.bad_over_time[-1][1] == one.bad_over_time[-1][1], pop
    assert fleet["pop-a"].downtime_seconds == (len(FAILS_A) - 3) * STEP  # 3 in maintenance
    assert fleet["pop-d"].downtime_seconds == len(FAILS_D_PG | FAILS_D_MONGO) * STEP
    plain = availability_fleet(prometheus_url, T0, END, pops=["pop-a", "nowhere"])
    assert plain["pop-a"].downtime_seconds == len(FAILS_A) * STEP
    assert plain["pop-a"].bad_over_time[-1][1] == len(FAILS_A)
    assert plain["nowhere"].total == 0
    assert plain["nowhere"].issues[0].kind == "missing_series"


def test_rollups_give_the_raw_scan_answer(prometheus_url: str, rollup_prometheus_url: str) -> None:
    """Same counts, same PoPs sent to the exact per-PoP path, same downtime (any target
    down, maintenance left out) — from roll-ups instead of raw samples."""
    window = (T0, T0 + timedelta(minutes=10), "db upgrade")
    raw_stats, rolled_stats = FleetStats(), FleetStats()
    raw = availability_fleet(
        prometheus_url, T0, END, maintenance=[window], scrape_interval=STEP, stats=raw_stats
    )
    rolled = availability_fleet(
        rollup_prometheus_url,
        T0,
        END,
        maintenance=[window],
        scrape_interval=STEP,
        stats=rolled_stats,
    )
    assert raw_stats.source == "raw samples"
    assert rolled_stats.source.startswith("report roll-ups")
    assert rolled_stats.sliced == raw_stats.sliced == ["pop-b"]
    assert rolled_stats.per_pop == raw_stats.per_pop == []
    for pop, ev in raw.items():
        other = rolled[pop]
        assert (other.good, other.total, other.issues) == (ev.good, ev.total, ev.issues)
        assert other.downtime_seconds == ev.downtime_seconds
    assert rolled["pop-a"].bad_over_time[-1][1] == len(FAILS_A) - 3  # 3 in maintenance


def test_rollups_leave_out_the_slice_before_the_window(
    prometheus_url: str, rollup_prometheus_url: str
) -> None:
    """The roll-up evaluated at the window's start looks at the 5 minutes *before* it. A window
    opening as pop-b's scrape gap closes (clean from then until the end, before the reset)
    must not be marked suspect for the gap: the raw scan counts pop-b fleet-wide, and so must
    the roll-ups (regression: every PoP went to the slow per-PoP path when data began, or a
    gap ended, right before the window)."""
    start = datetime.fromtimestamp(GAP_B[1], UTC)
    end = datetime.fromtimestamp(RESET_B, UTC)
    raw_stats, rolled_stats = FleetStats(), FleetStats()
    raw = availability_fleet(prometheus_url, start, end, scrape_interval=STEP, stats=raw_stats)
    rolled = availability_fleet(
        rollup_prometheus_url, start, end, scrape_interval=STEP, stats=rolled_stats
    )
    assert rolled_stats.source.startswith("report roll-ups")
    assert rolled_stats.per_pop == raw_stats.per_pop == []
    assert rolled_stats.sliced == raw_stats.sliced == []
    assert {p: (e.good, e.total) for p, e in rolled.items()} == {
        p: (e.good, e.total) for p, e in raw.items()
    }
    assert rolled["pop-b"].total == (RESET_B - GAP_B[1]) // STEP


def test_unreachable_prometheus_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port(479)}.*--prometheus") as info:
        prometheus.availability(f"http://127.0.0.1:{port(479)}", T0, END, pop="pop-a")
    assert info.value.exit_code == 2


def test_non_success_answer_is_a_config_error(prometheus_url: str) -> None:
    with pytest.raises(ConfigError, match="refused"):
        PrometheusClient(prometheus_url).vector("sum(", T0.timestamp())
