"""The PoP's own edgesla exporter as a component of the local stack, scraped by its
Prometheus (job edgesla-exporter) from the moment the stack is up."""

from __future__ import annotations

import sys

import requests
from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
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
    up, down = _up_and_down(body)
    detail = f"{len(up)}/{len(up) + len(down)} targets up"
    if down:
        detail += "; down: " + ", ".join(f"{name} ({why})" for name, why in sorted(down.items()))
    return not down, detail


def _up_and_down(body: str) -> tuple[set[str], dict[str, str]]:
    """The targets up, and those down with the reason of their current failure."""
    up: set[str] = set()
    down: set[str] = set()
    reasons: dict[str, str] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            target = s.labels.get("target", "?")
            if s.name == conv.PROBE_UP:
                (up if s.value == 1 else down).add(target)
            elif s.name == conv.PROBE_FAILURE_REASON and s.value == 1:
                reasons[target] = s.labels.get("reason", "?")
    return up, {name: reasons.get(name, "?") for name in down}


def ready(layout: Layout) -> tuple[bool, str]:
    """Serving, with every target probed once (up or not)."""
    try:
        status = requests.get(f"{url(layout)}/-/ready", timeout=2).status_code
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    return status == 200, "ready" if status == 200 else "first probes still running"
