"""loadtest_success and loadtest_latency: requests of ``edgesla loadtest`` runs.

Counted from the results directory: all events are the requests of the chosen operations,
good ones those that succeeded (availability) or that answered within the threshold, measured
from the *intended* start (latency: exact counters at the SLA thresholds, ``≤``).
"""

from __future__ import annotations

from edgesla.slo.sli._base import LoadTestSli, Words

__all__ = ["LOADTEST_LATENCY", "LOADTEST_SUCCESS"]

LOADTEST_SUCCESS = LoadTestSli(
    key="loadtest_success",
    kind="availability",
    words=Words(noun="requests", bounded="the true availability"),
)
LOADTEST_LATENCY = LoadTestSli(
    key="loadtest_latency",
    kind="latency",
    words=Words(noun="requests", bounded="the true share"),
)
