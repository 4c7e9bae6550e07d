"""loadtest_success and loadtest_latency: requests of ``edgesla loadtest`` runs.

Counted from the results directory: all events are the requests of the chosen operations,
good ones those that succeeded (availability) or that answered within the threshold, measured
from the *intended* start (latency: exact counters at the SLA thresholds, ``≤``).
"""

from __future__ import annotations

from edgesla.slo.sli._base import LoadTestSli, Words

__all__ = ["LOADTEST_LATENCY", "LOADTEST_SUCCESS", "MAX_LATE_START_RATIO", "generator_limit"]

#: More late starts than this share of the requests: the generator, not the target, was slow.
MAX_LATE_START_RATIO = 0.01


def generator_limit(
    cpu_saturated: bool, late_starts: int, requests: int, max_late: float = MAX_LATE_START_RATIO
) -> str | None:
    """Why the load generator itself may have been the bottleneck, or None when it kept up.

    The one rule of the load-test gate and the SLA report: a broken objective measured while
    this holds is INCONCLUSIVE, not FAIL — the generator, not the target, may be at fault.
    """
    late = late_starts / requests if requests else 0.0
    if not cpu_saturated and late <= max_late:
        return None
    why = []
    if cpu_saturated:
        why.append("its CPU was saturated")
    if late > max_late:
        why.append(f"{late:.1%} of the requests started late (more than {max_late:.0%})")
    return (
        "the load generator was the bottleneck: " + " and ".join(why) + "; add processes or "
        "hosts, or lower the rate, and run again"
    )


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
