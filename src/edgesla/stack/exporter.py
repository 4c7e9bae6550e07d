"""The PoP's own edgesla exporter as a component of the local stack, scraped by its
Prometheus (job edgesla-exporter) from the moment the stack is up."""

from __future__ import annotations

import sys

import requests

from edgesla.stack.layout import HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = ["check", "ready", "start", "url"]


def url(layout: Layout) -> str:
    return f"http://{HOST}:{layout.exporter_port}"


def start(layout: Layout) -> ProcessRecord:
    argv = [sys.executable, "-m", "edgesla", "exporter", "--config", str(layout.pop_config),
            "--log-level", "warning"]  # fmt: skip
    return spawn(argv, layout.log_dir / "exporter.log")


def check(layout: Layout) -> tuple[bool, str]:
    """Ready once every target has been probed; the detail counts targets up."""
    try:
        ready = requests.get(f"{url(layout)}/-/ready", timeout=2)
        if ready.status_code != 200:
            return False, "first probes still running"
        body = requests.get(f"{url(layout)}/metrics", timeout=5).text
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    ups = [ln for ln in body.splitlines() if ln.startswith("edgesla_probe_up{")]
    up = sum(ln.endswith(" 1.0") for ln in ups)
    return up == len(ups), f"{up}/{len(ups)} targets up"


def ready(layout: Layout) -> tuple[bool, str]:
    """Serving, with every target probed once (up or not)."""
    try:
        status = requests.get(f"{url(layout)}/-/ready", timeout=2).status_code
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    return status == 200, "ready" if status == 200 else "first probes still running"
