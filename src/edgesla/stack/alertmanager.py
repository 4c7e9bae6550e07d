"""Alertmanager, receiving the alerts of the stack's Prometheus: the routing and inhibitions
of ``edgesla rules``' example (``edgesla.rules.alertmanager``), one port, no cluster gossip.

Its receivers notify nobody unless ``EDGESLA_ALERT_WEBHOOK`` is set at start (a base URL:
pages go to ``URL/page``, tickets to ``URL/ticket``); the alerts are always in its UI and
``amtool --alertmanager.url=URL alert``.
"""

from __future__ import annotations

import os

import requests
import yaml

from edgesla.atomic import write_atomic
from edgesla.rules.alertmanager import RECEIVERS, config
from edgesla.stack.binaries import Binaries
from edgesla.stack.http import get_json
from edgesla.stack.layout import HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = ["WEBHOOK_ENV", "check", "render_config", "start", "url"]

WEBHOOK_ENV = "EDGESLA_ALERT_WEBHOOK"


def url(layout: Layout) -> str:
    return f"http://{HOST}:{layout.alertmanager_port}"


def render_config(webhook: str | None) -> str:
    urls = {name: f"{webhook.rstrip('/')}/{name}" for name in RECEIVERS} if webhook else None
    return "# Written by `edgesla stack up`. DO NOT EDIT: rewritten on every start.\n" + (
        yaml.safe_dump(config(urls), sort_keys=False, width=10_000)
    )


def start(layout: Layout, binaries: Binaries) -> ProcessRecord:
    path = layout.state_dir / "alertmanager.yml"
    write_atomic(path, render_config(os.environ.get(WEBHOOK_ENV) or None))
    return spawn(
        [
            str(binaries.alertmanager),
            f"--config.file={path}",
            f"--storage.path={layout.data_dir / 'alertmanager'}",
            f"--web.listen-address={HOST}:{layout.alertmanager_port}",
            "--cluster.listen-address=",  # a single instance: no gossip port
        ],
        layout.log_dir / "alertmanager.log",
    )


def check(layout: Layout) -> tuple[bool, str]:
    """Ready, and how many alerts it holds: (ok, detail)."""
    try:
        ready = requests.get(f"{url(layout)}/-/ready", timeout=2).status_code == 200
        status, alerts = get_json(f"{url(layout)}/api/v2/alerts") if ready else (0, None)
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    if not ready or status != 200 or not isinstance(alerts, list):
        return False, "not ready"
    states = [a.get("status", {}).get("state") for a in alerts]
    detail = f"ready; {states.count('active')} alerts active"
    if suppressed := states.count("suppressed"):
        detail += f", {suppressed} suppressed"
    return True, detail
