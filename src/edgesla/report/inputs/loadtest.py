"""Evidence from ``edgesla loadtest`` results directories (read with ``read_results``).

Several runs of one PoP are pooled: one result per objective, counts added, every run named
as a source. Each piece of evidence carries its runs' context:

* **the generator's health**: when any pooled run's generator was the bottleneck (the one
  rule of ``slo.sli.loadtest.generator_limit``, the load-test gate's too), a broken objective
  is INCONCLUSIVE, not FAIL — the generator, not the target, may be at fault;
* **planned operations that never ran**: an operation the run planned (a target rate above 0)
  with no request is named, and an objective over all operations cannot PASS without it;
* **a sync on top of the load** (``edgesla loadtest --sync-at``): the judged requests by
  window, during the sync and outside it (``LatencyEvidence.windows``), and a sync that was
  not the one planned named as a data issue.

An empty or foreign directory is already a ``ConfigError`` (exit 2) from ``read_results``.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgesla import ConfigError
from edgesla.loadtests.histograms import OperationResult
from edgesla.loadtests.results import LoadTestResults
from edgesla.loadtests.windows import WINDOW_NAMES
from edgesla.report.model import AvailabilityEvidence, DataIssue, LatencyEvidence, WindowLatency
from edgesla.slo.sli.loadtest import (
    LOADTEST_LATENCY,
    LOADTEST_SUCCESS,
    MAX_LATE_START_RATIO,
    generator_limit,
)

__all__ = ["availability", "latency", "pool_by_pop"]


def pool_by_pop(runs: Sequence[LoadTestResults]) -> dict[str, list[LoadTestResults]]:
    """The runs of each PoP, in the order given."""
    out: dict[str, list[LoadTestResults]] = {}
    for run in runs:
        out.setdefault(run.meta.pop or "loadtest", []).append(run)
    return out


def _operations(
    runs: Sequence[LoadTestResults], operations: Sequence[str] | None
) -> list[tuple[str, OperationResult]]:
    pairs = []
    for run in runs:
        names = sorted(run.operations) if operations is None else list(operations)
        if unknown := sorted(set(names) - set(run.operations)):
            raise ConfigError(
                f"{run.path}: no operation {unknown} in this run "
                f"(it has {sorted(run.operations)}); fix the operations in the SLO spec"
            )
        pairs += [(name, run.operations[name]) for name in names]
    return pairs


def _source(runs: Sequence[LoadTestResults]) -> str:
    return "; ".join(f"loadtest {run.path}" for run in runs)


def _context(
    runs: Sequence[LoadTestResults],
    operations: Sequence[str] | None,
    total: int,
    max_late: float,
) -> list[DataIssue]:
    """No requests; planned operations that never ran; the generator as the bottleneck."""
    issues: list[DataIssue] = []
    start = min(run.meta.started_at for run in runs)
    end = max(run.meta.ended_at for run in runs)
    if not total:
        where = ", ".join(str(run.path) for run in runs)
        issues.append(DataIssue("missing_series", f"{where}: no requests recorded", start, end))
    for run in runs:
        wanted = operations if operations is not None else sorted(run.meta.target_rates)
        silent = [
            f"{name} ({run.meta.target_rates[name]:g} req/s planned)"
            for name in wanted
            if run.meta.target_rates.get(name, 0) > 0
            and (name not in run.operations or run.operations[name].requests == 0)
        ]
        if silent:
            issues.append(
                DataIssue(
                    "missing_series",
                    f"{run.path}: planned but never run: {', '.join(silent)}",
                    run.meta.started_at,
                    run.meta.ended_at,
                )
            )
        if run.sync is not None and run.sync.sync.problems:
            issues.append(
                DataIssue(
                    "other",
                    f"{run.path}: the sync was not the one planned, so its window's figures "
                    f"are not what they claim: {'; '.join(run.sync.sync.problems)}",
                    run.meta.started_at,
                    run.meta.ended_at,
                )
            )
        requests = sum(op.requests for op in run.operations.values())
        late = sum(op.late_starts for op in run.operations.values())
        why = generator_limit(run.meta.health.cpu_saturated, late, requests, max_late)
        if why is not None:
            issues.append(
                DataIssue("generator", f"{run.path}: {why}", run.meta.started_at, run.meta.ended_at)
            )
    return issues


def availability(
    runs: LoadTestResults | Sequence[LoadTestResults],
    operations: Sequence[str] | None = None,
    *,
    sli: str = LOADTEST_SUCCESS.key,
    max_late_start_ratio: float = MAX_LATE_START_RATIO,
) -> AvailabilityEvidence:
    """Good = successful requests, total = all requests of ``operations`` (all when None),
    over every run given (one PoP's)."""
    pooled = [runs] if isinstance(runs, LoadTestResults) else list(runs)
    ops = _operations(pooled, operations)
    good = sum(op.successes for _, op in ops)
    total = sum(op.requests for _, op in ops)
    return AvailabilityEvidence(
        sli=sli,
        pop=pooled[0].meta.pop or "loadtest",
        good=good,
        total=total,
        window_start=min(run.meta.started_at for run in pooled),
        window_end=max(run.meta.ended_at for run in pooled),
        issues=tuple(_context(pooled, operations, total, max_late_start_ratio)),
        source=_source(pooled),
    )


def latency(
    runs: LoadTestResults | Sequence[LoadTestResults],
    threshold: float,
    operations: Sequence[str] | None = None,
    *,
    sli: str = LOADTEST_LATENCY.key,
    max_late_start_ratio: float = MAX_LATE_START_RATIO,
) -> LatencyEvidence:
    """Successful requests slower than ``threshold`` (response time, from the intended start),
    over every run given.

    Exact when the recorder kept a counter at the threshold (the SLA thresholds by default);
    otherwise the histogram's upper bracket is used (never understates) and an issue says so.
    """
    pooled = [runs] if isinstance(runs, LoadTestResults) else list(runs)
    ops = _operations(pooled, operations)
    over, total, buckets = _over(ops, threshold)
    issues: list[DataIssue] = []
    for name, op in ops:
        if not (counted := op.over(threshold)).exact:
            issues.append(
                DataIssue(
                    "other",
                    f"{name}: no exact counter at {threshold:g} s; between {counted.at_least} "
                    f"and {counted.at_most} requests were slower, counted {counted.at_most}",
                )
            )
    issues += _context(pooled, operations, total, max_late_start_ratio)
    seconds = sum(run.meta.duration_seconds for run in pooled)
    return LatencyEvidence(
        sli,
        pooled[0].meta.pop or "loadtest",
        threshold,
        over,
        total,
        tuple(buckets),
        tuple(issues),
        _source(pooled),
        period_seconds=seconds,
        windows=_windows(pooled, operations, threshold),
    )


def _over(
    ops: Sequence[tuple[str, OperationResult]], threshold: float
) -> tuple[int, int, tuple[tuple[float, int], ...]]:
    """Requests over ``threshold`` (the upper bracket when no counter is exact), all
    requests, and the cumulative response-time buckets of the successful ones."""
    over = total = 0
    cumulative: dict[float, int] = {}
    for _, op in ops:
        counted = op.over(threshold)
        over += counted.at_most
        total += counted.total
        for bucket in op.response.buckets:
            bound = bucket.high_us / 1_000_000
            cumulative[bound] = cumulative.get(bound, 0) + bucket.count
    running, buckets = 0, []
    for bound in sorted(cumulative):
        running += cumulative[bound]
        buckets.append((bound, running))
    return over, total, tuple(buckets)


def _windows(
    runs: Sequence[LoadTestResults], operations: Sequence[str] | None, threshold: float
) -> tuple[WindowLatency, ...]:
    """The judged requests by window, when every run pooled had a sync (``--sync-at``)."""
    synced = [(run, run.sync) for run in runs if run.sync is not None]
    if not runs or len(synced) < len(runs):
        return ()
    out = []
    for window in WINDOW_NAMES:
        parts = [
            (name, sync.windows[window][name])
            for run, sync in synced
            for name, _ in _operations([run], operations)
        ]
        out.append(WindowLatency(window, *_over(parts, threshold)))
    return tuple(out)
