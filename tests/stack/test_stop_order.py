"""The order `edgesla stack down` stops the components in (edgesla.stack.orchestrator)."""

from __future__ import annotations

from edgesla.stack.orchestrator import stop_waves
from edgesla.stack.processes import ProcessRecord
from edgesla.stack.state import Component

KINDS = {
    "pg-a": "postgresql", "pg-b": "postgresql", "etcd1": "etcd", "etcd2": "etcd",
    "etcd3": "etcd", "mongo": "mongodb", "alertmanager": "alertmanager",
    "prometheus": "prometheus", "selfcare": "selfcare", "exporter": "exporter",
    "victoriametrics": "victoriametrics",
}  # fmt: skip


def _components() -> list[Component]:
    return [
        Component(name, kind, "127.0.0.1:1", "", ProcessRecord(i, 0.0), "")
        for i, (name, kind) in enumerate(KINDS.items())
    ]


def test_clients_first_then_the_stores_then_the_etcd_members_one_by_one() -> None:
    waves = [[c.name for c in wave] for wave in stop_waves(_components())]
    assert waves == [
        ["alertmanager", "prometheus", "selfcare", "exporter", "victoriametrics"],
        ["pg-a", "pg-b", "mongo", "etcd1"],
        ["etcd2"],
        ["etcd3"],
    ]


def test_every_component_is_stopped_once() -> None:
    components = _components()
    stopped = [c.name for wave in stop_waves(components) for c in wave]
    assert sorted(stopped) == sorted(c.name for c in components)
    assert stop_waves([c for c in components if c.kind == "etcd"][:1]) == [[components[2]]]
