"""The exact-histogram wire format as a pydantic model: what a worker sends, what a file holds."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hdrh.histogram import HdrHistogram

from edgesla.loadtests.histogram_format import OperationWire, parse_operation, parse_recorder
from edgesla.loadtests.histograms import Recorder


def _encoded() -> dict[str, Any]:
    recorder = Recorder()
    recorder.record("op", 0.0, 0.0, 0.004, ok=True)
    recorder.record("op", 0.0, 0.1, 0.25, ok=True, late=True)
    recorder.record("op", 0.0, 0.0, 0.5, ok=False, cause="timeout")
    encoded: dict[str, Any] = json.loads(json.dumps(recorder.encode()))
    return encoded


def test_an_encoded_operation_is_parsed_as_sent() -> None:
    op = parse_operation(_encoded()["operations"]["op"])
    assert isinstance(op, OperationWire)
    assert (op.successes, op.failures, op.late_starts) == (2, {"timeout": 1}, 1)
    assert op.thresholds_us == (10_000, 200_000)
    assert op.over("response") == [1, 1]  # 250 ms from the intended start
    assert op.over("service") == [1, 0]  # 150 ms once started
    assert op.latency("service").hdr.get_total_count() == 2
    with pytest.raises(Exception, match="frozen"):
        op.successes = 3  # type: ignore[misc]


_OTHER_RANGE = HdrHistogram(1, 60_000_000, 2).encode().decode()


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        # JSON types are kept apart: true and 1.0 are not counts
        (
            lambda op: op.update(late_starts=True),
            "late_starts: expected a count (integer >= 0), got True",
        ),
        (
            lambda op: op.update(failures={"timeout": 1.0}),
            "failures.timeout: expected a count (integer >= 0), got 1.0",
        ),
        (lambda op: op.update(thresholds_us=[10_000, "x"]), "thresholds_us[1]: expected a count"),
        (lambda op: op.update(response_time=5), "response_time: expected an object, got int"),
        (
            lambda op: op["service_time"].update(hdr="x"),
            "service_time.hdr: not a valid encoded HdrHistogram",
        ),
        (
            lambda op: op["service_time"].update(hdr=_OTHER_RANGE),
            "service_time.hdr: HdrHistogram tracks 1..60000000 with 2 digits; expected "
            "1..3600000000 us with 3 digits",
        ),
        (
            lambda op: op.update(thresholds_us=[10_000]),
            "response_time.count_over: expected one count for each of ['10000']",
        ),
    ],
)
def test_a_malformed_operation_names_the_key(mangle: Any, message: str) -> None:
    op = _encoded()["operations"]["op"]
    mangle(op)
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_operation(op)


def test_every_bad_key_is_named_on_one_line() -> None:
    op = _encoded()["operations"]["op"]
    op.update(successes="2", colour="red")
    del op["late_starts"]
    message = (
        "successes: expected a count (integer >= 0), got '2'; "
        "unknown keys ['colour'], missing keys ['late_starts']"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_operation(op)


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ({}, "expected {'operations': {name: encoded operation}}: unknown keys [], missing keys"),
        (
            {"operations": {"Care Lookup": {}}},
            "operations.Care Lookup: operation name 'Care Lookup': use 1-64 characters",
        ),
        ({"operations": {"op": []}}, "operation 'op': expected an object, got list"),
    ],
)
def test_a_malformed_recorder_names_the_operation(encoded: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_recorder(encoded)
