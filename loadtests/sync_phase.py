"""A core→edge batch sync as a phase of a load test (``edgesla loadtest --sync-at``).

    plan = SyncPlan(at=30.0, share=0.2, rate=2000.0)
    plan.window(subscribers)                    every process, before the run
    phase = SyncPhase(plan, subscribers, dsn, mongo)   the process that writes the results
    phase.run(schedule_start); phase.outcome()  -> results_format.SyncFile

The seed syncs master data from the core to the edge in batch windows and warns that the sync
costs the NoSQL store read/write performance. With a sync on top of the schedule, the run's
requests are also counted by window (``windows``): the lookups' latency during the sync beside
the latency outside it, from the same requests the run is judged on.

The sync writes ``share`` x the PoP's subscribers documents — the traffic model's
``pop.subscribers`` (what ``--subscribers`` sets), so every process knows the window without
asking the store — drawn from the store's subscriber ids (cycled when it holds fewer), in
batches of ``batch`` at ``rate`` documents/s from ``at`` seconds into the schedule, and
rewrites each batch's master rows on the first PostgreSQL master (``sync.write_batches``, the
writer of ``edgesla scenario sync``). ``run`` never raises: what kept the sync from being the
one planned (a batch refused, a store unreachable, a sync that ran past its planned window or
was cut short) is named in ``problems``, and makes the run INCONCLUSIVE (exit 3).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Final

import pymongo

from edgesla import ConfigError
from edgesla.loadtests.results_format import SyncFile
from edgesla.loadtests.summary import FORMAT
from edgesla.loadtests.sync import Batches, subscriber_ids, write_batches
from edgesla.loadtests.windows import SyncWindow

__all__ = ["OVERRUN_SECONDS", "SyncPhase", "SyncPlan"]

#: A sync that ends this much after its planned window ran into what counts as ``outside``.
OVERRUN_SECONDS: Final = 1.0


@dataclass(frozen=True)
class SyncPlan:
    at: float  #: seconds into the schedule
    share: float = 0.2  #: of the PoP's subscribers
    rate: float = 2000.0  #: documents per second
    batch: int = 500  #: documents per bulk upsert

    def documents(self, subscribers: int) -> int:
        return max(1, round(self.share * subscribers))

    def window(self, subscribers: int) -> SyncWindow:
        return SyncWindow(self.at, self.at + self.documents(subscribers) / self.rate)

    def check(self, subscribers: int, schedule_seconds: float) -> None:
        """ConfigError (exit 2) unless the sync fits in the schedule."""
        if not 0 < self.share <= 1:
            raise ConfigError(f"--sync-share: {self.share:g} is not in (0, 1]")
        if self.rate <= 0 or self.at < 0:
            raise ConfigError("--sync-rate must be > 0 and --sync-at >= 0")
        end = self.window(subscribers).end
        if end > schedule_seconds:
            raise ConfigError(
                f"--sync-at {self.at:g}s: the sync of {self.documents(subscribers):,} documents "
                f"({self.share:g} of {subscribers:,} subscribers) at {self.rate:g}/s would end "
                f"{end:.1f} s into the run, after its end ({schedule_seconds:g} s); lengthen "
                "--duration, start it earlier, or lower --sync-share / raise --sync-rate"
            )


class SyncPhase:
    """The sync of one run; ``outcome()`` is what it did so far (also when cut short)."""

    def __init__(self, plan: SyncPlan, subscribers: int, dsn: str, mongo: Any) -> None:
        self.plan = plan
        self.planned = plan.documents(subscribers)
        self.window = plan.window(subscribers)
        self._dsn = dsn
        #: (uri, database, collection) of the subscriber store
        self._mongo = mongo
        self._done = Batches()
        self._started: float | None = None
        self._ended: float | None = None
        self._finished = False
        self._problems: list[str] = []

    def run(self, schedule_start: float) -> None:
        """Read the ids now (during the lead), then sync from ``schedule_start + at``."""
        try:
            ids = subscriber_ids(self._dsn)
            if not ids:
                self._problems.append("the first PostgreSQL master holds no subscriber to sync")
                return
            random.Random(0).shuffle(ids)
            chosen = [ids[i % len(ids)] for i in range(self.planned)]
            due = schedule_start + self.plan.at
            time.sleep(max(0.0, due - time.perf_counter()))
            uri, database, collection = self._mongo
            client: pymongo.MongoClient[dict[str, Any]]
            with pymongo.MongoClient(
                uri, serverSelectionTimeoutMS=5000, timeoutMS=10_000, directConnection=True
            ) as client:
                self._started = time.perf_counter() - schedule_start
                coll: Any = client[database][collection]
                write_batches(
                    coll, self._dsn, chosen, self.plan.rate, self.plan.batch, due, self._done
                )
                self._finished = True
        except Exception as exc:  # a store unreachable: named, the run goes on
            self._problems.append(f"the sync failed: {type(exc).__name__}: {exc}"[:300])
        finally:
            if self._started is not None:
                self._ended = time.perf_counter() - schedule_start

    def outcome(self) -> SyncFile:
        done, window = self._done, self.window
        problems = list(self._problems)
        if done.failed:
            problems.append(f"{len(done.failed)} batch(es) failed (failed_batches)")
        if self._started is None and not problems:
            problems.append("the sync never began: the run ended first")
        elif self._started is not None and not self._finished and not problems:
            problems.append(
                f"the sync fell behind: {done.synced_documents:,} of {self.planned:,} documents "
                f"written when the run ended (planned to end {window.end:.1f} s into the run)"
            )
        elif self._ended is not None and self._ended > window.end + OVERRUN_SECONDS:
            problems.append(
                f"the sync ended {self._ended - window.end:.1f} s after its planned window: "
                "requests after the window were partly during the sync"
            )
        if done.synced_documents < self.planned and not problems:
            problems.append(f"{done.synced_documents:,} of {self.planned:,} documents synced")
        return SyncFile(
            format=FORMAT,
            share=self.plan.share,
            rate_per_second=self.plan.rate,
            batch=self.plan.batch,
            planned_documents=self.planned,
            planned_start_seconds=window.start,
            planned_end_seconds=window.end,
            started_seconds=self._started,
            ended_seconds=self._ended,
            synced_documents=done.synced_documents,
            synced_rows=done.synced_rows,
            failed_batches=tuple(done.failed),
            problems=tuple(problems),
        )
