"""Generic fault helpers for tests: freeze processes, drop packets, a peer that never answers.

    postgres_pids(data_dir, postmaster_only=False)   a PostgreSQL server's processes
    pids_listening(port)                             the processes listening on a port
    frozen(pids)                                     SIGSTOP them, SIGCONT on exit
    killed(pid, log, respawned)                      SIGKILL it, start it again on exit
    dropped(port)                                    iptables DROP to and from a port (root)
    Blackhole()                                      accepts TCP connections, never answers
    require_root(what)                               skip the test when not root

Signalling another user's processes (PostgreSQL runs as edgesla-pg) and iptables need root:
the product never does either, only these tests, which skip with the reason otherwise.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest

__all__ = [
    "Blackhole",
    "dropped",
    "frozen",
    "killed",
    "pids_listening",
    "postgres_pids",
    "require_root",
]


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (this test runs as uid {os.geteuid()})")


def postgres_pids(data_dir: Path, postmaster_only: bool = False) -> list[int]:
    """The postmaster of ``data_dir`` (first line of postmaster.pid) and, unless
    ``postmaster_only``, every process it forked (backends, walsenders, workers)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    if postmaster_only:
        return [postmaster]
    return [postmaster, *(child.pid for child in psutil.Process(postmaster).children())]


def pids_listening(port: int) -> list[int]:
    """Processes with a TCP socket listening on ``port`` (all users' only when root)."""
    return sorted(
        {
            conn.pid
            for conn in psutil.net_connections("tcp")
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid
        }
    )


@contextmanager
def frozen(pids: Sequence[int]) -> Iterator[None]:
    """SIGSTOP every pid; SIGCONT them all on exit, whatever happened."""
    stopped = []
    try:
        for pid in pids:
            with suppress(ProcessLookupError):  # a backend that ended meanwhile
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@contextmanager
def killed(pid: int, log: Path, respawned: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    """SIGKILL ``pid`` (and wait for it); on exit start the same command line again, in the
    same directory, appending to ``log``, and add the new process to ``respawned`` (the caller
    stops and waits for it). For servers that keep their state on disk (etcd)."""
    proc = psutil.Process(pid)
    argv, cwd = proc.cmdline(), proc.cwd()
    proc.kill()
    deadline = time.monotonic() + 10
    while _alive(proc) and time.monotonic() < deadline:  # not our child: it may stay a zombie
        time.sleep(0.05)
    try:
        yield
    finally:
        with log.open("ab") as out:
            again = subprocess.Popen(
                argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        respawned.append(again)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _iptables(action: str, rule: list[str]) -> None:
    subprocess.run(
        ["iptables", "-w", "5", action, "INPUT", *rule], check=True, capture_output=True, timeout=30
    )


@contextmanager
def dropped(port: int, host: str = "127.0.0.1") -> Iterator[None]:
    """Drop every TCP packet to and from ``host:port`` (both directions, on loopback too);
    the rules carry this process's pid as a comment and are removed on exit."""
    require_root("iptables")
    tag = ["-m", "comment", "--comment", f"edgesla-test-{os.getpid()}"]
    rules = [
        ["-p", "tcp", "-d", host, "--dport", str(port), *tag, "-j", "DROP"],
        ["-p", "tcp", "-s", host, "--sport", str(port), *tag, "-j", "DROP"],
    ]
    added = []
    try:
        for rule in rules:
            _iptables("-I", rule)
            added.append(rule)
        yield
    finally:
        for rule in added:
            _iptables("-D", rule)


class Blackhole:
    """A TCP server on 127.0.0.1 that accepts every connection, reads, and never answers.

    The kernel completes the handshake, so a client sees a connected socket that stays silent:
    what a hung server behind a live kernel looks like. Connections stay open until ``close``.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._peers: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="blackhole", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                peer, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._peers.append(peer)  # read nothing, answer nothing: the client waits

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for peer in self._peers:
            peer.close()

    def __enter__(self) -> Blackhole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
