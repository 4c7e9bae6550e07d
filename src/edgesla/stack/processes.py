"""Start detached server processes and stop exactly those, by PID and start time.

A PID alone can be reused by an unrelated process after ours died; every record also keeps
the process's start time, and nothing is signalled unless both match.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

__all__ = ["ProcessRecord", "is_running", "spawn", "stop_all"]


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    create_time: float
    stop_signal: int = signal.SIGTERM


def spawn(
    argv: Sequence[str],
    log: Path,
    *,
    user: str | None = None,
    env: dict[str, str] | None = None,
    stop_signal: int = signal.SIGTERM,
) -> ProcessRecord:
    """Start ``argv`` in its own session, output appended to ``log``; return its record.

    ``user`` (only when running as root) runs it as that system user.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user,
            group=user,
            extra_groups=[] if user else None,
            env=env,
            close_fds=True,
        )
    try:
        created = psutil.Process(proc.pid).create_time()
    except psutil.NoSuchProcess:
        created = 0.0
    return ProcessRecord(proc.pid, created, stop_signal)


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (in-process callers)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def is_running(record: ProcessRecord) -> bool:
    """True when the recorded process is alive and is the one we started."""
    _reap(record.pid)
    try:
        proc = psutil.Process(record.pid)
        if abs(proc.create_time() - record.create_time) > 1.0:
            return False  # the PID now belongs to someone else
        return proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _signal(record: ProcessRecord, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(record.pid, sig)


def _wait_gone(records: list[ProcessRecord], seconds: float) -> list[ProcessRecord]:
    deadline = time.monotonic() + seconds
    alive = [r for r in records if is_running(r)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [r for r in alive if is_running(r)]
    return alive


def stop_all(records: list[ProcessRecord], timeout: float = 20.0) -> list[ProcessRecord]:
    """Signal every recorded process that is still ours, wait, escalate to SIGKILL.

    Returns the processes still running afterwards (empty when all are gone).
    """
    alive = [r for r in records if is_running(r)]
    for record in alive:
        _signal(record, record.stop_signal)
    alive = _wait_gone(alive, timeout)
    for record in alive:
        _signal(record, signal.SIGKILL)
    return _wait_gone(alive, 5.0)
