"""The real `edgesla exporter` as an operator starts it, for the HTTP-surface tests.

Its PoP config has one etcd target on an address where nothing listens (127.0.0.1:1): serving
needs no probe to succeed, and the probe fails at once without a stack. One probe thread
(``--max-concurrency 1``) and a 1 h interval keep the process's thread count still, so tests
can watch it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.helpers import EDGESLA, eventually, free_port

POP = """\
version: 1
pop: http-pop
region: test
defaults: {interval: 1h, timeout: 1s, jitter: 0s, control_plane: {interval: 1h, timeout: 1s}}
targets:
  - {name: etcd, prober: etcd, endpoints: ["http://127.0.0.1:1"]}
"""


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def threads(self) -> int:
        return psutil.Process(self.proc.pid).num_threads()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def connect(self, timeout: float = 5.0) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


@contextmanager
def exporter(
    tmp_path: Path, *args: str, ready_mark: str = "serving ", listen_flag: str = "--listen"
) -> Iterator[Running]:
    """Start `edgesla exporter --config ... --listen 127.0.0.1:FREE ARGS`; SIGTERM it after.

    ``listen_flag``: the flag name to give the address with (the old name or the new one).

    Ready when its log says it serves and the first probe round is done (the probe thread
    has started); stopped with SIGTERM, which must end it with exit code 0.
    """
    config = tmp_path / "pop.yaml"
    config.write_text(POP)
    log = tmp_path / "exporter.log"
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                EDGESLA,
                "exporter",
                "--config",
                str(config),
                listen_flag,
                f"127.0.0.1:{port}",
                "--max-concurrency",
                "1",
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(proc, port, log)
    try:

        def up() -> bool:
            assert proc.poll() is None, f"exporter exited:\n{running.log_text()}"
            return ready_mark in running.log_text()

        eventually(up, timeout=30)
        time.sleep(0.5)  # the first probe round (fails at once): its thread now exists
        yield running
    finally:
        if proc.poll() is None:
            running.resume()
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        assert code == 0, running.log_text()


def http_get(path: str = "/metrics", host: str = "x", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """Status and body of one response with a Content-Length (as the exporter sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data[:200]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the middle of a body")
        body += chunk
    return int(lines[0].split()[1]), body


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing, or None if it kept the connection open."""
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data
