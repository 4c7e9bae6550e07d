"""Every prober ends by its timeout against servers that accept and then stay silent, or
trickle their answer: no stack needed, the servers are started here on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from edgesla.config import (
    EtcdTarget,
    KubeApiserverTarget,
    MongoQueryTarget,
    MongoReplicationTarget,
    PostgresQueryTarget,
)
from edgesla.probes import mongodb_query
from edgesla.probes._result import Reason
from edgesla.probes.registry import PROBERS
from tests.chaos.faults import Blackhole

TIMEOUT = 0.5
SLACK = 0.6  # the watchdog's margin, a loaded machine


@pytest.fixture
def hole() -> Iterator[Blackhole]:
    with Blackhole() as server:
        yield server
    mongodb_query.close_all()


def _targets(port: int) -> list[object]:
    return [
        PostgresQueryTarget(
            name="pg",
            prober="postgres_query",
            sslmode="disable",
            dsn=f"host=127.0.0.1 port={port} dbname=x user=y",
        ),
        MongoQueryTarget(name="mq", prober="mongodb_query", uri=f"mongodb://127.0.0.1:{port}/"),
        MongoReplicationTarget(
            name="mr", prober="mongodb_replication", uri=f"mongodb://127.0.0.1:{port}/"
        ),
        EtcdTarget(name="etcd", prober="etcd", endpoints=(f"http://127.0.0.1:{port}",)),
        KubeApiserverTarget(
            name="kube", prober="kube_apiserver", endpoints=(f"http://127.0.0.1:{port}",)
        ),
    ]


@pytest.mark.parametrize(
    "case", ["postgres_query", "mongodb_query", "mongodb_replication", "etcd", "kube_apiserver"]
)
def test_a_silent_server_is_a_timeout_by_the_deadline(hole: Blackhole, case: str) -> None:
    target = next(t for t in _targets(hole.port) if t.prober == case)  # type: ignore[attr-defined]
    start = time.monotonic()
    result = PROBERS[case](target, TIMEOUT)
    took = time.monotonic() - start
    assert not result.success
    assert result.reason is Reason.TIMEOUT, result.detail
    assert took < TIMEOUT + SLACK, f"{case} took {took:.2f}s"
    assert hole.accepted >= 1


@pytest.fixture
def trickle() -> Iterator[int]:
    """An HTTP server that sends its headers, then one body byte every 50 ms, forever."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(peer: socket.socket) -> None:
        with peer:
            peer.recv(65536)
            peer.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            while not stop.is_set():
                try:
                    peer.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.05)

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                peer, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(peer,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    listener.close()


def test_a_trickling_answer_is_cut_at_the_deadline(trickle: int) -> None:
    """A read timeout alone restarts with every byte; the whole answer has one deadline."""
    target = EtcdTarget(name="etcd", prober="etcd", endpoints=(f"http://127.0.0.1:{trickle}",))
    start = time.monotonic()
    result = PROBERS["etcd"](target, TIMEOUT)
    took = time.monotonic() - start
    assert result.reason is Reason.TIMEOUT, result.detail
    assert took < TIMEOUT + SLACK
