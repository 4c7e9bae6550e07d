"""Evidence for the SLA report: from Prometheus and from load-test results directories.

prometheus.py   one PoP, exact counts on raw samples: availability, latency, lag, pops
fleet.py        every PoP in a few queries, exact; resets and gaps fall back per PoP
loadtest.py     an ``edgesla loadtest`` results directory
_client.py      the Prometheus HTTP API client (errors -> ConfigError, exit 2)
_counters.py    pure counting: increases, resets, gaps, maintenance, downtime
"""

from __future__ import annotations

from edgesla.report.inputs import loadtest, prometheus, rollups
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs.fleet import FleetStats, availability_fleet

__all__ = [
    "FleetStats",
    "PrometheusClient",
    "availability_fleet",
    "loadtest",
    "prometheus",
    "rollups",
]
