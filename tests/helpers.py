"""Helpers for tests that drive the real `edgesla` command and the real local stack."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from edgesla.stack.layout import Layout

EDGESLA = str(Path(sys.executable).parent / "edgesla")


def free_port() -> int:
    """A loopback port free right now (bound by the OS, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_state_dir(prefix: str) -> Path:
    """A fresh state dir under /tmp that the edgesla-pg system user can reach (root runs)."""
    path = Path(tempfile.mkdtemp(prefix=f"edgesla-{prefix}-", dir="/tmp"))
    path.chmod(0o755)
    return path


def edgesla(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, in_process: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run the `edgesla` command: its exit code and what it printed on stdout and stderr.

    ``in_process``: through click's CliRunner in this interpreter, for the many runs of a
    command that ends quickly (bad input) — the same command, arguments and streams without
    the start of a Python process; each command keeps tests that run the real program.
    """
    if in_process:
        return _in_process(args, env)
    return subprocess.run(
        [EDGESLA, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _in_process(
    args: tuple[str, ...], env: dict[str, str] | None
) -> subprocess.CompletedProcess[str]:
    from click.testing import CliRunner

    from edgesla.cli import cli

    result = CliRunner().invoke(cli, list(args), env=env, prog_name="edgesla")
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))  # as Python prints it
    return subprocess.CompletedProcess([EDGESLA, *args], result.exit_code, result.stdout, stderr)


def processes_using(state_dir: Path) -> list[psutil.Process]:
    """Live (non-zombie) processes whose command line mentions ``state_dir``."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(state_dir) in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def stack_json(state_dir: Path) -> dict[str, Any]:
    result = edgesla("stack", "status", "--state-dir", str(state_dir), "--json")
    return dict(json.loads(result.stdout))


def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")


def stack_up(
    state_dir: Path,
    base_port: int,
    *extra: str,
    subscribers: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``edgesla stack up`` of a test's stack in ``state_dir`` at ``base_port``, as a user
    runs it (``extra``: more options, e.g. ``--json``)."""
    seeded = ("--subscribers", str(subscribers)) if subscribers is not None else ()
    args = ("--state-dir", str(state_dir), "--base-port", str(base_port), *seeded, *extra)
    return edgesla("stack", "up", *args, env=env)


@contextmanager
def started_stack(
    prefix: str, base_port: int, subscribers: int, env: dict[str, str] | None = None
) -> Iterator[Layout]:
    """A test's own local stack, started as a user starts one (``edgesla stack up``) and
    always torn down, started or not."""
    state_dir = make_state_dir(prefix)
    try:
        result = stack_up(state_dir, base_port, subscribers=subscribers, env=env)
        assert result.returncode == 0, result.stderr + result.stdout
        yield Layout(state_dir, base_port)
    finally:
        teardown_stack(state_dir)


def teardown_stack(state_dir: Path) -> None:
    edgesla("stack", "down", "--state-dir", str(state_dir))
    for proc in processes_using(state_dir):  # belt and braces: never leak servers
        proc.kill()
    shutil.rmtree(state_dir, ignore_errors=True)


@contextmanager
def exporter_paused(state_dir: Path) -> Iterator[None]:
    """SIGSTOP the stack's exporter (its heartbeats keep PostgreSQL busy), SIGCONT after."""
    doc = stack_json(state_dir)
    pid = next(c["pid"] for c in doc["components"] if c["name"] == "exporter")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
