"""What each kind of component is, how to start it, how to ask it whether it answers, how
to wait for it.

Two questions, asked of the server itself:

    answers(...)   it serves its protocol at all (``stack start`` waits for this): PostgreSQL
                   answers ``SELECT 1``, etcd answers ``/health`` (true or false), the
                   exporter is ready, the self-care service answers ``/healthz``
    check(...)     it is healthy (``stack status``): PostgreSQL replicates, etcd has a
                   leader, every exporter target is up, every self-care backend is up,
                   Alertmanager is ready (and says how many alerts it holds),
                   VictoriaMetrics is healthy (and says how many series it holds)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from edgesla._errors import StackError, StartupError
from edgesla.stack import (
    alertmanager,
    etcd,
    exporter,
    mongo,
    postgres,
    prometheus,
    selfcare,
    victoriametrics,
)
from edgesla.stack.binaries import Binaries
from edgesla.stack.layout import (
    HOST,
    KIND_ALERTMANAGER,
    KIND_ETCD,
    KIND_EXPORTER,
    KIND_MONGO,
    KIND_POSTGRES,
    KIND_PROMETHEUS,
    KIND_SELFCARE,
    KIND_VICTORIA_METRICS,
    Layout,
)
from edgesla.stack.locate import Found, locate
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION
from edgesla.stack.processes import ProcessRecord, is_running
from edgesla.stack.state import Component

__all__ = [
    "KIND_ALERTMANAGER",
    "KIND_ETCD",
    "KIND_EXPORTER",
    "KIND_MONGO",
    "KIND_POSTGRES",
    "KIND_PROMETHEUS",
    "KIND_SELFCARE",
    "KIND_VICTORIA_METRICS",
    "STATE_DOWN",
    "STATE_STOPPED",
    "STATE_UP",
    "ComponentStatus",
    "answers",
    "check",
    "describe",
    "launch",
    "remote_write",
    "wait_ready",
]

STATE_UP = "up"
STATE_DOWN = "down"
#: Stopped on purpose with ``edgesla stack stop``: down, and meant to be.
STATE_STOPPED = "stopped"
STOPPED_DETAIL = "stopped (edgesla stack stop)"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    kind: str
    address: str
    url: str
    #: The PID of the process running it now (found by port and data dir), None if none runs.
    pid: int | None
    up: bool
    state: str  # STATE_UP | STATE_DOWN | STATE_STOPPED
    detail: str


@dataclass(frozen=True)
class _Kind:
    """What the stack does with one kind of component; ``name`` is the component's."""

    #: its port and the URL (or DSN) clients use
    where: Callable[[Layout, str], tuple[int, str]]
    #: is it healthy (``stack status``)
    healthy: Callable[[Layout, str], tuple[bool, str]]
    #: start it on its existing data: (layout, name, binaries, run_as, remote_write)
    start: Callable[[Layout, str, Binaries, str | None, str | None], ProcessRecord]
    #: does it serve its protocol at all (``stack start`` waits for this); None: ``healthy``
    serves: Callable[[Layout, str], tuple[bool, str]] | None = None


_KINDS: dict[str, _Kind] = {
    KIND_POSTGRES: _Kind(
        where=lambda layout, name: (layout.pg_port(name), postgres.dsn(layout, name)),
        healthy=postgres.check_node,
        start=lambda layout, name, binaries, run_as, _: postgres.start(
            layout, name, binaries, run_as
        ),
        serves=postgres.ping,
    ),
    KIND_ETCD: _Kind(
        where=lambda layout, name: (layout.etcd_client_port(name), etcd.client_url(layout, name)),
        healthy=etcd.check,
        start=lambda layout, name, binaries, *_: etcd.start(layout, name, binaries),
        serves=etcd.answers,
    ),
    KIND_MONGO: _Kind(
        where=lambda layout, _: (layout.mongo_port, mongo.uri(layout)),
        healthy=lambda layout, _: mongo.check(layout),
        start=lambda layout, _, binaries, *__: mongo.start(layout, binaries),
    ),
    KIND_SELFCARE: _Kind(
        where=lambda layout, _: (layout.selfcare_port, selfcare.url(layout)),
        healthy=lambda layout, _: selfcare.check(layout),
        start=lambda layout, *_: selfcare.start(layout),
        serves=lambda layout, _: selfcare.answers(layout),
    ),
    KIND_EXPORTER: _Kind(
        where=lambda layout, _: (layout.exporter_port, exporter.url(layout)),
        healthy=lambda layout, _: exporter.check(layout),
        start=lambda layout, *_: exporter.start(layout),
        serves=lambda layout, _: exporter.ready(layout),
    ),
    KIND_ALERTMANAGER: _Kind(
        where=lambda layout, _: (layout.alertmanager_port, alertmanager.url(layout)),
        healthy=lambda layout, _: alertmanager.check(layout),
        start=lambda layout, _, binaries, *__: alertmanager.start(layout, binaries),
    ),
    KIND_VICTORIA_METRICS: _Kind(
        where=lambda layout, _: (layout.victoriametrics_port, victoriametrics.url(layout)),
        healthy=lambda layout, _: victoriametrics.check(layout),
        start=lambda layout, *_: victoriametrics.start(layout),
    ),
    KIND_PROMETHEUS: _Kind(
        where=lambda layout, _: (layout.prometheus_port, prometheus.url(layout)),
        healthy=lambda layout, _: prometheus.check(layout),
        start=lambda layout, _, binaries, __, remote_write: prometheus.start(
            layout, binaries, LOCAL_POP, LOCAL_REGION, remote_write
        ),
    ),
}


def _kind(kind: str) -> _Kind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise StackError(
            f"unknown component kind {kind!r} in the stack's state file (written by another "
            "edgesla version?); run `edgesla stack down`, then `edgesla stack up`"
        ) from None


def describe(name: str, kind: str, layout: Layout, record: ProcessRecord) -> Component:
    """The state-file record of a started component."""
    port, url = _kind(kind).where(layout, name)
    log = layout.log_dir / f"{name}.log"
    return Component(name, kind, f"{HOST}:{port}", url, record, str(log))


def launch(
    layout: Layout,
    component: Component,
    binaries: Binaries,
    run_as: str | None,
    remote_write: str | None = None,
) -> ProcessRecord:
    """Start one component again on its existing data (``stack start | restart``);
    ``remote_write``: Prometheus's, when the stack has VictoriaMetrics."""
    return _kind(component.kind).start(layout, component.name, binaries, run_as, remote_write)


def _probe(layout: Layout, component: Component) -> tuple[bool, str]:
    return _kind(component.kind).healthy(layout, component.name)


def answers(layout: Layout, component: Component) -> tuple[bool, str]:
    """Does the server serve its protocol at all (healthy or not)?"""
    kind = _kind(component.kind)
    return (kind.serves or kind.healthy)(layout, component.name)


def remote_write(layout: Layout, components: list[Component]) -> str | None:
    """Where the stack's Prometheus remote-writes: its VictoriaMetrics, if it has one."""
    has = any(c.kind == KIND_VICTORIA_METRICS for c in components)
    return victoriametrics.remote_write_url(layout) if has else None


def _down(component: Component, found: Found) -> str:
    recorded = component.process.pid
    if found.foreign is not None:
        try:
            what = " ".join(found.foreign.cmdline())[:80]
        except psutil.Error:  # it may exit while we look
            what = "?"
        return (
            f"not running; its port {component.address} is held by another program "
            f"(pid {found.foreign.pid}: {what})"
        )
    if found.hidden:
        return f"not running; its port {component.address} is held by another user's process"
    if component.stopped:
        return STOPPED_DETAIL
    return f"not running (recorded pid {recorded} is gone, and nothing serves its port)"


def check(
    layout: Layout, component: Component, ports: dict[int, int | None] | None = None
) -> ComponentStatus:
    """Which process runs the component now (by port and data dir), and does it answer?

    ``ports`` (from ``locate.listeners()``) saves a scan when checking many components.
    """
    found = locate(layout, component, ports)
    if found.process is not None:
        up, detail = _probe(layout, component)
        if found.pid != component.process.pid:
            detail += f" (pid {found.pid}, not the recorded {component.process.pid})"
        state = STATE_UP if up else STATE_DOWN
    else:
        up, detail = False, _down(component, found)
        on_purpose = component.stopped and found.foreign is None and not found.hidden
        state = STATE_STOPPED if on_purpose else STATE_DOWN
    return ComponentStatus(
        component.name,
        component.kind,
        component.address,
        component.url,
        found.pid,
        up,
        state,
        detail,
    )


def _log_tail(path: str, lines: int = 8) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(f"    {line}" for line in text[-lines:])


def wait_ready(
    component: Component, answers: Callable[[], tuple[bool, str]], timeout: float
) -> None:
    """Poll ``answers`` until it succeeds; StartupError if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    detail = "not checked yet"
    while time.monotonic() < deadline:
        if not is_running(component.process):
            raise StartupError(
                f"{component.name} exited during start-up; last lines of {component.log}:\n"
                + _log_tail(component.log)
            )
        ok, detail = answers()
        if ok:
            return
        time.sleep(0.1)
    raise StartupError(
        f"{component.name} did not answer within {timeout:g}s ({detail}); last lines of "
        f"{component.log}:\n" + _log_tail(component.log)
    )
