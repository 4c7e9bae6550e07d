"""The exporter's HTTP server under load and abuse, against the real `edgesla exporter`.

Nothing here asserts on speed: each test checks what a client sees (answers, closed
connections, status codes) and what the process holds (threads, the listen backlog).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.exporters.exporter_process import (
    closed_by_server,
    exporter,
    http_get,
    read_response,
)

pytestmark = pytest.mark.slow


def _listen_backlog(port: int) -> int:
    """The listening socket's backlog as the kernel has it (ss: Send-Q of a LISTEN socket)."""
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[2])


def test_150_connections_at_once_wait_in_the_backlog_while_the_server_cannot_accept(
    tmp_path: Path,
) -> None:
    """The process is frozen (SIGSTOP): only the kernel's accept queue holds the connections.

    With Python's default backlog of 5, connection 7 on would hang in SYN-SENT; here all 150
    complete, and every one gets its answer once the process runs again.
    """
    with exporter(tmp_path) as running:
        assert _listen_backlog(running.port) >= 128
        running.pause()
        sockets = [running.connect(timeout=3) for _ in range(150)]  # none refused or hung
        for sock in sockets:
            sock.sendall(http_get("/-/healthy"))
        running.resume()
        for sock in sockets:
            sock.settimeout(30)
            assert read_response(sock) == (200, b"OK\n")
            sock.close()


def test_200_idle_connections_hold_no_thread_and_a_scrape_still_goes_through(
    tmp_path: Path,
) -> None:
    """Silent new connections and kept-alive ones both wait in the selector, not on a worker."""
    with exporter(tmp_path, "--http-threads", "4") as running:
        base = running.threads
        silent = [running.connect() for _ in range(200)]
        time.sleep(0.5)
        assert running.threads == base
        scrape = requests.get(f"http://127.0.0.1:{running.port}/metrics", timeout=5)
        assert scrape.status_code == 200
        assert "edgesla_probe_up" in scrape.text
        kept = [running.connect() for _ in range(200)]
        for sock in kept:  # one request each, then idle on a kept-alive connection
            sock.sendall(http_get("/-/healthy"))
            assert read_response(sock) == (200, b"OK\n")
        assert running.threads == base
        assert requests.get(f"http://127.0.0.1:{running.port}/metrics", timeout=5).ok
        for sock in silent + kept:
            sock.close()


def test_a_slowloris_client_is_cut_off_by_the_header_timeout(tmp_path: Path) -> None:
    """Headers one byte every 0.2 s: each read comes in time, the whole request does not."""
    with exporter(tmp_path, "--http-header-timeout", "2s") as running, running.connect() as sock:
        request = http_get("/metrics", extra="X-Padding: " + "p" * 100 + "\r\n")
        started = time.monotonic()
        cut = False
        for byte in request:
            try:
                sock.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            time.sleep(0.2)
        assert cut, "the whole slow request was sent without the server closing"
        assert time.monotonic() - started < len(request) * 0.2  # cut before the end
        assert "not complete within 2s: closed (408)" in running.log_text()
        assert requests.get(f"http://127.0.0.1:{running.port}/-/healthy", timeout=5).ok


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    tmp_path: Path,
) -> None:
    with (
        exporter(tmp_path, "--http-header-timeout", "1s", "--http-idle-timeout", "60s") as r,
        r.connect() as sock,
    ):
        assert closed_by_server(sock, within=15) == b""


def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    with exporter(tmp_path, "--http-idle-timeout", "2s") as running, running.connect() as sock:
        for _ in range(3):  # the connection is reused while requests keep coming
            sock.sendall(http_get("/-/healthy"))
            assert read_response(sock) == (200, b"OK\n")
            time.sleep(0.5)
        assert closed_by_server(sock, within=15) == b""


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /metrics\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ],  # a TLS hello on the HTTP port
    ids=["garbage", "no-version", "bad-version", "tls-hello"],
)
def test_a_bad_request_line_gets_400_and_one_log_line_at_most(
    tmp_path: Path, request_bytes: bytes
) -> None:
    with exporter(tmp_path) as running, running.connect() as sock:
        sock.sendall(request_bytes)
        answer = closed_by_server(sock, within=10)
        assert answer is not None
        assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 505 ")), answer[:100]
        assert requests.get(f"http://127.0.0.1:{running.port}/-/healthy", timeout=5).ok
        log = running.log_text()
        assert "Traceback" not in log
        assert len(log.splitlines()) <= 2, log


def test_an_oversized_header_gets_431_or_413_not_a_crash(tmp_path: Path) -> None:
    with exporter(tmp_path) as running, running.connect() as sock:
        sock.sendall(http_get("/metrics", extra="X-Big: " + "b" * 70_000 + "\r\n"))
        answer = closed_by_server(sock, within=10) or b""
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
        assert "Traceback" not in running.log_text()


def test_unknown_http_flags_are_refused(tmp_path: Path) -> None:
    from tests.helpers import edgesla

    result = edgesla(
        "exporter", "--config", str(tmp_path / "none.yaml"), "--http-header-timeout", "soon"
    )
    assert result.returncode == 2
    assert "invalid duration 'soon'" in result.stderr


def test_the_listen_socket_is_not_left_behind(tmp_path: Path) -> None:
    """After SIGTERM the port is free again (the context manager asserts exit code 0)."""
    with exporter(tmp_path) as running:
        port = running.port
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
