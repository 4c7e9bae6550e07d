"""What each kind of component is, how to ask it whether it answers, how to wait for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgesla._errors import StartupError
from edgesla.stack import etcd, exporter, mongo, postgres, prometheus, selfcare
from edgesla.stack.layout import HOST, Layout
from edgesla.stack.processes import ProcessRecord, is_running
from edgesla.stack.state import Component

__all__ = ["ComponentStatus", "check", "describe", "wait_ready"]

KIND_POSTGRES = "postgresql"
KIND_MONGO = "mongodb"
KIND_ETCD = "etcd"
KIND_PROMETHEUS = "prometheus"
KIND_SELFCARE = "selfcare"
KIND_EXPORTER = "exporter"


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    kind: str
    address: str
    url: str
    pid: int
    up: bool
    detail: str


def describe(name: str, kind: str, layout: Layout, record: ProcessRecord) -> Component:
    """The state-file record of a started component."""
    if kind == KIND_POSTGRES:
        port, url = layout.pg_port(name), postgres.dsn(layout, name)
    elif kind == KIND_ETCD:
        port, url = layout.etcd_client_port(name), etcd.client_url(layout, name)
    elif kind == KIND_MONGO:
        port, url = layout.mongo_port, mongo.uri(layout)
    elif kind == KIND_SELFCARE:
        port, url = layout.selfcare_port, selfcare.url(layout)
    elif kind == KIND_EXPORTER:
        port, url = layout.exporter_port, exporter.url(layout)
    else:
        port, url = layout.prometheus_port, prometheus.url(layout)
    log = layout.log_dir / f"{name}.log"
    return Component(name, kind, f"{HOST}:{port}", url, record, str(log))


def _probe(layout: Layout, component: Component) -> tuple[bool, str]:
    if component.kind == KIND_POSTGRES:
        return postgres.check_node(layout, component.name)
    if component.kind == KIND_ETCD:
        return etcd.check(layout, component.name)
    if component.kind == KIND_MONGO:
        return mongo.check(layout)
    if component.kind == KIND_SELFCARE:
        return selfcare.check(layout)
    if component.kind == KIND_EXPORTER:
        return exporter.check(layout)
    return prometheus.check(layout)


def check(layout: Layout, component: Component) -> ComponentStatus:
    """Is the process ours and alive, and does the server answer a real query?"""
    if is_running(component.process):
        up, detail = _probe(layout, component)
    else:
        up, detail = False, f"process {component.process.pid} is not running"
    return ComponentStatus(
        component.name, component.kind, component.address, component.url,
        component.process.pid, up, detail,
    )  # fmt: skip


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
