"""Find a component's process by what it *is* — its port and its data dir — not by a PID.

A recorded PID goes stale the moment someone restarts a server by hand (``pg_ctl restart``,
a copied command line, a crash and a supervisor). So every question "is pg-b running, and
which process is it?" is answered from the machine as it is now:

    1. the process listening on the component's port (127.0.0.1 or the replication address),
       if it is the component's server: its command line names the component's data dir
       (relative paths resolved against the process's working directory), or — PostgreSQL —
       its data dir's ``postmaster.pid`` names it;
    2. otherwise the recorded process, if it is still alive (PID and start time match) and
       is the component's server (it may be starting and not listen yet);
    3. otherwise PostgreSQL's ``postmaster.pid``, if the PID in it is alive and is a server
       of that data dir.

A process on the port that is *not* the component's (another program took the port) is
reported as such, never signalled. ``in_data_dirs`` lists every process whose command line
or working directory lies in the stack's data dirs: what must be gone before data is deleted.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from edgesla.stack.layout import (
    HOST,
    KIND_EXPORTER,
    KIND_POSTGRES,
    KIND_SELFCARE,
    REPLICATION_HOST,
    Layout,
)
from edgesla.stack.processes import ProcessRecord, is_running
from edgesla.stack.state import Component

__all__ = [
    "Found",
    "Identity",
    "identity",
    "in_data_dirs",
    "listeners",
    "live_records",
    "locate",
    "record_of",
    "servers",
    "stop_signal_for",
]

_LISTEN_ADDRESSES = frozenset({HOST, REPLICATION_HOST, "0.0.0.0"})  # noqa: S104 (a match, not a bind)


@dataclass(frozen=True)
class Identity:
    """What makes a process the server of one component."""

    port: int
    #: The process's command line or working directory must lie in one of these.
    paths: tuple[Path, ...]
    #: ... or its command line must hold every one of these arguments (self-care: no data dir).
    tokens: tuple[str, ...] = ()
    #: PostgreSQL: the data dir, whose postmaster.pid names the postmaster.
    pg_data: Path | None = None
    stop_signal: int = signal.SIGTERM


@dataclass(frozen=True)
class Found:
    """The component's live process (or None), and a foreign process holding its port."""

    process: psutil.Process | None
    foreign: psutil.Process | None = None
    #: The port is held by a process edgesla may not inspect (another user's).
    hidden: bool = False

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def identity(layout: Layout, component: Component) -> Identity:
    port = int(component.address.rpartition(":")[2])
    data = layout.data_dir / component.name
    if component.kind == KIND_POSTGRES:
        return Identity(port, (data,), pg_data=data, stop_signal=signal.SIGINT)
    if component.kind == KIND_EXPORTER:
        return Identity(port, (layout.pop_config,))
    if component.kind == KIND_SELFCARE:
        return Identity(port, (), tokens=("edgesla.selfcare", f"{HOST}:{port}"))
    return Identity(port, (data,))


def listeners() -> dict[int, int | None]:
    """Port → PID of every TCP listener on the stack's addresses (None: not ours to see)."""
    found: dict[int, int | None] = {}
    with contextlib.suppress(psutil.AccessDenied):
        for conn in psutil.net_connections("tcp4"):
            if conn.status != psutil.CONN_LISTEN or not conn.laddr:
                continue
            ip, port = conn.laddr[0], conn.laddr[1]
            if ip in _LISTEN_ADDRESSES and (conn.pid is not None or port not in found):
                found[port] = conn.pid
    return found


def _args(proc: psutil.Process) -> tuple[list[str], Path | None]:
    cmdline = proc.cmdline()
    try:
        cwd: Path | None = Path(proc.cwd())
    except (psutil.AccessDenied, psutil.ZombieProcess, FileNotFoundError, OSError):
        cwd = None
    return cmdline, cwd


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _names_a_path(
    cmdline: list[str], cwd: Path | None, roots: tuple[Path, ...], *, exact: bool = False
) -> bool:
    """Does an argument (or the value of ``--opt=value``) name one of ``roots`` (``exact``) or
    a path inside one? Relative paths are taken from the process's working directory."""
    for arg in cmdline:
        for value in {arg, arg.partition("=")[2]}:
            if not value or value.startswith("-"):
                continue
            path = Path(value)
            if not path.is_absolute():
                if cwd is None:
                    continue
                path = cwd / path
            path = Path(os.path.realpath(path))
            if path in roots if exact else _within(path, roots):
                return True
    return False


def _postmaster_pid(data: Path) -> int | None:
    try:
        first = (data / "postmaster.pid").read_text(encoding="utf-8").split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def is_server_of(proc: psutil.Process, ident: Identity) -> bool:
    """Does ``proc`` run the component described by ``ident``?"""
    try:
        cmdline, cwd = _args(proc)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    if ident.tokens and all(token in cmdline for token in ident.tokens):
        return True
    if ident.pg_data is not None and _postmaster_pid(ident.pg_data) == proc.pid:
        # a postmaster.pid left by a crash may name a PID some other program has since
        with contextlib.suppress(psutil.Error):
            return proc.name() == "postgres"
    return bool(ident.paths) and _names_a_path(cmdline, cwd, _resolved(ident.paths), exact=True)


def _resolved(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    return tuple(Path(os.path.realpath(p)) for p in paths)


def _process(pid: int | None) -> psutil.Process | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def locate(
    layout: Layout, component: Component, ports: dict[int, int | None] | None = None
) -> Found:
    """The component's live process, found by port and data dir (see the module docstring)."""
    ident = identity(layout, component)
    ports = listeners() if ports is None else ports
    foreign = None
    hidden = ident.port in ports and ports[ident.port] is None
    on_port = _process(ports.get(ident.port))
    if on_port is not None:
        if is_server_of(on_port, ident):
            return Found(on_port)
        foreign = on_port
    if is_running(component.process):
        recorded = _process(component.process.pid)
        if recorded is not None and is_server_of(recorded, ident):
            return Found(recorded, foreign, hidden)
    if ident.pg_data is not None:
        postmaster = _process(_postmaster_pid(ident.pg_data))
        if postmaster is not None and is_server_of(postmaster, ident):
            return Found(postmaster, foreign, hidden)
    return Found(None, foreign, hidden)


def record_of(proc: psutil.Process, stop_signal: int) -> ProcessRecord:
    """A record of a found process, so it is signalled only while it is that process."""
    return ProcessRecord(proc.pid, proc.create_time(), stop_signal)


def stop_signal_for(proc: psutil.Process) -> int:
    """SIGINT for a postmaster (PostgreSQL's "fast" shutdown; SIGTERM would wait for every
    client to leave), SIGTERM for everything else."""
    try:
        return signal.SIGINT if proc.name() == "postgres" else signal.SIGTERM
    except psutil.Error:
        return signal.SIGTERM


def live_records(
    layout: Layout, component: Component, ports: dict[int, int | None] | None = None
) -> list[ProcessRecord]:
    """What to signal to stop ``component``: the process found by port and data dir, and the
    recorded one too if it is alive, a server of the component, and another process."""
    ident = identity(layout, component)
    found = locate(layout, component, ports).process
    records = []
    with contextlib.suppress(psutil.Error):
        if found is not None:
            records.append(record_of(found, ident.stop_signal))
    recorded = _process(component.process.pid) if is_running(component.process) else None
    other = recorded is not None and recorded.pid != (found.pid if found else None)
    if other and recorded is not None and is_server_of(recorded, ident):
        records.append(component.process)
    return records


def _ancestry() -> set[int]:
    proc = psutil.Process()
    pids: set[int] = {proc.pid}
    pids.update(parent.pid for parent in proc.parents())
    return pids


def _others() -> Iterator[tuple[psutil.Process, list[str], Path | None]]:
    """Every live process but edgesla's own and its ancestors, with command line and cwd."""
    mine = _ancestry()
    for proc in psutil.process_iter():
        if proc.pid in mine:
            continue
        try:
            cmdline, cwd = _args(proc)
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        yield proc, cmdline, cwd


def in_data_dirs(layout: Layout) -> list[psutil.Process]:
    """Every live process whose command line names a path in, or whose working directory lies
    in, the stack's data dir (edgesla's own process and its ancestors excepted): while any
    runs, the data must not be deleted."""
    root = _resolved((layout.data_dir,))
    return [
        proc
        for proc, cmdline, cwd in _others()
        if (cwd is not None and _within(cwd, root)) or _names_a_path(cmdline, cwd, root)
    ]


def servers(layout: Layout, components: Iterable[Component]) -> list[psutil.Process]:
    """Every live process that is the server of one of ``components`` by its data dir (its
    command line names it), wherever it listens — or does not listen at all."""
    idents = [identity(layout, c) for c in components]
    return [proc for proc, _, _ in _others() if any(is_server_of(proc, i) for i in idents)]
