"""Checks made before anything starts: free ports, an exclusive lock on the state dir."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edgesla._errors import PreflightError
from edgesla.stack.layout import HOST, PG_NODES, REPLICATION_HOST, Layout

__all__ = ["check_ports_free", "locked"]


def check_ports_free(layout: Layout, *, victoria_metrics: bool = False) -> None:
    """PreflightError naming every address the stack needs that is already taken: its ports
    on 127.0.0.1, and the masters' ports on the replication address."""
    bound = layout.ports_to_bind(victoria_metrics=victoria_metrics)
    wanted = [(HOST, port, name) for port, name in sorted(bound.items())]
    wanted += [(REPLICATION_HOST, layout.pg_port(n), f"{n} (replication)") for n in PG_NODES]
    taken = []
    for host, port, component in wanted:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise PreflightError(
                        f"{host} is not a local address on this machine; the stack needs it "
                        f"for {component}. On Linux all of 127.0.0.0/8 is loopback; elsewhere "
                        f"add it (`ifconfig lo0 alias {host}`). Nothing was started."
                    ) from exc
                if exc.errno != errno.EADDRINUSE:
                    raise
                taken.append(f"{host}:{port} ({component})")
    if taken:
        first, last = min(bound), max(bound)
        raise PreflightError(
            f"port already taken: {', '.join(taken)}. The stack needs ports {first}-{last}. "
            "Stop whatever listens there (`ss -ltnp` shows it), or choose other ports with "
            "--base-port N (or EDGESLA_BASE_PORT). Nothing was started."
        )


@contextmanager
def locked(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the state dir so two commands never race on one stack."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / "stack.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PreflightError(
                f"another `edgesla stack` command is working on {state_dir}; wait for it to "
                "finish, or use another --state-dir"
            ) from exc
        yield
    finally:
        os.close(fd)
