"""Shared by the Prometheus evidence builders: times, target keys, maintenance windows
(PromQL spelling: ``edgesla.promql``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final

from edgesla import ConfigError
from edgesla import conventions as conv
from edgesla.report.model import DataIssue

__all__ = [
    "Maintenance",
    "MaintenanceWindow",
    "excluded_issues",
    "target_key",
    "to_datetime",
    "to_seconds",
    "windows",
]

#: (start, end) or (start, end, name): the SLO spec's excluded windows.
MaintenanceWindow = tuple[datetime, datetime] | tuple[datetime, datetime, str]
Maintenance = Iterable[MaintenanceWindow]

_NOT_TARGET: Final = frozenset({"__name__", conv.LABEL_RESULT, "le"})


def to_seconds(moment: datetime) -> float:
    """Unix seconds of a timezone-aware datetime; ConfigError for a naive one."""
    if moment.tzinfo is None:
        raise ConfigError(f"{moment}: the report window needs timezone-aware times (UTC)")
    return moment.timestamp()


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def target_key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The labels naming one probed target (everything but the name, result and le)."""
    return tuple(sorted((k, v) for k, v in labels.items() if k not in _NOT_TARGET))


def windows(maintenance: Maintenance, start: float, end: float) -> list[tuple[float, float, str]]:
    """Maintenance windows clipped to the report window, as (start, end, name) seconds."""
    out = []
    for item in maintenance:
        lo, hi = max(to_seconds(item[0]), start), min(to_seconds(item[1]), end)
        name = item[2] if len(item) == 3 else f"{item[0].isoformat()}..{item[1].isoformat()}"
        if hi > lo:
            out.append((lo, hi, name))
    return out


def excluded_issues(
    clipped: list[tuple[float, float, str]], good: dict[int, int], total: dict[int, int]
) -> list[DataIssue]:
    """One ``excluded`` issue per maintenance window, with the events left out."""
    return [
        DataIssue(
            "excluded",
            f"maintenance {name}: {total.get(i, 0)} events excluded "
            f"({total.get(i, 0) - good.get(i, 0)} failed)",
            to_datetime(lo),
            to_datetime(hi),
        )
        for i, (lo, hi, name) in enumerate(clipped)
    ]
