"""Arrival schedules of the open workload model: rates, mixes, shares, time-varying rates."""

from __future__ import annotations

import itertools

import pytest

from edgesla.loadtests.openmodel import ArrivalSchedule


def _drain(schedule: ArrivalSchedule) -> list[tuple[float, str]]:
    out = []
    while (arrival := schedule.next()) is not None:
        out.append((arrival.at, arrival.operation))
    return out


def test_users_sharing_a_rate_add_up_to_it() -> None:
    rates = {"care_lookup": 80.0, "billing_write": 20.0}
    arrivals = []
    for seed in range(10):  # 10 users, each 1/10 of the rate
        arrivals += _drain(ArrivalSchedule(lambda t: rates, list(rates), 0.1, 300.0, seed=seed))
    lookups = sum(op == "care_lookup" for _, op in arrivals)
    writes = len(arrivals) - lookups
    # Poisson counts: 24,000 ± 155 and 6,000 ± 77 (1 sigma); 4 sigma bounds
    assert abs(lookups - 24_000) < 620
    assert abs(writes - 6_000) < 310


def test_uniform_arrivals_are_exact() -> None:
    schedule = ArrivalSchedule(lambda t: {"op": 50.0}, ["op"], 0.5, 10.0, kind="uniform", seed=1)
    times = [t for t, _ in _drain(schedule)]
    assert len(times) == 250
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {0.04}


def test_time_varying_rate_by_thinning() -> None:
    def ramp(t: float) -> dict[str, float]:
        return {"op": 100.0 if t >= 50 else 0.0}

    times = [t for t, _ in _drain(ArrivalSchedule(ramp, ["op"], 1.0, 100.0, seed=3))]
    assert all(t >= 50 for t in times)
    assert abs(len(times) - 5_000) < 300


def test_no_rate_means_no_arrivals() -> None:
    assert ArrivalSchedule(lambda t: {"op": 0.0}, ["op"], 1.0, 10.0).next() is None


def test_operations_outside_the_schedule_are_ignored() -> None:
    schedule = ArrivalSchedule(lambda t: {"a": 10.0, "b": 1000.0}, ["a"], 1.0, 50.0, seed=2)
    ops = {op for _, op in _drain(schedule)}
    assert ops == {"a"}


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_share_must_be_a_fraction(share: float) -> None:
    with pytest.raises(ValueError, match="share must be in"):
        ArrivalSchedule(lambda t: {"op": 1.0}, ["op"], share, 10.0)
