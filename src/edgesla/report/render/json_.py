"""The report as versioned JSON (``format: edgesla-report/1``) for machines and archives.

Keys come in a fixed order (the model's field order, ``format`` first), so the same report
always gives the same bytes. Times are ISO 8601 UTC with a ``Z``; ratios are fractions;
an infinite histogram bound is written ``"+Inf"`` (JSON has no infinity); evidence carries
a ``type`` key (``availability``, ``latency``, ``replication_lag``) and leaves raw time
series out (see ``_SERIES``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from edgesla import wording
from edgesla._errors import ConfigError
from edgesla.atomic import write_atomic
from edgesla.report.model import (
    AvailabilityEvidence,
    LagEvidence,
    LatencyEvidence,
    Report,
)

__all__ = ["FORMAT", "load_json", "render_json", "report_to_dict", "write_json"]

FORMAT: Final = "edgesla-report/1"

_EVIDENCE_TYPES: Final[dict[type, str]] = {
    AvailabilityEvidence: "availability",
    LatencyEvidence: "latency",
    LagEvidence: "replication_lag",
}


#: Raw time series stay out of the JSON (30 days at 15 s is 172,800 points per series);
#: their length is written instead as ``<name>_points``. Histogram buckets are kept.
_SERIES: Final = frozenset({"bad_over_time", "samples"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        return moment.isoformat().replace("+00:00", "Z")
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        if type(value) in _EVIDENCE_TYPES:
            out["type"] = _EVIDENCE_TYPES[type(value)]
        for f in dataclasses.fields(value):
            field_value = getattr(value, f.name)
            if f.name in _SERIES:
                out[f"{f.name}_points"] = len(field_value)
            else:
                out[f.name] = _plain(field_value)
        return out
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def report_to_dict(report: Report) -> dict[str, Any]:
    """Plain JSON-ready data: ``{"format": "edgesla-report/1", "title": ..., ...}``."""
    body = _plain(report)
    assert isinstance(body, dict)
    return {"format": FORMAT, **body, "threshold_convention": wording.THRESHOLD_CONVENTION}


def render_json(report: Report) -> str:
    """The report as JSON text (2-space indent, UTF-8 characters kept, trailing newline)."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load_json(text: str) -> dict[str, Any]:
    """Parse a report written by :func:`render_json`; refuse other formats (ConfigError)."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"not an {FORMAT} document (format: {found!r})")
    return data


def write_json(report: Report, path: Path) -> Path:
    """Write :func:`render_json` to ``path`` and return it."""
    write_atomic(path, render_json(report))
    return path
