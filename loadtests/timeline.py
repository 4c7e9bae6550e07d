"""The timeline of one load-test run, in seconds; shared by the runner and ``edgesla loadtest``.

    test start ── LEAD ──┬── schedule (duration) ──┬── DRAIN ──┬── FINAL_REPORT_WAIT ──┐
                         first slot                last slot   │                      │
                                                   no request starts after this       │
                                          each users' process closes its ledger and   │
                                          sends its final report, at the latest here  │
                                                   the master gives up on a missing   ┘
                                                   worker here: the run is INCOMPLETE

A normal run ends as soon as every expected final report is in (a few milliseconds after the
last request returned); the drain and the wait only bound how long a stuck request or a lost
worker can hold the run up. Importing this module imports neither Locust nor gevent.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DRAIN_SECONDS",
    "FINAL_REPORT_WAIT_SECONDS",
    "LEAD_SECONDS",
    "METRICS_LINGER_SECONDS",
    "run_time_bound",
]

#: Seconds between the run's start and the first scheduled request (users connect meanwhile).
LEAD_SECONDS: Final = 1.0
#: Seconds a request still in flight at the schedule's end may take to return; one that has
#: not returned by then is counted as failed, cause ``unfinished``.
DRAIN_SECONDS: Final = 3.0
#: Seconds the master waits, after the drain, for a worker's final report before it names the
#: worker missing and the run INCOMPLETE.
FINAL_REPORT_WAIT_SECONDS: Final = 10.0
#: With ``--metrics-listen``: seconds /metrics stays up after the results are written, so a
#: scraper can read the final counts (the run itself ends as soon as the last report is in).
METRICS_LINGER_SECONDS: Final = 3.0


def run_time_bound(schedule_seconds: float) -> float:
    """Locust's ``-t`` for a schedule: a hard upper bound, past every wait (plus a margin)."""
    return LEAD_SECONDS + schedule_seconds + DRAIN_SECONDS + FINAL_REPORT_WAIT_SECONDS + 5.0
