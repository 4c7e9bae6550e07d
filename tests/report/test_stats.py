"""Confidence bounds and error budgets, checked against scipy's own binomial test."""

from __future__ import annotations

import math

import pytest
from scipy.stats import beta, binomtest  # type: ignore[import-untyped]

from edgesla.report import stats

CASES = [(0, 10), (3, 10), (9, 10), (10, 10), (999_950, 1_000_000), (172_800, 172_800)]


@pytest.mark.parametrize(("good", "total"), CASES)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_bounds_match_scipy_binomtest(good: int, total: int, confidence: float) -> None:
    """A one-sided exact interval from binomtest is the Clopper-Pearson bound itself."""
    greater = binomtest(good, total, alternative="greater").proportion_ci(confidence, "exact")
    less = binomtest(good, total, alternative="less").proportion_ci(confidence, "exact")
    assert stats.lower_bound(good, total, confidence) == pytest.approx(greater.low, rel=1e-9)
    assert stats.upper_bound(good, total, confidence) == pytest.approx(less.high, rel=1e-9)


@pytest.mark.parametrize(("good", "total"), [*CASES, (1, 2), (4_999_990, 5_000_000)])
@pytest.mark.parametrize("confidence", [0.5, 0.95, 0.999])
def test_bounds_are_exactly_the_beta_quantiles_of_scipy_stats(
    good: int, total: int, confidence: float
) -> None:
    """stats uses scipy.special.betaincinv (scipy.stats takes half a second to import): the
    same numbers as scipy.stats.beta.ppf, to the last bit."""
    if 0 < good < total:
        lower = float(beta.ppf(1 - confidence, good, total - good + 1))
        upper = float(beta.ppf(confidence, good + 1, total - good))
        assert (
            stats.lower_bound(good, total, confidence),
            stats.upper_bound(good, total, confidence),
        ) == (lower, upper)


def test_known_values() -> None:
    # zero failures: (1 - c) ** (1 / n); the "rule of three": upper bound of p(fail) ~ 3 / n
    assert stats.lower_bound(10, 10, 0.95) == pytest.approx(0.05 ** (1 / 10))
    assert 1 - stats.lower_bound(1000, 1000, 0.95) == pytest.approx(3 / 1000, rel=0.01)
    assert stats.lower_bound(0, 10, 0.95) == 0.0
    assert stats.upper_bound(10, 10, 0.95) == 1.0
    assert stats.upper_bound(0, 10, 0.95) == pytest.approx(1 - 0.05 ** (1 / 10))
    assert (stats.lower_bound(0, 0, 0.95), stats.upper_bound(0, 0, 0.95)) == (0.0, 1.0)


def test_five_nines_needs_299572_good_events_at_95_percent() -> None:
    assert math.log(0.05) / math.log(0.99999) == pytest.approx(299_571.73, abs=0.01)
    assert stats.events_needed_zero_failures(0.99999, 0.95) == 299_572
    assert stats.lower_bound(299_572, 299_572, 0.95) >= 0.99999
    assert stats.lower_bound(299_571, 299_571, 0.95) < 0.99999
    assert stats.events_needed(0.99999, 0.95, 0, 0) == 299_572
    # 30 days at one probe per 15 s cannot prove five nines
    assert stats.events_needed(0.99999, 0.95, 172_800, 172_800) == 299_572 - 172_800
    assert stats.events_needed_zero_failures(0.9999, 0.95) == 29_956
    assert stats.events_needed_zero_failures(0.999999, 0.95) == 2_995_731


@pytest.mark.parametrize(("good", "total"), [(999_999, 1_000_000), (999_950, 1_000_000), (90, 100)])
def test_events_needed_is_the_smallest_that_proves(good: int, total: int) -> None:
    m = stats.events_needed(0.99999, 0.95, good, total)
    if m:
        assert stats.lower_bound(good + m - 1, total + m - 1, 0.95) < 0.99999
    assert stats.lower_bound(good + m, total + m, 0.95) >= 0.99999


def test_bounds_are_monotonic() -> None:
    lows = [stats.lower_bound(n, n, 0.95) for n in (10, 100, 1_000, 10_000)]
    assert lows == sorted(lows)
    # more failures, lower bounds; more confidence, wider interval
    assert stats.lower_bound(99, 100, 0.95) > stats.lower_bound(98, 100, 0.95)
    assert stats.lower_bound(98, 100, 0.99) < stats.lower_bound(98, 100, 0.95)
    assert stats.upper_bound(98, 100, 0.99) > stats.upper_bound(98, 100, 0.95)
    for good in range(0, 101, 10):
        assert (
            stats.lower_bound(good, 100, 0.95) <= good / 100 <= stats.upper_bound(good, 100, 0.95)
        )


def test_budget() -> None:
    spent = stats.budget(0.99999, 1_000_000, 50)
    assert (spent.allowed, spent.consumed) == (10.0, 5.0)
    assert spent.remaining == -4.0
    assert stats.budget(0.99999, 1_000_000, 0).consumed == 0.0
    assert stats.budget(0.99999, 0, 0) == stats.Budget(allowed=0.0, consumed=None)


def test_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="good <= total"):
        stats.lower_bound(11, 10, 0.95)
    with pytest.raises(ValueError, match="fraction"):
        stats.events_needed(1.0, 0.95, 0, 0)
