"""The run's latency windows: every request also counted in the window its intended start
falls in, ``sync`` (the planned window of a batch sync on top of the schedule) or ``outside``.

    windows = Windows(SyncWindow(30.0, 40.0))
    windows.record(at, op, intended, actual, end, ok=..., cause=..., late=...)

Each window has its own exact recorder (``histograms.Recorder``), so the results show the
latency during the sync beside the latency outside it, from the same requests the run is
judged on: per operation, the two windows' requests add up to the operation's. The window is
the sync's *planned* one, known to every process before the run (``sync_phase.plan_window``);
a sync that ran past it is named in ``sync.json`` (``sync_phase``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from edgesla.loadtests.histograms import DEFAULT_THRESHOLDS_SECONDS, Recorder

__all__ = ["OUTSIDE", "SYNC", "WINDOW_NAMES", "SyncWindow", "Windows", "check_encoded"]

SYNC: Final = "sync"
OUTSIDE: Final = "outside"
WINDOW_NAMES: Final = (SYNC, OUTSIDE)


@dataclass(frozen=True)
class SyncWindow:
    """``[start, end)`` in seconds of the schedule."""

    start: float
    end: float

    def holds(self, at: float) -> bool:
        return self.start <= at < self.end


class Windows:
    """One recorder per window (thread-safe as the recorders are)."""

    def __init__(self, window: SyncWindow, thresholds: Any = DEFAULT_THRESHOLDS_SECONDS) -> None:
        self.window = window
        self.recorders: Final = {name: Recorder(thresholds) for name in WINDOW_NAMES}

    def of(self, at: float) -> str:
        """The window of an intended start ``at`` (seconds of the schedule)."""
        return SYNC if self.window.holds(at) else OUTSIDE

    def record(self, at: float, op: str, *args: Any, **kwargs: Any) -> None:
        """``Recorder.record(op, ...)`` into the window of ``at``."""
        self.recorders[self.of(at)].record(op, *args, **kwargs)

    def encode(self) -> dict[str, dict[str, Any]]:
        return {name: recorder.encode() for name, recorder in self.recorders.items()}

    def merge(self, encoded: Mapping[str, Mapping[str, Any]]) -> None:
        """Add another process's ``encode()``; ValueError for an unknown window."""
        _known(encoded)
        for name, part in encoded.items():
            self.recorders[name].merge(part)


def check_encoded(encoded: Mapping[str, Mapping[str, Any]]) -> None:
    """ValueError unless ``encoded`` is what ``Windows.encode()`` makes (known windows, each
    a valid recorder): a worker's final report is checked before it is kept."""
    _known(encoded)
    for part in encoded.values():
        Recorder().merge(part)


def _known(encoded: Mapping[str, object]) -> None:
    if unknown := sorted(set(encoded) - set(WINDOW_NAMES)):
        raise ValueError(f"windows: unknown {unknown}; known: {list(WINDOW_NAMES)}")
