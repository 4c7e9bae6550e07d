"""Hand-made load-test results directories (``edgesla.loadtests.results``), for the report
and the gate: ``good`` fast successes after ``bad`` timeouts, of one operation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.results import GeneratorHealth, GeneratorHost, RunMeta, write_results

__all__ = ["write_run", "write_synced_run"]


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
    meta = _meta(planned or {operation: 1000.0}, 600.0, saturated=saturated)
    return write_results(tmp_path / name, meta, recorder)


def _meta(rates: dict[str, float], seconds: float, *, saturated: bool = False) -> RunMeta:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    return RunMeta(
        profile="peak",
        target_rates=rates,
        duration_seconds=seconds,
        started_at=start,
        ended_at=start + timedelta(seconds=seconds),
        generators=(GeneratorHost("bench", 1),),
        command_line=("hand-made",),
        health=GeneratorHealth(cpu_saturated=saturated, too_few_users=False),
        pop="pop-test",
    )


def write_synced_run(tmp_path: Path, name: str) -> Path:
    """A run with a sync from 10 to 20 s: care lookups every 0.1 s for 30 s, 50 ms during
    the sync (100 of them) and 5 ms outside it (200)."""
    from edgesla.loadtests.results_format import SyncFile
    from edgesla.loadtests.summary import FORMAT
    from edgesla.loadtests.windows import SyncWindow, Windows

    recorder, windows = Recorder(), Windows(SyncWindow(10.0, 20.0))
    for i in range(300):
        at = i * 0.1
        latency = 0.05 if windows.window.holds(at) else 0.005
        recorder.record("care_lookup", at, at, at + latency, ok=True)
        windows.record(at, "care_lookup", at, at, at + latency, ok=True)
    meta = _meta({"care_lookup": 10.0}, 30.0)
    sync = SyncFile(
        format=FORMAT,
        share=0.01,
        rate_per_second=100.0,
        batch=100,
        planned_documents=1000,
        planned_start_seconds=10.0,
        planned_end_seconds=20.0,
        started_seconds=10.0,
        ended_seconds=20.1,
        synced_documents=1000,
        synced_rows=1000,
        failed_batches=(),
        problems=(),
    )
    return write_results(tmp_path / name, meta, recorder, windows=windows.recorders, sync=sync)
