"""``edgesla stack stop | start | restart NAME``: one component at a time, for fault drills.

    stop NAME      stop the process that runs it now (found by port and data dir, so also one
                   restarted by hand), wait for it to exit, and record it as stopped on
                   purpose: `status` then shows it DOWN, "stopped (edgesla stack stop)"
    start NAME     start it again on its existing data (never initdb, never a new etcd
                   cluster), wait until it answers, then give it a little time to be healthy;
                   when it already runs, say so and change nothing
    restart NAME   stop, then start

Each holds the state dir's lock and rewrites the state file atomically with the new PID.
An unknown name, or no stack in the state dir, is a PreflightError (exit 2) and changes
nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

from edgesla._errors import PreflightError, StackError
from edgesla.stack.binaries import find_binaries
from edgesla.stack.components import (
    KIND_POSTGRES,
    ComponentStatus,
    answers,
    check,
    launch,
    remote_write,
    wait_ready,
)
from edgesla.stack.layout import Layout, component_names
from edgesla.stack.locate import live_records, locate
from edgesla.stack.preflight import locked
from edgesla.stack.processes import stop_all
from edgesla.stack.state import Component, StackState, read_state, replace_component, write_state

__all__ = ["OperationResult", "restart", "start", "stop"]

#: How long `start` waits for the server to answer at all (PostgreSQL replays WAL first).
ANSWER_TIMEOUT = 60.0
#: How long it then waits for the component to be healthy (etcd: a leader; PostgreSQL: the
#: apply workers) before reporting it as started but not healthy.
SETTLE_TIMEOUT = 15.0


@dataclass(frozen=True)
class OperationResult:
    name: str
    #: Whether anything was done: False for `start` of a running component, `stop` of a
    #: stopped one.
    changed: bool
    message: str
    status: ComponentStatus


def _load(layout: Layout, name: str) -> tuple[Layout, StackState, Component]:
    state = read_state(layout.state_file)
    if state is None:
        raise PreflightError(
            f"no stack recorded in {layout.state_dir}; start one with `edgesla stack up "
            f"--state-dir {layout.state_dir}`, or name the state dir of a running stack "
            "with --state-dir"
        )
    by_name = {c.name: c for c in state.components}
    if name not in by_name:
        known = [n for n in component_names(victoria_metrics=True) if n in by_name]
        known = known or list(by_name)
        raise PreflightError(
            f"unknown component {name!r} in the stack in {layout.state_dir}; the components "
            f"(as `edgesla stack status` lists them) are: {', '.join(known)}"
        )
    return Layout(layout.state_dir, state.base_port), state, by_name[name]


def _save(layout: Layout, state: StackState, component: Component) -> Component:
    replace_component(state, component)
    write_state(layout.state_file, state)
    return component


def _stop(layout: Layout, state: StackState, component: Component) -> tuple[Component, bool]:
    records = live_records(layout, component)
    left = stop_all(records)
    if left:
        pids = ", ".join(str(r.pid) for r in left)
        raise StackError(
            f"could not stop {component.name} (pid {pids}) within 25 s, even with SIGKILL; "
            "stop it by hand (`kill -9 PID`, as its owner or root) and retry"
        )
    return _save(layout, state, replace(component, stopped=True)), bool(records)


def _start(layout: Layout, state: StackState, component: Component) -> tuple[Component, bool]:
    found = locate(layout, component)
    if found.process is not None:
        if component.stopped:  # started by someone else since: it runs, so it is not stopped
            component = _save(layout, state, replace(component, stopped=False))
        return component, False
    if found.foreign is not None or found.hidden:
        who = f"pid {found.foreign.pid}" if found.foreign is not None else "another user"
        raise PreflightError(
            f"cannot start {component.name}: its port {component.address} is held by another "
            f"program ({who}). Stop that program (`ss -ltnp` shows it), then retry."
        )
    writes_to = remote_write(layout, state.components)
    record = launch(layout, component, find_binaries(), state.run_as, writes_to)
    started = _save(layout, state, replace(component, process=record, stopped=False))
    wait_ready(started, partial(answers, layout, started), ANSWER_TIMEOUT)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not _settled(layout, state, started) and time.monotonic() < deadline:
        time.sleep(0.2)
    return started, True


def _settled(layout: Layout, state: StackState, started: Component) -> bool:
    """The component is healthy; for a PostgreSQL master, every master replicates again (the
    peer's subscription to it reconnects only at its next retry, up to 5 s later)."""
    if started.kind != KIND_POSTGRES:
        return check(layout, started).up
    masters = [c for c in state.components if c.kind == KIND_POSTGRES]
    return all(check(layout, c).up for c in masters if c.name == started.name or not c.stopped)


def stop(layout: Layout, name: str) -> OperationResult:
    with locked(layout.state_dir):
        layout, state, component = _load(layout, name)
        component, did = _stop(layout, state, component)
        status = check(layout, component)
    if did:
        return OperationResult(name, True, f"stopped {name}", status)
    return OperationResult(name, False, f"{name} was not running; nothing to stop", status)


def start(layout: Layout, name: str) -> OperationResult:
    with locked(layout.state_dir):
        layout, state, component = _load(layout, name)
        component, did = _start(layout, state, component)
        status = check(layout, component)
    if did:
        return OperationResult(name, True, f"started {name} (pid {status.pid})", status)
    return OperationResult(
        name, False, f"{name} is already running (pid {status.pid}); nothing to do", status
    )


def restart(layout: Layout, name: str) -> OperationResult:
    with locked(layout.state_dir):
        layout, state, component = _load(layout, name)
        before = locate(layout, component).pid
        component, _ = _stop(layout, state, component)
        component, _ = _start(layout, state, component)
        status = check(layout, component)
    was = f"pid {before}" if before is not None else "it was not running"
    return OperationResult(name, True, f"restarted {name} ({was} → pid {status.pid})", status)
