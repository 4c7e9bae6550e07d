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
