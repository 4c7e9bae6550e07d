"""`edgesla loadtest --sync-at` on the shared stack, as a user runs it: a batch sync on top of
the load, every request in the window of its intended start, and the results showing each
operation's latency during the sync beside outside it; a sync that does not fit the run is
refused before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgesla.loadtests.results import read_results
from edgesla.stack.layout import Layout
from tests.helpers import edgesla

OPERATIONS = "care_lookup,auth_lookup"
CONFIG = Path(__file__).parents[1] / "testdata" / "config" / "valid-minimal.yaml"


def _args(stack: Layout, out: Path, *extra: str) -> tuple[str, ...]:
    return (
        "loadtest",
        "--config",
        str(stack.pop_config),
        "--operations",
        OPERATIONS,
        "--duration",
        "8s",
        "--out",
        str(out),
        *extra,
    )


@pytest.mark.stack
@pytest.mark.slow
def test_a_sync_on_top_of_the_load_is_split_out_in_the_results(
    stack: Layout, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    sync = ("--sync-at", "2s", "--sync-share", "0.01", "--sync-rate", "500")
    # two processes: the sync runs beside the master, each worker splits its own requests
    done = edgesla(*_args(stack, out, *sync, "--rate-scale", "10", "--processes", "2"), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    results = read_results(out)
    assert results.sync is not None
    sync_file = results.sync.sync
    assert sync_file.problems == ()
    assert (sync_file.planned_documents, sync_file.synced_documents) == (1000, 1000)
    assert (sync_file.planned_start_seconds, sync_file.planned_end_seconds) == (2.0, 4.0)
    for name, op in results.operations.items():
        during = results.sync.windows["sync"][name]
        outside = results.sync.windows["outside"][name]
        assert during.requests > 0, name
        assert during.requests + outside.requests == op.requests, name
    assert "sync: 1,000 documents (1% of the subscribers) at 500/s" in done.stdout
    assert "care_lookup              during" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["sync"]["windows"]) == {"sync", "outside"}


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            ("--sync-at", "7s"),
            "--sync-at 7s: the sync of 20,000 documents (0.2 of 100,000 subscribers) at 2000/s "
            "would end 17.0 s into the run, after its end (8 s)",
        ),
        (("--sync-share", "0.5"), "--sync-share / --sync-rate: only with --sync-at"),
        (("--sync-at", "soon"), "--sync-at: invalid duration 'soon'"),
    ],
)
def test_a_sync_that_does_not_fit_is_refused_before_anything_runs(
    tmp_path: Path, extra: tuple[str, ...], words: str
) -> None:
    out = tmp_path / "run"
    args = ("loadtest", "--config", str(CONFIG), "--duration", "8s", "--out", str(out), *extra)
    done = edgesla(*args, in_process=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert not out.exists()
