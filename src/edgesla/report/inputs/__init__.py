"""Evidence for the SLA report: from Prometheus and from load-test results directories.

engine.py       one entry point per objective: the evidence of every PoP, fleet or per PoP
fleet.py        counters fleet-wide in a few queries, exact (``scan``, ``rollups``, ``slices``)
prometheus.py   one PoP, exact counts on every raw sample: the reference path
lag.py          replication lag on a fixed step grid, fleet-wide or per PoP
loadtest.py     an ``edgesla loadtest`` results directory
_client.py      the Prometheus HTTP API client (errors -> ConfigError, exit 2)
_counters.py    pure counting: increases, resets, gaps, maintenance, downtime
_evidence.py    counted parts -> evidence, the same words on both paths
store.py        which server answers (Prometheus or VictoriaMetrics), and a caveat to say
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgesla.report.inputs import lag, loadtest, prometheus, rollups
    from edgesla.report.inputs._client import PrometheusClient
    from edgesla.report.inputs.fleet import FleetStats, availability_fleet, latency_fleet

__all__ = [
    "FleetStats",
    "PrometheusClient",
    "availability_fleet",
    "lag",
    "latency_fleet",
    "loadtest",
    "prometheus",
    "rollups",
]

#: Where each name lives, imported on first use: a caller of one input (``rules`` needs
#: ``rollups``) does not load the others (``loadtest`` brings numpy, ``lag`` an HTTP client).
_HOMES = {
    "FleetStats": "edgesla.report.inputs.fleet",
    "PrometheusClient": "edgesla.report.inputs._client",
    "availability_fleet": "edgesla.report.inputs.fleet",
    "latency_fleet": "edgesla.report.inputs.fleet",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
