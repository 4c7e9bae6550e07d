"""The evidence engine on a backfilled month (``tests/month_data.py``) in a real Prometheus:
the fleet path (from raw samples, and from the report roll-ups) gives exactly the per-PoP
path's evidence for every kind; latency buckets are the judged series' exact counts; a probe at
exactly the threshold counts as within; gaps and resets are found for every kind."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from edgesla import conventions as conv
from edgesla.report.inputs import PrometheusClient
from edgesla.report.inputs.engine import Engine, Strategy
from edgesla.report.inputs.rollups import cover
from edgesla.slo.period import Period
from edgesla.slo.spec import AvailabilityObjective, LagObjective, LatencyObjective
from tests import month_data

pytestmark = [pytest.mark.stack, pytest.mark.slow]

NOVEMBER = Period(month_data.M0, month_data.M1, "month", "November 2025 (UTC)")
POPS = ("pop-a", "pop-b", "pop-late", "pop-extra")
MAINTENANCE = (
    (month_data.M0.replace(day=12), month_data.M0.replace(day=12, hour=3), "kernel upgrade"),
)
OBJECTIVES: dict[str, Any] = {
    "availability": AvailabilityObjective(name="availability", sli="probe_success"),
    "pg-availability": AvailabilityObjective(
        name="pg-availability", sli="probe_success", targets=("pg",)
    ),
    "mongo-p99": LatencyObjective(
        name="mongo-p99", sli="latency", source="probes", targets=("mongo",), threshold=0.01
    ),
    "lookup-p99": LatencyObjective(
        name="lookup-p99", sli="latency", source="probes", threshold=0.2
    ),
    "lag": LagObjective(name="lag", sli="replication_lag", threshold=1.0),
}


def _answer(
    url: str, strategy: Strategy, name: str, maintenance: Any = (), *, rollups: bool = True
) -> tuple[str, dict[str, Any]]:
    engine = Engine(PrometheusClient(url), NOVEMBER, maintenance, strategy, rollups=rollups)
    answer = engine.answer(dict.fromkeys(POPS, OBJECTIVES[name]))
    by_pop = {
        pop: dataclasses.replace(ev, queries=(), source="") for pop, ev in answer.by_pop.items()
    }
    return answer.source, by_pop


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
@pytest.mark.parametrize("maintenance", [(), MAINTENANCE], ids=["plain", "maintenance"])
def test_fleet_equals_per_pop_on_every_count(
    month_prometheus: str, name: str, maintenance: Any
) -> None:
    _, reference = _answer(month_prometheus, "per-pop", name, maintenance)
    for rollups in (True, False):
        source, fleet = _answer(month_prometheus, "fleet", name, maintenance, rollups=rollups)
        # the PoP-level roll-ups serve latency with a targets filter too (no downtime needed)
        objective = OBJECTIVES[name]
        any_targets = isinstance(objective, LatencyObjective) or not getattr(
            objective, "targets", ()
        )
        assert source.startswith("report roll-ups") == (rollups and any_targets), source
        assert fleet.keys() == reference.keys()
        for pop, ev in reference.items():
            other = fleet[pop]
            if hasattr(ev, "bad_over_time") and ev.bad_over_time:
                # the chart: the same judged failures, sampled at its own times
                assert other.bad_over_time[-1][1] == ev.bad_over_time[-1][1], pop
                other = dataclasses.replace(other, bad_over_time=ev.bad_over_time)
            if getattr(ev, "outages", None) is not None and source == "raw samples":
                assert other.outages >= ev.outages, pop  # the raw scan's upper bound
                other = dataclasses.replace(other, outages=ev.outages)
            if name == "lag" and rollups and ev.samples:
                # the chart's bins follow the roll-ups' 5-minute slices: the same worst lag
                assert max(v for _, v in other.samples) == max(v for _, v in ev.samples), pop
                other = dataclasses.replace(other, samples=ev.samples)
            assert other == ev, (source, pop)


def test_counts_are_the_months_exact_counts(month_prometheus: str) -> None:
    _, expected = month_data.openmetrics()
    _, got = _answer(month_prometheus, "fleet", "availability")
    for pop in POPS:
        counts = [c for (p, _), c in expected.items() if p == pop]
        assert got[pop].good == sum(c.success for c in counts), pop
        assert got[pop].total == sum(c.success + c.failure for c in counts), pop


def test_latency_buckets_are_the_judged_targets_exact_monotonic_counts(
    month_prometheus: str,
) -> None:
    _, expected = month_data.openmetrics()
    mongo = _answer(month_prometheus, "fleet", "mongo-p99")[1]["pop-a"]
    exact = expected[("pop-a", "mongo")].buckets
    assert mongo.buckets == tuple(sorted((float(le), n) for le, n in exact.items()))
    counts = [n for _, n in mongo.buckets]
    assert counts == sorted(counts)  # monotonic by construction
    assert mongo.buckets[-1] == (float("inf"), mongo.total)
    # every 1000th mongo probe took exactly 200 ms: over 10 ms, but within a 200 ms threshold
    assert mongo.over == exact["+Inf"] - exact["0.01"]
    whole = _answer(month_prometheus, "fleet", "lookup-p99")[1]["pop-a"]
    both = [expected[("pop-a", t)].buckets for t in ("pg", "mongo")]
    assert whole.over == sum(b["+Inf"] - b["0.2"] for b in both)  # the 200 ms ones count within
    assert whole.total == sum(b["+Inf"] for b in both)


def test_gaps_and_resets_are_found_for_every_kind(month_prometheus: str) -> None:
    for name in ("availability", "lookup-p99"):
        _, ev = _answer(month_prometheus, "fleet", name)
        b = {i.kind for i in ev["pop-b"].issues}
        assert {"counter_reset", "unobserved"} <= b, (name, ev["pop-b"].issues)
        (hole,) = [i for i in ev["pop-b"].issues if i.kind == "unobserved"]
        assert hole.seconds == 2 * 3600 + month_data.STEP  # no sample from 23:59 to 02:00
        late = ev["pop-late"]
        (start,) = [i for i in late.issues if i.kind == "unobserved"]
        assert start.start == month_data.M0
        assert late.unobserved_seconds == 9 * 86400
    _, lag = _answer(month_prometheus, "fleet", "lag")
    good, steps = lag["pop-a"].counted
    assert steps == 30 * 86400 // 15
    assert steps - good == 20 * 60 // 15 - 4  # the stall's first minute is still under 1 s
    assert lag["pop-b"].issues[0].kind == "missing_series"


def _counts(ev: Any) -> tuple[Any, ...]:
    """What a verdict is judged on (the charts are sampled at the path's own times)."""
    names = ("good", "total", "counted", "downtime_seconds", "unobserved_seconds", "issues")
    return tuple(getattr(ev, name, None) for name in names)


def test_fleet_equals_per_pop_whatever_the_roll_ups_phase(month_prometheus: str) -> None:
    """A Prometheus evaluates a rule group at a phase of its own (a hash of the group's name
    and file, to the millisecond): the raw slice left before the first roll-up may be a few
    seconds long and hold one grid step. Days cut at each 15-s offset meet every head length
    the phase allows, one of them under a step; each is counted as the per-PoP path counts
    it (a CI run once lost that step: 172,799 of 172,800)."""
    latest = PrometheusClient(month_prometheus).vector(
        f"max(timestamp({conv.ROLLUP_MIN_SAMPLES}))", month_data.M1.timestamp()
    )
    phase = latest[0][1] % conv.ROLLUP_INTERVAL_SECONDS
    heads = []
    for j in range(conv.ROLLUP_INTERVAL_SECONDS // 15):
        start = month_data.M0.replace(day=15) + timedelta(seconds=15 * j)
        day = Period(start, start + timedelta(days=1, seconds=7 * j), "range", "a day")
        first = start.timestamp()
        found = cover(PrometheusClient(month_prometheus), first, first + 86400, [])
        assert found is not None
        heads.append(found.first - found.step - first)
        for name in ("lag", "availability"):
            fleet = Engine(PrometheusClient(month_prometheus), day, (), "fleet")
            per_pop = Engine(PrometheusClient(month_prometheus), day, (), "per-pop")
            objectives = dict.fromkeys(POPS, OBJECTIVES[name])
            got, want = fleet.answer(objectives).by_pop, per_pop.answer(objectives).by_pop
            for pop in POPS:
                assert _counts(got[pop]) == _counts(want[pop]), (name, j, pop)
    assert phase % 15 == 0 or any(0 < h < 15 for h in heads), (phase, heads)
