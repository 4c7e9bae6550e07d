"""`edgesla loadtest --master` and `--worker`: a distributed run on loopback against the local
stack, as the Kubernetes master Job and worker Deployment run it (deploy/kubernetes/)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.loadtests.results import read_results
from edgesla.stack.layout import Layout
from tests.helpers import EDGESLA, edgesla, eventually
from tests.loadtests.checks import (
    locust_child,
    people_output,
    reconciled,
    requests_served,
    stop,
)
from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

MASTER_PORT = str(port(743))
KILL_MASTER_PORT = str(port(893))
KILL_METRICS = f"127.0.0.1:{port(894)}"


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EDGESLA, "loadtest", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_master_and_two_workers_run_one_load_test(stack: Layout, tmp_path: Path) -> None:
    plan = ["--config", str(stack.pop_config), "--duration", "8s", "--rate-scale", "5",
            "--master-port", MASTER_PORT]  # fmt: skip
    out = tmp_path / "run"
    master = _start(
        "--master", "--expect-workers", "2", "--out", str(out), "--metrics-listen", "off", *plan
    )
    workers = [_start("--worker", *plan) for _ in range(2)]
    stdout, stderr = master.communicate(timeout=180)
    assert master.returncode == 0, stdout + stderr
    assert f"2 worker(s) expected on port {MASTER_PORT}" in stderr
    for worker in workers:
        w_out, w_err = worker.communicate(timeout=60)
        assert worker.returncode == 0, w_out + w_err
    results = read_results(out)
    # both workers reported in (one host here: two worker processes on it)
    assert sum(g.processes for g in results.meta.generators) == 2
    assert sum(op.requests for op in results.operations.values()) > 0
    assert f"results: {out}" in stdout
    reconciled(results)
    people_output(stderr)


def test_a_worker_started_without_the_plan_runs_the_masters(stack: Layout, tmp_path: Path) -> None:
    """A worker given its PoP config alone runs the master's plan (Locust hands it the
    master's options), the sync's window included, and says which of its own it replaced."""
    config = ["--config", str(stack.pop_config), "--master-port", MASTER_PORT]
    plan = ["--duration", "8s", "--operations", "care_lookup,selfcare_http", "--rate-scale", "5",
            "--sync-at", "2s", "--sync-share", "0.001", "--sync-rate", "100"]  # fmt: skip
    out = tmp_path / "run"
    master = _start(
        "--master", "--expect-workers", "2", "--out", str(out), "--metrics-listen", "off",
        *config, *plan,
    )  # fmt: skip
    workers = [_start("--worker", *config, *plan), _start("--worker", *config)]
    stdout, stderr = master.communicate(timeout=180)
    assert master.returncode == 0, stdout + stderr
    errs = []
    for worker in workers:
        w_out, w_err = worker.communicate(timeout=60)
        assert worker.returncode == 0, w_out + w_err
        errs.append(w_err)
    assert "runs the master's plan" not in errs[0]
    assert (
        "this worker runs the master's plan, not its own options: --duration 5m → 8s, "
        "--operations care_lookup,session_start,session_stop,device_change,billing_write,"
        "selfcare_http,auth_lookup,acct_interim → care_lookup,selfcare_http, "
        "--rate-scale 1.0 → 5.0, --sync-at none → 2s, --sync-share 0.2 → 0.001, "
        "--sync-rate 2000.0 → 100.0"
    ) in errs[1]
    results = read_results(out)
    reconciled(results)
    assert set(results.operations) == {"care_lookup", "selfcare_http"}
    assert results.sync is not None
    assert results.sync.sync.problems == ()
    assert results.sync.sync.synced_documents == 100
    assert "sync: 100 documents (0.1% of the subscribers) at 100/s" in stdout
    for name, op in results.operations.items():
        windows = results.sync.windows
        assert windows["sync"][name].requests + windows["outside"][name].requests == op.requests


def test_a_worker_killed_mid_run_makes_the_run_incomplete_naming_it(
    stack: Layout, tmp_path: Path
) -> None:
    """SIGKILL on one worker's Locust process while the run is under way: its final report
    never comes, and the master says so (exit 3, never a pass) instead of writing a
    result without its requests."""
    plan = ["--config", str(stack.pop_config), "--duration", "12s", "--rate-scale", "5",
            "--master-port", KILL_MASTER_PORT]  # fmt: skip
    out = tmp_path / "run"
    master = _start(
        "--master",
        "--expect-workers",
        "2",
        "--out",
        str(out),
        "--metrics-listen",
        KILL_METRICS,
        *plan,
    )
    workers = [_start("--worker", *plan) for _ in range(2)]
    try:
        victim = locust_child(workers[1])
        # the run is under way, and the workers' live reports (every 3 s) reach the master
        eventually(lambda: requests_served(KILL_METRICS) > 0, timeout=120, interval=0.5)
        time.sleep(4)
        victim.kill()
        # bounded: the schedule's rest, the drain, then the wait for final reports
        stdout, stderr = master.communicate(timeout=180)
    finally:
        for worker in workers:
            stop(worker)
    assert master.returncode == 3, stdout + stderr
    assert "INCOMPLETE (exit 3): not every planned request is accounted for:" in stderr
    named = [line for line in stderr.splitlines() if f"pid {victim.pid}," in line]
    assert any("sent no final report" in line for line in named), stderr
    assert "INCOMPLETE: these results cannot back a verdict" in stdout  # the summary
    assert "Traceback" not in stderr
    with pytest.raises(ConfigError, match="the load test is INCOMPLETE"):
        read_results(out)
    results = read_results(out, allow_incomplete=True)
    accounting = results.accounting
    assert accounting is not None
    assert not accounting.complete
    missing = [w for w in accounting.workers if not w.final_report]
    assert [w.pid for w in missing] == [victim.pid]
    assert [w.final_report for w in accounting.workers].count(True) == 1
    # what the victim had not reported yet is unaccounted for, not silently gone
    assert sum(op.unaccounted for op in accounting.operations.values()) > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "x"], "--out: not with --worker"),
        (["--slo", "loadtests/slo-default.yaml"], "--slo: not with --worker"),
        (["--metrics-listen", f"127.0.0.1:{port(744)}"], "--metrics-listen: not with --worker"),
    ],
)
def test_a_worker_refuses_the_masters_options(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    config = tmp_path / "pop.yaml"  # never read: the options are checked first
    result = edgesla("loadtest", "--worker", "--config", str(config), *extra)
    assert result.returncode == 2
    assert message in result.stderr
    assert "give" in result.stderr


def test_a_master_runs_no_users_of_its_own(tmp_path: Path) -> None:
    result = edgesla(
        "loadtest",
        "--master",
        "--processes",
        "2",
        "--config",
        str(tmp_path / "pop.yaml"),
        "--out",
        str(tmp_path / "run"),
    )
    assert result.returncode == 2
    assert "--worker --processes N" in result.stderr
    assert not (tmp_path / "run").exists()
