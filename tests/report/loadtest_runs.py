"""Hand-made load-test results directories (``edgesla.loadtests.results``), for the report
and the gate: ``good`` fast successes after ``bad`` timeouts, of one operation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.results import GeneratorHealth, GeneratorHost, RunMeta, write_results

__all__ = ["write_run"]


def write_run(
    tmp_path: Path,
    name: str,
    good: int,
    bad: int,
    latency: float = 0.004,
    *,
    saturated: bool = False,
    planned: dict[str, float] | None = None,
    late: int = 0,
    operation: str = "care_lookup",
) -> Path:
    """A complete results directory ``tmp_path/name``; the first ``late`` requests started late."""
    recorder = Recorder()
    for i in range(good + bad):
        t = i * 0.001
        ok = i >= bad
        cause = None if ok else "timeout"
        recorder.record(operation, t, t, t + latency, ok=ok, cause=cause, late=i < late)
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    meta = RunMeta(
        profile="peak",
        target_rates=planned or {operation: 1000.0},
        duration_seconds=600.0,
        started_at=start,
        ended_at=start + timedelta(seconds=600),
        generators=(GeneratorHost("bench", 1),),
        command_line=("hand-made",),
        health=GeneratorHealth(cpu_saturated=saturated, too_few_users=False),
        pop="pop-test",
    )
    return write_results(tmp_path / name, meta, recorder)
