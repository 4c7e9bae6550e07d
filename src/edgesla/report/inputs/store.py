"""Which server answers the Prometheus API: Prometheus, or VictoriaMetrics, whose lookback
the replication-lag SLI depends on.

The report's counters and scans ask for explicit ranges and read the same on both (tested on
the same samples: tests/report/inputs/test_victoriametrics.py). The replication lag is read on
a 15-s grid through each server's own lookback: Prometheus holds a series' last sample for
5 minutes; VictoriaMetrics, unless started with ``-search.minStalenessInterval`` of at least
that, for about two scrape intervals. Where a lag series has a gap without a staleness marker
(a Prometheus restart, backfilled data), such a VictoriaMetrics counts the gap as unobserved
sooner: the report names the server and says so, never silently.
"""

from __future__ import annotations

import re
from typing import Final

import requests

from edgesla.report.inputs._client import MAX_POINTS_FLAG, PrometheusClient
from edgesla.report.inputs._counters import LOOKBACK, LOOKBACK_EDGE
from edgesla.report.model import DataIssue

__all__ = ["LAG_LOOKBACK_FLAG", "MAX_POINTS_FLAG", "describe", "duration_seconds"]

#: What the stack starts VictoriaMetrics with, and what docs/deploy.md tells operators.
_LOOKBACK_MS: Final = round((LOOKBACK + LOOKBACK_EDGE) * 1000)
LAG_LOOKBACK_FLAG: Final = f"-search.minStalenessInterval={_LOOKBACK_MS}ms"
_FLAG = re.compile(r'^flag\{name="search\.minStalenessInterval", value="([^"]*)"', re.MULTILINE)
_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def duration_seconds(text: str) -> float | None:
    """A Go duration (``5m0s``, ``300500ms``, ``0s``) in seconds; None when it is not one."""
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def describe(client: PrometheusClient, *, lag: bool) -> tuple[str, DataIssue | None]:
    """The source line (``Prometheus URL`` or ``VictoriaMetrics URL``), and, when ``lag``
    objectives are judged on a VictoriaMetrics with a shorter lookback, the issue saying so."""
    try:
        response = requests.get(f"{client.url}/metrics", timeout=10)
        text = response.text if response.status_code == 200 else ""
    except requests.RequestException:
        text = ""  # a proxy may hide it: the queries themselves tell whether the server answers
    if "vm_app_version" not in text:
        return f"Prometheus {client.url}", None
    source = f"VictoriaMetrics {client.url}"
    found = _FLAG.search(text)
    value = found.group(1) if found else "0s"
    seconds = duration_seconds(value)
    if not lag or (seconds is not None and seconds >= LOOKBACK):
        return source, None
    return source, DataIssue(
        "other",
        f"read from VictoriaMetrics at {client.url}, which runs with "
        f"-search.minStalenessInterval={value}: it holds a series' last sample for about two "
        "scrape intervals, not Prometheus's 5 minutes, so a replication-lag gap without a "
        "staleness marker (a Prometheus restart, backfilled data) counts as unobserved sooner "
        f"than on Prometheus; start it with {LAG_LOOKBACK_FLAG} for the same counts",
    )
