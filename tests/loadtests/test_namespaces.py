"""Master and worker in separate network namespaces, joined by one veth pair that the test
makes and removes: a distributed run across them, and a cut of that link mid-run.

The worker stays in the root namespace, where the local stack listens on 127.0.0.1 (the
system under test); the master runs in a namespace of its own and reaches nothing but the
worker, over the veth pair, as a master on another host would. ``ip netns`` needs root:
skipped otherwise (the product itself never needs root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.loadtests.results import read_results
from edgesla.stack.layout import Layout
from tests.helpers import EDGESLA, eventually
from tests.loadtests.checks import (
    locust_child,
    people_output,
    reconciled,
    requests_served,
    stop,
)
from tests.ports import port

pytestmark = [
    pytest.mark.stack,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("ip") is None,
        reason="needs root and iproute2: the test makes a network namespace and a veth pair",
    ),
]


@dataclass(frozen=True)
class Link:
    """A network namespace for the master, and the veth pair into it."""

    namespace: str
    host_side: str  # in the root namespace, with the worker
    master_ip: str
    worker_ip: str

    def inside(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=30)


@pytest.fixture
def link() -> Iterator[Link]:
    tag = os.getpid() % 100_000
    octet = 1 + os.getpid() % 250
    made = Link(f"edgesla-lt-{tag}", f"eslt{tag}w", f"10.231.{octet}.1", f"10.231.{octet}.2")
    inner = f"eslt{tag}m"
    try:
        _ip("netns", "add", made.namespace)
        _ip("link", "add", made.host_side, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", made.namespace)
        _ip("addr", "add", f"{made.worker_ip}/30", "dev", made.host_side)
        _ip("link", "set", made.host_side, "up")
        for args in (
            ("addr", "add", f"{made.master_ip}/30", "dev", inner),
            ("link", "set", inner, "up"),
            ("link", "set", "lo", "up"),
        ):
            _ip("-n", made.namespace, *args)
        yield made
    finally:
        pids = subprocess.run(
            ["ip", "netns", "pids", made.namespace], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in pids:
            subprocess.run(["kill", "-9", pid], check=False)
        subprocess.run(["ip", "netns", "del", made.namespace], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", made.host_side], check=False, capture_output=True)


def _plan(stack: Layout, master_port: int) -> list[str]:
    return [
        "--config",
        str(stack.pop_config),
        "--duration",
        "10s",
        "--rate-scale",
        "5",
        "--master-port",
        str(master_port),
    ]


def _master(link: Link, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        link.inside(EDGESLA, "loadtest", "--master", "--expect-workers", "1", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _worker(link: Link, plan: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [EDGESLA, "loadtest", "--worker", "--master-host", link.master_ip, *plan],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_the_master_namespace_is_apart(stack: Layout, link: Link) -> None:
    """The set-up the two tests below rely on: from the master's namespace the stack is out
    of reach and the worker's side of the link is not."""
    connect = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)"
    to_stack = subprocess.run(
        link.inside(sys.executable, "-c", connect, "127.0.0.1", str(stack.mongo_port)),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert to_stack.returncode != 0
    assert "ConnectionRefusedError" in to_stack.stderr
    with socket.socket() as listener:  # the worker's side, in the root namespace
        listener.bind((link.worker_ip, port(895)))
        listener.listen()
        to_worker = subprocess.run(
            link.inside(sys.executable, "-c", connect, link.worker_ip, str(port(895))),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert to_worker.returncode == 0, to_worker.stderr


def test_a_distributed_run_across_namespaces_reconciles(
    stack: Layout, link: Link, tmp_path: Path
) -> None:
    plan = _plan(stack, port(890))
    out = tmp_path / "run"
    master = _master(link, "--out", str(out), "--metrics-listen", "off", *plan)
    worker = _worker(link, plan)
    try:
        stdout, stderr = master.communicate(timeout=180)
        w_out, w_err = worker.communicate(timeout=60)
    finally:
        stop(worker)
    assert master.returncode == 0, stdout + stderr
    assert worker.returncode == 0, w_out + w_err
    results = read_results(out)
    reconciled(results)
    assert sum(op.requests for op in results.operations.values()) > 0
    people_output(stderr)


def test_a_network_cut_between_worker_and_master_is_exit_3_naming_the_worker(
    stack: Layout, link: Link, tmp_path: Path
) -> None:
    """The link goes down mid-run: the worker keeps loading the stack, but its final report
    cannot reach the master, which names it and refuses to pass the run."""
    plan = _plan(stack, port(891))
    out = tmp_path / "run"
    metrics = f"{link.master_ip}:{port(892)}"  # reachable from here while the link is up
    master = _master(link, "--out", str(out), "--metrics-listen", metrics, *plan)
    worker = _worker(link, plan)
    try:
        victim = locust_child(worker)
        eventually(lambda: requests_served(metrics) > 0, timeout=120, interval=0.5)
        time.sleep(4)  # a live report with the worker's shares has arrived
        _ip("link", "set", link.host_side, "down")
        stdout, stderr = master.communicate(timeout=180)
    finally:
        stop(worker)
    assert master.returncode == 3, stdout + stderr
    assert "INCOMPLETE (exit 3)" in stderr
    named = [line for line in stderr.splitlines() if f"pid {victim.pid}," in line]
    assert any("sent no final report" in line for line in named), stderr
    with pytest.raises(ConfigError, match="the load test is INCOMPLETE"):
        read_results(out)
    accounting = read_results(out, allow_incomplete=True).accounting
    assert accounting is not None
    assert [(w.pid, w.final_report) for w in accounting.workers] == [(victim.pid, False)]
    assert sum(op.unaccounted for op in accounting.operations.values()) > 0
