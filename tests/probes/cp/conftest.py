"""Fixtures of the control-plane and MongoDB prober tests.

* ``own_stack``: a second, private local PoP stack (ports base + 340..350) for the tests that stop
  etcd members; the shared ``stack`` of ``tests/conftest.py`` is never disturbed.
* ``standalone_mongo``: a MongoDB-wire server started with ``--standalone`` (no replica set).
* ``pki`` / ``apiserver``: the stand-in kube-apiserver of ``kube_fake`` (no real one can run
  on these machines).
* every test ends with the MongoDB probers' pooled clients closed.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgesla.probes import mongodb_query
from edgesla.stack.layout import Layout
from tests.helpers import started_stack
from tests.ports import port
from tests.probes.cp.kube_fake import FakeApiserver, Pki, make_pki

OWN_BASE_PORT = port(340)
STANDALONE_MONGO_PORT = port(355)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(autouse=True)
def _close_mongo_clients() -> Iterator[None]:
    yield
    mongodb_query.close_all()


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Layout]:
    with started_stack("cp-own", OWN_BASE_PORT, 10) as layout:
        yield layout


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def start_mongo_server(port: int) -> subprocess.Popen[bytes]:
    """A standalone MongoDB-wire server (no replica set, in memory) on ``port``, answering."""
    server = Path(sys.executable).parent / "secantusd-py"
    proc = subprocess.Popen(
        [str(server), "--host", "127.0.0.1", "--port", str(port),
         "--storage-path", ":memory:", "--standalone"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_port(port, 15)
    return proc


@pytest.fixture(scope="module")
def standalone_mongo() -> Iterator[str]:
    """The URI of a MongoDB-wire server that is not a replica-set member."""
    proc = start_mongo_server(STANDALONE_MONGO_PORT)
    try:
        yield f"mongodb://127.0.0.1:{STANDALONE_MONGO_PORT}/"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("kube-pki"))


@pytest.fixture
def apiserver(pki: Pki) -> Iterator[FakeApiserver]:
    fake = FakeApiserver()
    fake.start(pki)
    try:
        yield fake
    finally:
        fake.stop()
