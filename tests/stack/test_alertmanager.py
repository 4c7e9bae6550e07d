"""The stack's Alertmanager and Prometheus configs as written at `stack up`: amtool accepts
the Alertmanager one with and without a webhook, and Prometheus sends to the stack's port.
(Alertmanager running in the stack: tests/stack/test_cli.py lists it, and
tests/rules/test_quorum_alert.py pages through it.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from edgesla.stack import alertmanager, prometheus
from edgesla.stack.layout import Layout


@pytest.mark.parametrize("webhook", [None, "http://127.0.0.1:9999/hooks/"])
def test_amtool_accepts_the_stack_config(tmp_path: Path, webhook: str | None) -> None:
    text = alertmanager.render_config(webhook)
    assert text.startswith("# Written by `edgesla stack up`. DO NOT EDIT")
    path = tmp_path / "alertmanager.yml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["amtool", "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    receivers = {r["name"]: r for r in yaml.safe_load(text)["receivers"]}
    if webhook is None:  # nobody is notified; the alerts are in Alertmanager only
        assert receivers == {"page": {"name": "page"}, "ticket": {"name": "ticket"}}
    else:
        urls = {n: r["webhook_configs"][0]["url"] for n, r in receivers.items()}
        assert urls == {
            "page": "http://127.0.0.1:9999/hooks/page",
            "ticket": "http://127.0.0.1:9999/hooks/ticket",
        }


def test_prometheus_sends_its_alerts_to_the_stacks_alertmanager(tmp_path: Path) -> None:
    layout = Layout(tmp_path, 20000)
    config = yaml.safe_load(prometheus.render_config(layout, "pop", "eu"))
    (target,) = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert target == "127.0.0.1:20013"
    assert layout.ports_to_bind()[20013] == "alertmanager"
