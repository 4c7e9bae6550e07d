"""The guarded alerts' lower bound (edgesla.rules.confidence): its Python and PromQL spellings
agree, it stays close to the report's exact Clopper-Pearson bound, and it is what keeps a
lone failed probe from paging where the plain Wilson bound would not."""

from __future__ import annotations

import math

import pytest

from edgesla.report.stats import upper_bound
from edgesla.rules.confidence import wilson_lower, wilson_lower_promql, z_score

PAGE_THRESHOLD = 14.4 * 0.00001  # five nines, 1h/5m pair


def _exact(bad: int, total: int, confidence: float) -> float:
    """The error ratio's exact one-sided lower bound: 1 - the good ratio's upper bound."""
    return 1 - upper_bound(total - bad, total, confidence)


def _plain_wilson(bad: int, total: int, confidence: float) -> float:
    z, p = z_score(confidence), bad / total
    centre = p + z * z / (2 * total)
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return (centre - spread) / (1 + z * z / total)


def _eval_promql(bad: int, total: int, confidence: float) -> float:
    """The formula branch of the PromQL text, with numbers for the two vectors."""
    text = wilson_lower_promql("R", "N", confidence)
    formula = " ".join(text.split("and R > 0")[0].strip().removeprefix("(").split())
    value = eval(formula, {"sqrt": math.sqrt, "R": bad / total, "N": float(total)})  # noqa: S307
    assert isinstance(value, float)
    return value


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize(("bad", "total"), [(1, 120), (1, 1440), (2, 1440), (7, 8640), (40, 50)])
def test_promql_and_python_spell_one_formula(bad: int, total: int, confidence: float) -> None:
    assert _eval_promql(bad, total, confidence) == pytest.approx(
        wilson_lower(bad, total, confidence), rel=1e-9
    )


@pytest.mark.parametrize("confidence", [0.9, 0.95])
@pytest.mark.parametrize("total", [30, 120, 1440, 8640, 103_680])
def test_corrected_bound_stays_close_to_the_exact_one(total: int, confidence: float) -> None:
    for bad in range(1, min(total, 50) + 1):
        ratio = wilson_lower(bad, total, confidence) / _exact(bad, total, confidence)
        assert 0.93 <= ratio <= 1.37, (bad, total, ratio)


def test_a_lone_failure_in_an_hour_clears_the_page_threshold_only_without_correction() -> None:
    plain, corrected = _plain_wilson(1, 1440, 0.95), wilson_lower(1, 1440, 0.95)
    assert plain == pytest.approx(0.000155, abs=5e-7)
    assert plain > PAGE_THRESHOLD  # the plain Wilson bound would still page
    assert corrected == pytest.approx(0.0000477, abs=5e-8)
    assert _exact(1, 1440, 0.95) < corrected < PAGE_THRESHOLD
    # the second failure in the hour is evidence of a 14.4x burn
    assert wilson_lower(2, 1440, 0.95) > PAGE_THRESHOLD


def test_no_bad_events_bound_zero_and_no_events_nan() -> None:
    assert wilson_lower(0, 1440, 0.95) == 0
    assert math.isnan(wilson_lower(0, 0, 0.95))


def test_z_is_the_one_sided_normal_quantile() -> None:
    assert z_score(0.95) == 1.644854
    assert z_score(0.99) == 2.326348
