"""The master's reconciliation of final reports (edgesla.loadtests.collect) without Locust: each
"worker" below runs real schedule shares into a real Recorder and reports them as a worker
process does (edgesla.loadtests.run builds the same dictionaries)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from edgesla.loadtests.collect import Collector, PlanView
from edgesla.loadtests.histograms import Recorder, Totals
from edgesla.loadtests.ledger import Share, ShareKey, share_seed
from edgesla.loadtests.openmodel import LATE_AFTER_SECONDS
from edgesla.loadtests.plan import USER_CLASSES
from edgesla.loadtests.windows import SyncWindow, Windows
from edgesla.loadtests.wire import FINAL_FORMAT

SEED = 1234
DURATION = 20.0
USERS = {"CareUser": 3, "BillingUser": 2, "SelfCareWebUser": 0}
RATES = {"care_lookup": 6.0, "device_change": 3.0, "billing_write": 2.0}


def _rates(t: float) -> dict[str, float]:
    return dict(RATES)


PLAN = PlanView(
    rates=_rates,
    duration=DURATION,
    arrivals="poisson",
    users=USERS,
    schedule_seed=SEED,
    operations=tuple(RATES),
)


def _worker(
    index: int, shares: dict[str, list[int]], *, seed: int = SEED, stop_at: float | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a live report, the final report) of a worker running the given share ordinals;
    every 7th request fails; ``stop_at``: the worker was stopped there."""
    recorder = Recorder()
    ran: list[Share] = []
    n = 0
    for cls, ordinals in shares.items():
        for ordinal in ordinals:
            key = ShareKey(cls, index, ordinal)
            share = Share(
                key,
                share_seed(seed, key),
                _rates,
                USER_CLASSES[cls],
                USERS[cls],
                DURATION,
                "poisson",
            )
            end = DURATION if stop_at is None else stop_at
            while (taken := share.take()) is not None and taken[1].at < end:
                token, arrival = taken
                assert share.start(token, arrival.at, actual=arrival.at)
                assert share.finish(token)
                n += 1
                ok = n % 7 != 0
                at = arrival.at
                recorder.record(
                    arrival.operation, at, at, at + 0.002, ok=ok, cause=None if ok else "timeout"
                )
            if stop_at is not None:
                share.stop(stop_at, "the master stopped the run before the schedule's end")
            share.close(end + LATE_AFTER_SECONDS, "the run was stopped")
            ran.append(share)
    who = {"worker": f"gen_{index}", "index": index, "host": "gen", "pid": 100 + index}
    live = {
        **who, "elapsed": 5.0, "recorder": recorder.encode(),
        "shares": [s.key.encode() for s in ran], "cpu_percent": 12.0,
    }  # fmt: skip
    final = {
        **who, "format": FINAL_FORMAT, "schedule_seed": seed, "closed_at": DURATION + 0.01,
        "recorder": recorder.encode(), "shares": [s.encode() for s in ran],
        "cpu_samples": [10.0, 20.0], "problems": [],
    }  # fmt: skip
    return live, final


def _planned(final: dict[str, Any]) -> int:
    return sum(sum(s["planned"].values()) for s in final["shares"])


def _two_workers() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        _worker(0, {"CareUser": [0, 1], "BillingUser": [0]}),
        _worker(1, {"CareUser": [0], "BillingUser": [0]}),
    ]


def _collect(reports: list[tuple[dict[str, Any], dict[str, Any]]], finals: set[int]) -> Collector:
    collector = Collector(expected_workers=len(reports))
    for i, (live, final) in enumerate(reports):
        collector.expect(f"gen_{i}")
        collector.on_live(f"gen_{i}", live)
        if i in finals:
            collector.on_final(f"gen_{i}", final)
    return collector


def test_a_normal_run_reconciles_exactly() -> None:
    collector = _collect(_two_workers(), finals={0, 1})
    assert collector.all_final
    accounting = collector.accounting(PLAN, collector.merged())
    assert accounting.complete, accounting.problems
    results = collector.merged().results()
    for name, op in accounting.operations.items():
        assert op.planned == op.succeeded + op.failed_total + op.not_started_total, name
        assert op.unaccounted == 0
        assert (op.succeeded, op.failed) == (results[name].successes, dict(results[name].failures))
    # the master's own plan: every share regenerated from the seed, equal to the reports
    assert accounting.planned == sum(w.planned or 0 for w in accounting.workers)
    assert accounting.planned > 0
    assert [w.shares for w in accounting.workers] == [
        {"BillingUser": 1, "CareUser": 2},
        {"BillingUser": 1, "CareUser": 1},
    ]


def test_a_missing_final_report_names_the_worker_and_leaves_requests_unaccounted() -> None:
    reports = _two_workers()
    reports[1][0]["recorder"] = Recorder().encode()  # its last live report: nothing done yet
    collector = _collect(reports, finals={0})
    assert not collector.all_final
    assert [w.id for w in collector.pending()] == ["gen_1"]
    accounting = collector.accounting(PLAN, collector.merged())
    assert not accounting.complete
    name = "worker 1 (host gen, pid 101, id gen_1)"
    assert accounting.problems[0] == (
        f"{name}: sent no final report (its last live report came 5.0 s into its schedule)"
    )
    assert not accounting.workers[1].final_report
    # the master still knows that worker's shares (from its live report): their planned
    # requests are in the plan, and unaccounted for
    missing = sum(op.unaccounted for op in accounting.operations.values())
    assert missing == accounting.planned - (reports[0][1] and _planned(reports[0][1]))
    assert missing > 0
    assert any(
        p.endswith("(their worker's final report is missing or wrong)") for p in accounting.problems
    )


def test_a_worker_never_heard_of_is_missing_shares() -> None:
    reports = _two_workers()
    collector = Collector(expected_workers=2)
    _, final = reports[0]
    collector.on_final(final["worker"], final)
    accounting = collector.accounting(PLAN, collector.merged())
    assert "expected 2 workers, 1 took part; the others never connected" in accounting.problems
    assert (
        "CareUser: 2 of the 3 shares of the schedule reported; the requests of the others "
        "are missing"
    ) in accounting.problems


def test_a_final_report_of_another_run_is_caught() -> None:
    reports = _two_workers()
    reports[1] = _worker(1, {"CareUser": [0], "BillingUser": [0]}, seed=SEED + 1)
    collector = _collect(reports, finals={0, 1})
    accounting = collector.accounting(PLAN, collector.merged())
    problems = "\n".join(accounting.problems)
    assert f"ran schedule seed {SEED + 1}, the master's is {SEED}" in problems
    assert "share CareUser/1/0: its seed is not the one the plan gives that share" in problems
    assert any(op.unaccounted for op in accounting.operations.values())


def test_a_share_run_twice_and_an_unbalanced_ledger_are_caught() -> None:
    reports = _two_workers()
    _, final = reports[1]
    final["shares"] = final["shares"] + final["shares"][:1]  # CareUser/1/0 twice
    collector = _collect(reports, finals={0, 1})
    accounting = collector.accounting(PLAN, collector.merged())
    problems = "\n".join(accounting.problems)
    assert "share CareUser/1/0 of the schedule ran 2 times" in problems
    assert "its ledger does not balance" in problems


def test_a_run_stopped_early_is_incomplete_with_its_reason() -> None:
    reports = [_worker(0, {"CareUser": [0, 1, 2], "BillingUser": [0, 1]}, stop_at=8.0)]
    collector = _collect(reports, finals={0})
    accounting = collector.accounting(PLAN, collector.merged())
    assert not accounting.complete
    stopped = sum(op.not_started["stopped"] for op in accounting.operations.values())
    assert stopped > 0
    assert accounting.problems[0].startswith(
        f"{stopped} planned requests never started because the generator stopped before the "
        "schedule's end ("
    )
    assert accounting.problems[-1] == (
        "worker 0 (host gen, pid 100, id gen_0): 5 share(s) of the schedule stopped early: "
        "the master stopped the run before the schedule's end"
    )
    for op in accounting.operations.values():
        assert op.unaccounted == 0  # stopped early, but every request accounted for


def _negative_successes(recorder: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(recorder)
    broken["operations"]["care_lookup"]["successes"] = -1
    return broken


@pytest.mark.parametrize(
    ("mangle", "problem"),
    [
        (lambda f: f.pop("recorder"), "sent a malformed final report (recorder: Field required)"),
        (lambda f: f.update(worker="gen_9"), "sent a final report for another worker ('gen_9')"),
        (
            lambda f: f["recorder"]["operations"]["care_lookup"].update(successes=-1),
            "sent a malformed final report (operation 'care_lookup': successes: expected a "
            "count (integer >= 0), got -1)",
        ),
        (
            lambda f: f.update(windows={"during": f["recorder"]}),
            "sent a malformed final report (windows: unknown ['during']; known: "
            "['sync', 'outside'])",
        ),
        (
            lambda f: f.update(windows={"sync": _negative_successes(f["recorder"])}),
            "sent a malformed final report (operation 'care_lookup': successes: expected a "
            "count (integer >= 0), got -1)",
        ),
    ],
)
def test_a_malformed_final_report_is_a_problem_not_a_crash(mangle: Any, problem: str) -> None:
    reports = _two_workers()
    mangle(reports[1][1])
    collector = _collect(reports, finals={0, 1})
    assert not collector.all_final
    accounting = collector.accounting(PLAN, collector.merged())
    assert f"worker 1 (host gen, pid 101, id gen_1): {problem}" in accounting.problems


def test_a_worker_that_split_no_request_by_window_is_named() -> None:
    """With ``--sync-at`` every worker splits its requests by window; one that sends none
    (an older edgesla, or one that could not build the master's plan) is named: the windows
    could not add up."""
    reports = _two_workers()
    windows = Windows(SyncWindow(1.0, 2.0))
    windows.merge({"sync": {"operations": {}}, "outside": reports[0][1]["recorder"]})
    reports[0][1]["windows"] = windows.encode()
    collector = _collect(reports, finals={0, 1})
    assert collector.without_windows() == ["gen_1"]
    merged = collector.windows(SyncWindow(1.0, 2.0)).recorders["outside"].totals()
    assert merged.requests == Totals.of(reports[0][1]["recorder"]["operations"].values()).requests
