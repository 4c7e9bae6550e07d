"""What a prober is to the exporter: its signature, and the background duties beside it.

    ProbeFn = (target, timeout) -> ProbeResult      (never raises)

A **duty** is background work the exporter runs beside a target's prober, through the same
runner, on its own schedule and within its own budget; its result is not a probe run (it is
logged as transitions, and its samples are published beside the probe's). Two exist: the
PostgreSQL heartbeat writer (what the lag is measured by) and the MongoDB lookup's id sample
(a scan too slow for a probe's deadline on a large collection).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edgesla.probes._result import ProbeResult

__all__ = ["Duty", "ProbeFn"]

ProbeFn = Callable[[Any, float], ProbeResult]


@dataclass(frozen=True)
class Duty:
    """A background duty: ``fn`` run every ``every(target)`` seconds (None: the target's
    probe interval), within ``budget`` seconds (None: the target's timeout, at most
    ``every``)."""

    name: str
    fn: ProbeFn
    every: Callable[[Any], float] | None = None
    budget: float | None = None
