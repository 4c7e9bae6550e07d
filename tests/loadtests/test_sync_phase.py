"""The sync as a phase of a load test (edgesla.loadtests.sync_phase): its planned window from
the traffic model alone, a sync that does not fit refused before anything runs, and what a
real sync against the shared stack's stores did — or why it was not the one planned."""

from __future__ import annotations

import time

import pytest

from edgesla import ConfigError
from edgesla.config import load_config
from edgesla.loadtests.plan import endpoints_of
from edgesla.loadtests.sync_phase import SyncPhase, SyncPlan
from edgesla.stack.layout import Layout


def test_the_window_follows_from_the_share_the_rate_and_the_pop_size() -> None:
    plan = SyncPlan(at=30.0, share=0.2, rate=2000.0)
    assert plan.documents(100_000) == 20_000
    window = plan.window(100_000)
    assert (window.start, window.end) == (30.0, 40.0)
    assert SyncPlan(at=0.0, share=1e-9).documents(10) == 1  # never an empty sync


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        (SyncPlan(at=55.0), "would end 65.0 s into the run, after its end (60 s)"),
        (SyncPlan(at=0.0, share=1.5), "--sync-share: 1.5 is not in (0, 1]"),
        (SyncPlan(at=0.0, rate=0.0), "--sync-rate must be > 0"),
    ],
)
def test_a_sync_that_does_not_fit_is_refused(plan: SyncPlan, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", "\\(").replace(")", "\\)")):
        plan.check(100_000, 60.0)


def _phase(stack: Layout, plan: SyncPlan, subscribers: int, dsn: str | None = None) -> SyncPhase:
    ends = endpoints_of(load_config(stack.pop_config), str(stack.pop_config))
    mongo = (ends.mongo_uri, ends.mongo_database, ends.mongo_collection)
    return SyncPhase(plan, subscribers, dsn or ends.pg_dsns[0], mongo)


@pytest.mark.stack
def test_a_real_sync_writes_every_planned_document_and_row(stack: Layout) -> None:
    phase = _phase(stack, SyncPlan(at=0.2, share=0.1, rate=2000.0, batch=50), 3000)
    phase.run(time.perf_counter())
    done = phase.outcome()
    assert done.problems == ()
    assert (done.planned_documents, done.synced_documents, done.synced_rows) == (300, 300, 300)
    assert done.started_seconds is not None
    assert done.started_seconds >= 0.2
    assert done.ended_seconds is not None
    assert done.ended_seconds <= done.planned_end_seconds + 1.0


@pytest.mark.stack
def test_a_sync_that_cannot_reach_its_master_is_named(stack: Layout) -> None:
    dead = "postgresql://edgesla@127.0.0.1:1/edgesla?connect_timeout=1"
    phase = _phase(stack, SyncPlan(at=0.0, share=0.1), 100, dsn=dead)
    phase.run(time.perf_counter())
    (problem,) = phase.outcome().problems
    assert problem.startswith("the sync failed: OperationalError"), problem


def test_a_sync_that_never_began_is_named() -> None:
    phase = SyncPhase(SyncPlan(at=5.0), 1000, "postgresql://unused", ("", "", ""))
    assert phase.outcome().problems == ("the sync never began: the run ended first",)
