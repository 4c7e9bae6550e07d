"""`edgesla scenario sync` on the shared stack's real MongoDB-wire server and PostgreSQL
masters, and the windows arithmetic of its summary (edgesla.loadtests.sync_summary)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesla.loadtests.sync import Lookup, SyncRun, Window
from edgesla.loadtests.sync_summary import summarize
from edgesla.stack.layout import Layout
from tests.helpers import edgesla


def _sync(stack: Layout, out: Path, threshold: str) -> tuple[int, dict[str, object], str]:
    result = edgesla(
        "scenario",
        "sync",
        "--config",
        str(stack.pop_config),
        "--share",
        "0.1",
        "--sync-rate",
        "400",
        "--batch",
        "50",
        "--lookup-rate",
        "20",
        "--before",
        "1500ms",
        "--after",
        "1500ms",
        "--threshold",
        threshold,
        "--out",
        str(out),
        timeout=120,
    )
    return result.returncode, json.loads((out / "sync.json").read_text()), result.stderr


@pytest.mark.stack
def test_lookups_before_during_and_after_a_real_sync(stack: Layout, tmp_path: Path) -> None:
    code, done, said = _sync(stack, tmp_path / "lax", "5s")
    assert code == 0, said
    assert done["verdict"] == "PASS"
    assert done["documents"] == {"planned": 200, "synced": 200}
    assert done["master_rows"] == 200
    lookups = done["lookups"]
    assert isinstance(lookups, dict)
    assert lookups["made"] == lookups["planned"]
    assert lookups["not_started"] == 0
    windows = done["windows"]
    assert isinstance(windows, dict)
    assert all(
        windows[w]["lookups"] > 0 and windows[w]["failed"] == 0
        for w in ("before", "during", "after")
    )
    assert "PASS: p99 during the sync" in said
    assert "before " in said

    code, strict, said = _sync(stack, tmp_path / "strict", "0.001ms")
    assert (code, strict["verdict"]) == (1, "FAIL"), said


SYNC = Window(1.0, 2.0)


def _run(*lookups: Lookup) -> SyncRun:
    run = SyncRun(planned_documents=10, synced_documents=10, sync=SYNC, duration=3.0)
    run.lookups = list(lookups)
    return run


def test_each_lookup_lands_in_the_window_of_its_intended_start() -> None:
    run = _run(
        Lookup(0.0, 0.001),
        Lookup(0.999, 0.002),
        Lookup(1.0, 0.5),
        Lookup(1.5, 0.3),
        Lookup(2.0, 0.004),
        Lookup(2.5, 0.003),
    )
    summary = summarize(run, rate=2.0, threshold=0.2)
    assert {w: s.lookups for w, s in summary.windows.items()} == {
        "before": 2,
        "during": 2,
        "after": 2,
    }
    assert summary.windows["during"].p99 == 0.5
    assert summary.verdict == "FAIL"  # 500 ms during the sync, over 200 ms
    assert summary.planned_lookups == 6
    assert summary.not_started == 0


def test_what_is_missing_makes_it_inconclusive_never_a_pass() -> None:
    run = _run(Lookup(0.0, 0.001), Lookup(1.5, None, "NetworkTimeout: timed out"))
    run.synced_documents = 7
    summary = summarize(run, rate=2.0, threshold=0.2)
    assert summary.verdict == "INCONCLUSIVE"
    assert summary.not_started == 4
    said = " | ".join(summary.reasons)
    assert "1 lookups failed (NetworkTimeout: timed out)" in said
    assert "4 planned lookups never started" in said
    assert "7 of 10 documents synced" in said
    assert "no lookup after the sync" in said
