"""`edgesla loadtest --master` and `--worker`: a distributed run on loopback against the local
stack, as the Kubernetes master Job and worker Deployment run it (deploy/kubernetes/)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from edgesla.stack.layout import Layout
from loadtests.results import read_results
from tests.helpers import EDGESLA, edgesla
from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

MASTER_PORT = str(port(743))


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EDGESLA, "loadtest", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_master_and_two_workers_run_one_load_test(stack: Layout, tmp_path: Path) -> None:
    plan = ["--config", str(stack.pop_config), "--duration", "8s", "--rate-scale", "5",
            "--master-port", MASTER_PORT]  # fmt: skip
    out = tmp_path / "run"
    master = _start("--master", "--expect-workers", "2", "--out", str(out),
                    "--metrics-listen", "off", *plan)  # fmt: skip
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
        "loadtest", "--master", "--processes", "2", "--config", str(tmp_path / "pop.yaml"),
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert result.returncode == 2
    assert "--worker --processes N" in result.stderr
    assert not (tmp_path / "run").exists()
