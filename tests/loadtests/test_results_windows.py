"""A run with a sync in its results directory: ``sync.json`` and ``windows/`` round trip,
split the operations' requests exactly, and a directory where they do not is refused with
the file named (edgesla.loadtests.results)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.loadtests.histograms import Recorder
from edgesla.loadtests.results import (
    GeneratorHealth,
    GeneratorHost,
    RunMeta,
    read_results,
    write_results,
)
from edgesla.loadtests.results_format import SyncFile
from edgesla.loadtests.summary import FORMAT
from edgesla.loadtests.windows import OUTSIDE, SYNC, SyncWindow, Windows

START = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)


def _meta() -> RunMeta:
    return RunMeta(
        profile="peak",
        pop="fra-1",
        target_rates={"care_lookup": 10.0, "auth_lookup": 5.0},
        duration_seconds=30.0,
        started_at=START,
        ended_at=START + timedelta(seconds=30),
        generators=(GeneratorHost("gen-a", 1),),
        command_line=("edgesla", "loadtest", "--sync-at", "10s"),
        health=GeneratorHealth(cpu_saturated=False, too_few_users=False),
    )


def _sync(**changes: object) -> SyncFile:
    values: dict[str, object] = {
        "format": FORMAT,
        "share": 0.2,
        "rate_per_second": 2000.0,
        "batch": 500,
        "planned_documents": 20_000,
        "planned_start_seconds": 10.0,
        "planned_end_seconds": 20.0,
        "started_seconds": 10.0,
        "ended_seconds": 20.4,
        "synced_documents": 20_000,
        "synced_rows": 20_000,
        "failed_batches": (),
        "problems": (),
    }
    return SyncFile.model_validate(values | changes)


def _recorded() -> tuple[Recorder, Windows]:
    """Care lookups every 0.1 s for 30 s: 5 ms outside the sync, 50 ms during it."""
    recorder, windows = Recorder(), Windows(SyncWindow(10.0, 20.0))
    for i in range(300):
        at = i * 0.1
        latency = 0.05 if windows.of(at) == SYNC else 0.005
        for into in (recorder.record, lambda *a, at=at, **k: windows.record(at, *a, **k)):
            into("care_lookup", at, at, at + latency, ok=True, cause=None)
    return recorder, windows


@pytest.fixture
def written(tmp_path: Path) -> Path:
    recorder, windows = _recorded()
    return write_results(
        tmp_path / "run", _meta(), recorder, windows=windows.recorders, sync=_sync()
    )


def test_the_windows_round_trip_and_split_the_requests(written: Path) -> None:
    results = read_results(written)
    assert results.sync is not None
    assert results.sync.sync == _sync()
    during = results.sync.windows[SYNC]["care_lookup"]
    outside = results.sync.windows[OUTSIDE]["care_lookup"]
    assert (during.requests, outside.requests) == (100, 200)
    assert during.response.summary().p50 == pytest.approx(0.05, rel=1e-3)
    assert outside.response.summary().p50 == pytest.approx(0.005, rel=1e-3)
    assert results.sync.windows[SYNC]["auth_lookup"].requests == 0  # every operation named
    summary = json.loads((written / "summary.json").read_text())
    assert summary["sync"]["windows"]["sync"]["care_lookup"]["requests"] == 100
    text = (written / "summary.txt").read_text()
    assert "sync: 20,000 documents (20% of the subscribers) at 2000/s" in text
    assert "ran 10.0–20.4 s" in text
    lines = [line.split() for line in text.splitlines() if line.split()[:1] == ["care_lookup"]]
    assert lines[-1][:3] == ["care_lookup", "during", "100"]


def test_a_sync_that_was_not_the_one_planned_is_in_the_summary(tmp_path: Path) -> None:
    recorder, windows = _recorded()
    sync = _sync(synced_documents=8_000, problems=("the sync fell behind: …",))
    out = write_results(tmp_path / "run", _meta(), recorder, windows=windows.recorders, sync=sync)
    assert (
        "sync: INCONCLUSIVE, not the sync planned:\n  - the sync fell behind"
        in (out / "summary.txt").read_text()
    )


def test_windows_that_do_not_add_up_are_not_written(tmp_path: Path) -> None:
    recorder, windows = _recorded()
    windows.record(5.0, "care_lookup", 5.0, 5.0, 5.1, ok=True, cause=None)  # not in operations/
    with pytest.raises(ValueError, match="the windows disagree with the recorder: care_lookup"):
        write_results(tmp_path / "run", _meta(), recorder, windows=windows.recorders, sync=_sync())
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="windows and sync go together"):
        write_results(tmp_path / "run", _meta(), recorder, windows=windows.recorders)


def test_a_tampered_window_is_refused_naming_it(written: Path) -> None:
    # a valid file, but of no request: the sync window's care lookups are gone
    empty = json.loads((written / "windows" / SYNC / "auth_lookup.json").read_text())
    path = written / "windows" / SYNC / "care_lookup.json"
    path.write_text(json.dumps(empty | {"operation": "care_lookup"}))
    with pytest.raises(ConfigError, match="windows: care_lookup: the windows hold 200 succeeded"):
        read_results(written)


def test_windows_without_sync_json_are_refused(written: Path) -> None:
    (written / "sync.json").unlink()
    with pytest.raises(ConfigError, match=r"windows: present without sync\.json"):
        read_results(written)


def test_a_missing_window_file_is_refused(written: Path) -> None:
    shutil.rmtree(written / "windows" / OUTSIDE)
    with pytest.raises(ConfigError, match=r"outside/auth_lookup\.json"):
        read_results(written)
