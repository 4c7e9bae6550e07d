"""edgesla.wording: thresholds keep every digit; measured values show three."""

from __future__ import annotations

import math

from edgesla import wording


def test_a_threshold_keeps_every_digit() -> None:
    assert wording.seconds(0.01) == "10 ms"
    assert wording.seconds(1.5) == "1.5 s"
    assert wording.within(0.2) == "≤ 200 ms"


def test_a_measured_value_shows_three_significant_digits() -> None:
    assert wording.measured_seconds(2.3989237) == "2.4 s"
    assert wording.measured_seconds(3.19945) == "3.2 s"
    assert wording.measured_seconds(0.0809312) == "80.9 ms"
    assert wording.measured_seconds(math.inf) == "+Inf"
