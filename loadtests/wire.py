"""What a process running users tells the master: live reports, and one final report.

Both travel over Locust's own master/worker channel (ZeroMQ, in order per worker):

* **live report** — under ``data["edgesla"]`` of every Locust ``stats`` message (every few
  seconds, ``events.report_to_master``): the worker's *whole* recorder so far, not a delta,
  so a lost or late message loses nothing and the master simply keeps the newest. It feeds
  the progress line and ``/metrics``, and is what the master has of a worker that vanishes.
* **final report** — one ``edgesla_final`` message (``runner.send_message``) when the worker
  has closed its ledger (``edgesla.loadtests.ledger``): its id, its complete recorder, every share's
  key, seed, planned and not-started counts, and its CPU samples. The master writes the
  results from final reports only, and waits for one from every worker it expects.

Just before the final report the worker flushes Locust's own statistics (a ``stats`` message),
so Locust's CSV/HTML on the master are complete too. The master tells a worker to finish
early with an ``edgesla_finish`` message (the run was stopped before the schedule's end).
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field, NonNegativeInt

from edgesla.loadtests.ledger import ShareKey
from edgesla.strict import Strict

__all__ = [
    "FINAL_FORMAT",
    "MSG_FINAL",
    "MSG_FINISH",
    "FinalReport",
    "LiveReport",
    "ShareReport",
]

FINAL_FORMAT: Final = "edgesla-final/1"
MSG_FINAL: Final = "edgesla_final"
MSG_FINISH: Final = "edgesla_finish"


class _Identity(Strict):
    #: Locust's client id of the worker (``host_uuid``); "local" for a single-process run
    worker: str = Field(min_length=1)
    #: Locust's worker index (0-based, given by the master)
    index: int
    host: str
    pid: int


class LiveReport(_Identity):
    #: seconds into this worker's schedule when the report was taken (None: not started)
    elapsed: float | None
    #: ``Recorder.encode()`` of everything recorded so far
    recorder: dict[str, Any]
    shares: list[tuple[str, int, int]]
    cpu_percent: float | None


class ShareReport(Strict):
    key: tuple[str, int, int]
    seed: int
    planned: dict[str, NonNegativeInt]
    not_started: dict[str, dict[Literal["late", "stopped"], NonNegativeInt]]
    note: str | None

    @property
    def share_key(self) -> ShareKey:
        return ShareKey(*self.key)

    def not_started_total(self, operation: str) -> int:
        return sum(self.not_started.get(operation, {}).values())


class FinalReport(_Identity):
    format: Literal["edgesla-final/1"]
    #: the run's schedule seed as this worker knew it (the master's, forwarded by Locust)
    schedule_seed: int | None
    #: seconds into this worker's schedule when its ledger closed
    closed_at: float
    recorder: dict[str, Any]
    #: with a sync (``--sync-at``): ``Windows.encode()``, the same requests by window
    windows: dict[str, dict[str, Any]] = Field(default_factory=dict)
    shares: list[ShareReport]
    cpu_samples: list[float]
    #: what the worker itself found wrong with its ledger (empty when it balances)
    problems: list[str]
