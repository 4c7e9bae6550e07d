"""The files of a load-test results directory as pydantic models (docs/loadtest-results.md).

``MetaFile`` is ``meta.json`` and ``OperationFile`` one ``operations/<op>.json`` (the
exact-histogram wire format of ``histogram_format.OperationWire``, with its ``format`` and
``operation``). Both are strict: an unknown or missing key, a value of the wrong type (a JSON
``true`` is not a count, ``"5"`` is not a number, NaN is not a rate) is refused, and
``problem`` names the key in one line. What needs more than one file (the operations listed in
``meta.json`` against the files, the accounting against the histograms) is ``read_results``'s.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StrictBool, ValidationError, model_validator

from edgesla.loadtests.histogram_format import OperationName, OperationWire, wire_message
from edgesla.locations import describe_errors
from edgesla.strict import Strict

__all__ = [
    "GeneratorFile",
    "HealthFile",
    "MetaFile",
    "OperationFile",
    "SyncFile",
    "problem",
]

_Text = Annotated[str, Field(strict=True)]
_Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
#: an ISO-8601 time with its zone, ``2025-06-02T20:00:00Z`` (the files are read as JSON)
_Time = Annotated[AwareDatetime, Field(strict=True)]
_TIME_ERRORS = ("datetime_type", "datetime_parsing", "datetime_from_date_parsing")


class GeneratorFile(Strict):
    host: _Text = Field(min_length=1)
    processes: Annotated[int, Field(strict=True, ge=1)]


class HealthFile(Strict):
    cpu_saturated: StrictBool
    too_few_users: StrictBool
    max_cpu_percent: _Number | None
    notes: tuple[_Text, ...]


class MetaFile(Strict):
    """``meta.json``: every key is required (``null`` where the format allows it)."""

    format: Literal["edgesla-loadtest/2"]  # summary.FORMAT
    #: None: results built without a ledger (no accounting.json)
    complete: StrictBool | None
    profile: _Text
    pop: _Text | None
    target_rates_per_second: dict[OperationName, _Number]
    duration_seconds: _Number
    started_at: _Time
    ended_at: _Time
    generators: tuple[GeneratorFile, ...]
    command_line: tuple[_Text, ...]
    generator_health: HealthFile
    edgesla_version: _Text
    locust_version: _Text
    #: every operation with a file in operations/, the ones with target rates among them
    operations: tuple[OperationName, ...]

    @model_validator(mode="after")
    def _rated_operations_are_listed(self) -> MetaFile:
        if missing := sorted(set(self.target_rates_per_second) - set(self.operations)):
            raise ValueError(f"operations: lacks {missing}, which have target rates")
        return self


class SyncFile(Strict):
    """``sync.json``: the batch sync run on top of the schedule (``edgesla loadtest
    --sync-at``); times in seconds of the schedule. Its window holds the requests of
    ``windows/sync/``, the rest are in ``windows/outside/``."""

    format: Literal["edgesla-loadtest/2"]
    share: _Number = Field(gt=0, le=1)
    rate_per_second: _Number = Field(gt=0)
    batch: Annotated[int, Field(strict=True, ge=1)]
    planned_documents: Annotated[int, Field(strict=True, ge=1)]
    planned_start_seconds: _Number = Field(ge=0)
    planned_end_seconds: _Number
    #: None: the sync never began (the run ended first)
    started_seconds: _Number | None
    ended_seconds: _Number | None
    synced_documents: Annotated[int, Field(strict=True, ge=0)]
    synced_rows: Annotated[int, Field(strict=True, ge=0)]
    failed_batches: tuple[_Text, ...]
    #: what kept the sync from being the one planned (empty: it was)
    problems: tuple[_Text, ...]

    @model_validator(mode="after")
    def _window_is_ordered(self) -> SyncFile:
        if self.planned_end_seconds <= self.planned_start_seconds:
            raise ValueError("planned_end_seconds: must be after planned_start_seconds")
        return self


class OperationFile(OperationWire):
    """``operations/<op>.json``: one encoded operation, named."""

    format: Literal["edgesla-loadtest/2"]
    operation: OperationName


def _message(err: Any) -> str:
    if err["type"] == "timezone_aware":
        return f"{err['input']!r} has no time zone; expected UTC ('Z')"
    if err["type"] in _TIME_ERRORS:
        return f"expected an ISO-8601 UTC time such as '2025-06-02T20:00:00Z', got {err['input']!r}"
    return wire_message(err)


def problem(exc: ValidationError) -> str:
    """What is wrong with a results file, in one line: ``key.path: what; ...``."""
    return describe_errors(exc, _message)
