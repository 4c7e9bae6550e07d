"""The run's latency windows (edgesla.loadtests.windows): each request in the window its
intended start falls in, exact recorders that merge across processes."""

from __future__ import annotations

import pytest

from edgesla.loadtests.windows import OUTSIDE, SYNC, SyncWindow, Windows


def test_a_request_lands_in_the_window_of_its_intended_start() -> None:
    windows = Windows(SyncWindow(10.0, 20.0))
    assert [windows.of(t) for t in (0.0, 9.999, 10.0, 19.999, 20.0, 30.0)] == [
        OUTSIDE,
        OUTSIDE,
        SYNC,
        SYNC,
        OUTSIDE,
        OUTSIDE,
    ]


def test_windows_split_the_requests_and_merge_exactly() -> None:
    one, two = Windows(SyncWindow(1.0, 2.0)), Windows(SyncWindow(1.0, 2.0))
    for i, windows in enumerate((one, two)):
        for at in (0.5, 1.5, 1.6, 2.5):
            windows.record(at, "care_lookup", at, at, at + 0.004 * (i + 1), ok=True, cause=None)
    one.merge(two.encode())
    during = one.recorders[SYNC].results()["care_lookup"]
    outside = one.recorders[OUTSIDE].results()["care_lookup"]
    assert (during.successes, outside.successes) == (4, 4)
    assert during.response.summary().max == pytest.approx(0.008, rel=1e-3)


def test_an_unknown_window_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown \\['later'\\]"):
        Windows(SyncWindow(0.0, 1.0)).merge({"later": {"operations": {}}})
