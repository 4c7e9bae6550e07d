"""VictoriaMetrics (single node), the optional long-term store the stack's Prometheus
remote-writes to (``edgesla stack up --with-victoria-metrics``): the way to keep 30+ days of a
fleet in one place, and read by ``edgesla report --prometheus URL`` like Prometheus itself.

Its data is under the stack's data dir and lives until ``stack down``. New points are hidden
from queries for ``LATENCY_OFFSET`` (VictoriaMetrics' ``-search.latencyOffset``, 30 s by
default, there for remote writers that send late); the stack's one Prometheus sends within
5 s (remote_write's batch deadline), so the stack waits less.
"""

from __future__ import annotations

import requests

from edgesla.report.inputs.store import LAG_LOOKBACK_FLAG, MAX_POINTS_FLAG
from edgesla.stack.binaries import find_victoria_metrics
from edgesla.stack.layout import HOST, VICTORIA_METRICS, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = [
    "LATENCY_OFFSET",
    "NAME",
    "RETENTION",
    "check",
    "command",
    "remote_write_url",
    "start",
    "url",
]

NAME = VICTORIA_METRICS
RETENTION = "100y"  # the stack's data goes with `stack down`; a fleet sets its own (docs)
LATENCY_OFFSET = "10s"


def url(layout: Layout) -> str:
    return f"http://{HOST}:{layout.victoriametrics_port}"


def remote_write_url(layout: Layout) -> str:
    return f"{url(layout)}/api/v1/write"


def command(layout: Layout) -> list[str]:
    """Its command line: data in the stack's data dir, one port on HOST."""
    return [
        str(find_victoria_metrics()),
        f"-storageDataPath={layout.data_dir / NAME}",
        f"-httpListenAddr={HOST}:{layout.victoriametrics_port}",
        f"-retentionPeriod={RETENTION}",
        f"-search.latencyOffset={LATENCY_OFFSET}",
        # Prometheus's 5-min lookback, for the replication-lag SLI (edgesla.report.inputs.store)
        LAG_LOOKBACK_FLAG,
        # the lag's 15-s grid over a whole period in one subquery (VictoriaMetrics' default:
        # 30,000 points, 5 days)
        MAX_POINTS_FLAG,
    ]


def start(layout: Layout) -> ProcessRecord:
    return spawn(command(layout), layout.log_dir / f"{NAME}.log")


def check(layout: Layout) -> tuple[bool, str]:
    """Healthy, how many series it holds, and its URL: (ok, detail)."""
    try:
        health = requests.get(f"{url(layout)}/health", timeout=2)
        count = requests.get(f"{url(layout)}/api/v1/series/count", timeout=2)
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    if health.status_code != 200 or count.status_code != 200:
        return False, "not ready"
    try:
        series = int(count.json()["data"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return False, "not ready (no series count)"
    # the URL in the terminal's table too: it is what `edgesla report --prometheus` takes
    return True, f"ready; {series} series; {url(layout)}"
