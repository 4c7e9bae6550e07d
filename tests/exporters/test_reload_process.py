"""SIGHUP and POST /-/reload on the real `edgesla exporter`, as an operator reloads it."""

from __future__ import annotations

import signal
from pathlib import Path

import requests

from tests.exporters.exporter_process import POP, exporter
from tests.helpers import eventually

SERIES = '{pop="http-pop",prober="etcd",region="test",result="failure",target="%s"}'
FAILURES = "edgesla_probe_results_total" + SERIES
RELOAD_OK = 'edgesla_exporter_config_last_reload_successful{pop="http-pop",region="test"}'


def _value(body: str, series: str) -> float | None:
    """The value of the series named exactly ``series`` (name and every label)."""
    for line in body.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_sighup_with_a_broken_config_keeps_the_old_one_and_a_good_reload_keeps_counters(
    tmp_path: Path,
) -> None:
    with exporter(tmp_path) as running:
        base = f"http://127.0.0.1:{running.port}"
        metrics = lambda: requests.get(f"{base}/metrics", timeout=5).text  # noqa: E731
        eventually(lambda: _value(metrics(), FAILURES % "etcd") == 1)
        # a broken file: refused, logged, exported; the old config keeps serving
        (tmp_path / "pop.yaml").write_text(POP + "  - {name: x, prober: nope}\n")
        running.proc.send_signal(signal.SIGHUP)
        eventually(lambda: "config reload (SIGHUP) refused" in running.log_text())
        assert "unknown prober 'nope'" in running.log_text()
        body = metrics()
        assert _value(body, RELOAD_OK) == 0
        assert _value(body, FAILURES % "etcd") == 1
        assert 'reason="config",region="test"} 1.0' in body
        assert requests.get(f"{base}/-/reload", timeout=5).status_code == 405
        # a good one with a second target, through the HTTP endpoint
        extra = '  - {name: etcd2, prober: etcd, endpoints: ["http://127.0.0.1:2"]}\n'
        (tmp_path / "pop.yaml").write_text(POP + extra)
        reply = requests.post(f"{base}/-/reload", timeout=10)
        assert (reply.status_code, reply.text) == (200, "OK\n")
        eventually(lambda: _value(metrics(), FAILURES % "etcd2") == 1)
        body = metrics()
        assert _value(body, FAILURES % "etcd") == 1  # not reset, not run again
        assert _value(body, RELOAD_OK) == 1
        assert "added: etcd2; changed: none; removed: none" in running.log_text()
