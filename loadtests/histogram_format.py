"""The exact-histogram wire format: what ``OperationStats.encode()`` writes and ``merge`` reads.

One encoded operation (docs/loadtest-results.md, "operations/<op>.json")::

    {"successes": 3001, "failures": {"timeout": 1}, "late_starts": 1,
     "thresholds_us": [10000, 200000],
     "response_time": {"hdr": "<HdrHistogram, compressed base64>",
                       "count_over": {"10000": 2990, "200000": 1001}},
     "service_time": {...}}

A Locust worker sends ``{"operations": {name: encoded operation}}`` (``Recorder.encode()``) in
its live and final reports (loadtests/wire.py), and each ``operations/<op>.json`` of a results
directory holds one (beside its ``format`` and ``operation``). ``OperationWire`` is that
format as a pydantic model: unknown or missing keys, a count that is not a whole number >= 0, a
histogram that does not decode (or tracks another range, or holds another number of values
than ``successes``) are refused, and ``problem`` says which key, in one line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped,unused-ignore]
from pydantic import AfterValidator, Field, PlainValidator, ValidationError, model_validator

from edgesla.locations import describe_errors, pydantic_message
from edgesla.strict import Strict

__all__ = [
    "HIGHEST_US",
    "LOWEST_US",
    "SIGNIFICANT_DIGITS",
    "Count",
    "LatencyKind",
    "LatencyWire",
    "OperationName",
    "OperationWire",
    "check_operation_name",
    "decode_hdr",
    "new_hdr",
    "parse_operation",
    "parse_recorder",
    "problem",
    "wire_message",
]

LOWEST_US: Final = 1
HIGHEST_US: Final = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS: Final = 3

LatencyKind = Literal["response", "service"]
_OPERATION_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def check_operation_name(name: str) -> str:
    """Operation names become file names: lower case, [a-z0-9_.-], at most 64 characters."""
    if not isinstance(name, str) or not _OPERATION_NAME.fullmatch(name):
        raise ValueError(
            f"operation name {name!r}: use 1-64 characters of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return name


def new_hdr() -> Any:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def decode_hdr(text: object) -> Any:
    """Decode one histogram of ``OperationStats.encode()``; ValueError when it is anything else."""
    if not isinstance(text, str):
        raise ValueError(f"expected a base64 HdrHistogram string, got {type(text).__name__}")
    try:
        hdr = HdrHistogram.decode(text)
    except Exception as exc:  # hdrh raises binascii, zlib and its own errors
        raise ValueError(f"not a valid encoded HdrHistogram ({exc})") from exc
    config = (hdr.lowest_trackable_value, hdr.highest_trackable_value, hdr.significant_figures)
    if config != (LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS):
        raise ValueError(
            f"HdrHistogram tracks {config[0]}..{config[1]} with {config[2]} digits; "
            f"expected {LOWEST_US}..{HIGHEST_US} us with {SIGNIFICANT_DIGITS} digits"
        )
    return hdr


#: a whole number >= 0 (a JSON true/false or 1.0 is refused)
Count = Annotated[int, Field(strict=True, ge=0)]
OperationName = Annotated[str, Field(strict=True), AfterValidator(check_operation_name)]
#: a decoded HdrHistogram (hdrh is untyped)
_Hdr = Annotated[Any, PlainValidator(decode_hdr)]


class LatencyWire(Strict):
    """One latency kind of an operation: its histogram and its exact counters."""

    hdr: _Hdr
    #: threshold in microseconds (as a string: a JSON key) -> successes over it
    count_over: dict[Annotated[str, Field(strict=True)], Count]


class OperationWire(Strict):
    """One encoded operation (``OperationStats.encode()``)."""

    successes: Count
    failures: dict[Annotated[str, Field(strict=True)], Count]
    late_starts: Count
    thresholds_us: tuple[Count, ...]
    response_time: LatencyWire
    service_time: LatencyWire

    @model_validator(mode="after")
    def _consistent(self) -> OperationWire:
        names = [str(t) for t in self.thresholds_us]
        for key, part in (
            ("response_time", self.response_time),
            ("service_time", self.service_time),
        ):
            held = part.hdr.get_total_count()
            if held != self.successes:
                raise ValueError(
                    f"{key}.hdr: holds {held} values, but successes is {self.successes}"
                )
            if sorted(part.count_over) != sorted(names):
                raise ValueError(f"{key}.count_over: expected one count for each of {names}")
        return self

    def latency(self, kind: LatencyKind) -> LatencyWire:
        return self.response_time if kind == "response" else self.service_time

    def over(self, kind: LatencyKind) -> list[int]:
        """The exact counters of ``kind``, in the order of ``thresholds_us``."""
        count_over = self.latency(kind).count_over
        return [count_over[str(t)] for t in self.thresholds_us]


class _RecorderWire(Strict):
    """``Recorder.encode()``: the operations are parsed one by one, to name the bad one."""

    operations: dict[OperationName, object]


def wire_message(err: Any) -> str:
    """The words for one pydantic error in a machine-written format (see ``problem``)."""
    if err["type"] in ("int_type", "greater_than_equal"):
        least = err.get("ctx", {}).get("ge", 0)
        return f"expected a count (integer >= {least}), got {err['input']!r}"
    if err["type"] == "model_type":  # "Input should be a valid dictionary or instance of ..."
        return f"expected an object, got {type(err['input']).__name__}"
    text = pydantic_message(err)
    value = err.get("input")
    if text == err["msg"] and isinstance(value, str | int | float | None) and len(repr(value)) < 80:
        text += f", got {value!r}"  # pydantic's own words: say what it got (ours already do)
    return text


def problem(exc: ValidationError) -> str:
    """A ValidationError of a wire format in one line: ``key.path: what is wrong; ...``."""
    return describe_errors(exc, wire_message)


def parse_operation(encoded: object) -> OperationWire:
    """Validate one encoded operation; ValueError naming the key when it is malformed."""
    try:
        return OperationWire.model_validate(encoded)
    except ValidationError as exc:
        raise ValueError(problem(exc)) from exc


def parse_recorder(encoded: Mapping[str, Any]) -> dict[str, OperationWire]:
    """Validate a whole ``Recorder.encode()``: operation name -> its parsed encoding.

    ValueError naming the operation and the key when anything in it is malformed.
    """
    try:
        operations = _RecorderWire.model_validate(encoded).operations
    except ValidationError as exc:
        raise ValueError(
            f"expected {{'operations': {{name: encoded operation}}}}: {problem(exc)}"
        ) from exc
    parsed = {}
    for name, op in operations.items():
        try:
            parsed[name] = parse_operation(op)
        except ValueError as exc:
            raise ValueError(f"operation {name!r}: {exc}") from exc
    return parsed
