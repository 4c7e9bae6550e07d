"""The exporter's flags as node_exporter's: the real `edgesla exporter` as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.exporters.exporter_process import exporter
from tests.helpers import edgesla


def test_help_teaches_the_new_names_and_keeps_the_old() -> None:
    text = edgesla("exporter", "--help").stdout
    for flag in (
        "--web.listen-address, --listen",
        "--web.config.file, --web-config",
        "--web.telemetry-path",
        "--log.level, --log-level",
        "--log.format",
    ):
        assert flag in text, flag


def test_new_flags_serve_another_path_log_json_and_export_build_and_process(
    tmp_path: Path,
) -> None:
    args = ("--web.telemetry-path", "/edge-metrics", "--log.format", "json", "--log.level",
            "debug")  # fmt: skip
    with exporter(tmp_path, *args, listen_flag="--web.listen-address") as running:
        base = f"http://127.0.0.1:{running.port}"
        body = requests.get(f"{base}/edge-metrics", timeout=5).text
        assert requests.get(f"{base}/metrics", timeout=5).status_code == 404
        assert 'href="/edge-metrics"' in requests.get(base, timeout=5).text
        lines = running.log_text().splitlines()
    assert 'edgesla_exporter_build_info{arch="' in body
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
        "python_info",
        "edgesla_probe_up",
    ):
        assert f"\n{name}" in body, name
    docs = [json.loads(line) for line in lines]  # every line is one JSON document
    assert any("serving http://127.0.0.1" in d["msg"] and d["level"] == "info" for d in docs)
    assert {d["level"] for d in docs} >= {"info", "debug"}  # --log.level debug


def test_a_bad_telemetry_path_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = edgesla(
        "exporter", "--config", str(tmp_path / "none.yaml"), "--web.telemetry-path", "/probe"
    )
    assert result.returncode == 2
    assert "--web.telemetry-path" in result.stderr
    assert "e.g. /metrics" in result.stderr
