"""Load-test preflight: a driver's message is shown whole-worded, never cut mid-word."""

from __future__ import annotations

from edgesla.loadtests.preflight import said


def test_a_long_driver_message_is_cut_between_words() -> None:
    message = "connection failed: " + " ".join(f"word{i:03d}" for i in range(60))
    shown = said(RuntimeError(message + "\nsecond line"))
    assert len(shown) <= 200
    assert shown.endswith(" …")
    assert all(part.startswith(("connection", "failed:", "word", "…")) for part in shown.split())
    assert all(len(part) == 7 or not part.startswith("word") for part in shown.split())


def test_a_short_message_is_kept_and_an_empty_one_named() -> None:
    assert said(OSError("Connection refused")) == "Connection refused"
    assert said(TimeoutError()) == "TimeoutError"
