"""Reloading the PoP config: Exporter.reload, the Reloader's refusals and metrics, /-/reload."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from edgesla import ConfigError
from edgesla import conventions as conv
from edgesla.config import PopConfig, parse_config
from edgesla.exporters.app import make_app
from edgesla.exporters.exporter import Exporter
from edgesla.exporters.reload import Reloader
from tests.exporters.conftest import FakeProbers
from tests.helpers import eventually

LABELS = {"pop": "test-pop", "region": "test"}
GOOD = LABELS | {"target": "good", "prober": "etcd"}
BAD = LABELS | {"target": "bad", "prober": "kube_apiserver"}
NEW = LABELS | {"target": "new", "prober": "etcd"}
ETCD = {"prober": "etcd", "endpoints": ["http://127.0.0.1:1"]}
KUBE = {"prober": "kube_apiserver", "endpoints": ["https://127.0.0.1:1"]}


def _config(*targets: dict[str, Any], pop: str = "test-pop") -> PopConfig:
    return parse_config(
        {
            "version": 1,
            "pop": pop,
            "region": "test",
            "defaults": {
                "interval": "1h",
                "timeout": "1s",
                "jitter": "0s",
                "control_plane": {"interval": "1h", "timeout": "1s"},
            },
            "targets": list(targets),
        }
    )


def _yaml(*targets: str) -> str:
    lines = "\n".join(f"  - {t}" for t in targets)
    defaults = (
        "defaults: {interval: 1h, timeout: 1s, jitter: 0s, "
        "control_plane: {interval: 1h, timeout: 1s}}"
    )
    return f"version: 1\npop: test-pop\nregion: test\n{defaults}\ntargets:\n{lines}\n"


def _runs(core: Exporter, labels: dict[str, str], result: str) -> float | None:
    return core.registry.get_sample_value(conv.PROBE_RESULTS_TOTAL, labels | {"result": result})


def test_targets_that_stay_keep_their_counters_and_their_place(fakes: FakeProbers) -> None:
    core = Exporter(_config({"name": "good", **ETCD}, {"name": "bad", **KUBE}), fakes.map)
    core.start()
    try:
        eventually(core.first_round_done.is_set)
        changes = core.reload(_config({"name": "good", **ETCD}, {"name": "new", **ETCD}))
        eventually(lambda: _runs(core, NEW, "success") == 1)
    finally:
        core.stop()
    assert changes == (["new"], [], ["bad"])
    assert _runs(core, GOOD, "success") == 1  # kept, and not run again: its 1 h phase stays
    assert [name for name, _ in fakes.calls].count("good") == 1
    assert _runs(core, BAD, "failure") is None  # left the config: its series are gone
    assert core.registry.get_sample_value(conv.PROBE_UP, BAD) is None
    assert sorted(core.targets) == ["good", "new"]


def test_a_changed_target_is_scheduled_afresh_and_keeps_its_series(fakes: FakeProbers) -> None:
    core = Exporter(_config({"name": "good", **ETCD}), fakes.map)
    core.start()
    try:
        eventually(core.first_round_done.is_set)
        moved = {"name": "good", "prober": "etcd", "endpoints": ["http://127.0.0.1:2"]}
        assert core.reload(_config(moved)) == ([], ["good"], [])
        eventually(lambda: _runs(core, GOOD, "success") == 2)
    finally:
        core.stop()


def test_another_pop_is_refused_and_nothing_changes(fakes: FakeProbers) -> None:
    core = Exporter(_config({"name": "good", **ETCD}), fakes.map)
    with pytest.raises(ConfigError, match="pop/region changed from test-pop/test to other/test"):
        core.reload(_config({"name": "new", **ETCD}, pop="other"))
    assert sorted(core.targets) == ["good"]
    assert core.registry.get_sample_value(conv.PROBE_UP, NEW) is None


def _reload_metrics(reloader: Reloader) -> dict[str, float | None]:
    registry = CollectorRegistry()
    registry.register(reloader.collector)
    values: dict[str, float | None] = {
        "ok": registry.get_sample_value(conv.EXPORTER_CONFIG_LAST_RELOAD_SUCCESSFUL, LABELS),
        "at": registry.get_sample_value(conv.EXPORTER_CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP, LABELS),
    }
    for reason in ("config", "sources", "identity"):
        values[reason] = registry.get_sample_value(
            conv.EXPORTER_CONFIG_LAST_RELOAD_FAILURE_REASON, LABELS | {"reason": reason}
        )
    return values


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        ("targets: [", "config", "pop.yaml"),
        (
            _yaml("{name: good, prober: etcd, endpoints: [http://127.0.0.1:1], colour: red}"),
            "config",
            "unknown key",
        ),
        (
            _yaml(
                "{name: pg, prober: postgres_query, dsn: host=127.0.0.1, password_file: "
                "/nonexistent/pw}"
            ),
            "sources",
            "/nonexistent/pw",
        ),
        (
            _yaml("{name: good, prober: etcd, endpoints: [http://127.0.0.1:1]}").replace(
                "pop: test-pop", "pop: elsewhere"
            ),
            "identity",
            "restart the exporter",
        ),
    ],
)
def test_a_bad_config_is_refused_logged_and_exported(
    tmp_path: Path,
    fakes: FakeProbers,
    caplog: pytest.LogCaptureFixture,
    text: str,
    reason: str,
    message: str,
) -> None:
    path = tmp_path / "pop.yaml"
    core = Exporter(_config({"name": "good", **ETCD}), fakes.map)
    reloader = Reloader(core, path)
    started = _reload_metrics(reloader)
    assert started == {"ok": 1, "at": started["at"], "config": 0, "sources": 0, "identity": 0}
    path.write_text(text)
    refused = reloader.reload("test")
    assert refused is not None
    assert message in refused
    assert "config reload (test) refused, the previous config keeps running" in caplog.text
    assert _reload_metrics(reloader) == started | {"ok": 0, reason: 1}
    assert sorted(core.targets) == ["good"]
    path.write_text(_yaml("{name: good, prober: etcd, endpoints: [http://127.0.0.1:1]}"))
    assert reloader.reload("test") is None
    after = _reload_metrics(reloader)
    assert after["ok"] == 1
    assert after[reason] == 0
    assert (after["at"] or 0) >= (started["at"] or 0)


def _call(app: Any, method: str, path: str) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body: Iterable[bytes] = app({"REQUEST_METHOD": method, "PATH_INFO": path}, start)
    return seen["status"], seen["headers"], b"".join(body)


def test_reload_endpoint_takes_post_only(fakes: FakeProbers) -> None:
    core = Exporter(_config({"name": "good", **ETCD}), fakes.map)
    answers = iter([None, "pop.yaml: no such file"])
    app = make_app(core, reload=lambda trigger: next(answers))
    status, headers, body = _call(app, "GET", "/-/reload")
    assert (status, headers["Allow"]) == ("405 Method Not Allowed", "POST")
    assert body == b"This endpoint requires a POST request.\n"
    assert _call(app, "POST", "/-/reload")[0] == "200 OK"
    status, _, body = _call(app, "POST", "/-/reload")
    assert status == "500 Internal Server Error"
    assert body == b"failed to reload config: pop.yaml: no such file\n"
    assert _call(make_app(core), "POST", "/-/reload")[0] == "404 Not Found"


def test_the_interval_gauge_follows_the_config_and_its_kinds_default(fakes: FakeProbers) -> None:
    """``edgesla_probe_interval_seconds``: a target's own interval, else its kind's default
    (1 s for the control plane when ``defaults.control_plane`` is left out), after a reload too."""
    plain = parse_config(
        {
            "version": 1,
            "pop": "test-pop",
            "region": "test",
            "defaults": {"interval": "1h"},
            "targets": [{"name": "good", **ETCD}, {"name": "bad", **KUBE, "interval": "30s"}],
        }
    )
    core = Exporter(plain, fakes.map)
    interval = lambda labels: core.registry.get_sample_value(conv.PROBE_INTERVAL_SECONDS, labels)  # noqa: E731
    assert (interval(GOOD), interval(BAD)) == (1.0, 30.0)
    core.reload(_config({"name": "good", **ETCD}))
    assert (interval(GOOD), interval(BAD)) == (3600.0, None)
