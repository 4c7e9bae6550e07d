"""Evidence from an ``edgesla loadtest`` results directory (read with ``read_results``).

An empty or foreign directory is already a ``ConfigError`` (exit 2) from ``read_results``.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgesla import ConfigError
from edgesla.report.model import AvailabilityEvidence, DataIssue, LatencyEvidence
from loadtests.histograms import OperationResult
from loadtests.results import LoadTestResults

__all__ = ["availability", "latency"]


def _operations(
    results: LoadTestResults, operations: Sequence[str] | None
) -> list[tuple[str, OperationResult]]:
    names = sorted(results.operations) if operations is None else list(operations)
    if unknown := sorted(set(names) - set(results.operations)):
        raise ConfigError(
            f"{results.path}: no operation {unknown} in this run "
            f"(it has {sorted(results.operations)}); fix the operations in the SLO spec"
        )
    return [(name, results.operations[name]) for name in names]


def _source(results: LoadTestResults) -> str:
    return f"loadtest {results.path}"


def _empty(results: LoadTestResults, total: int) -> tuple[DataIssue, ...]:
    if total:
        return ()
    return (
        DataIssue(
            "missing_series",
            f"{results.path}: no requests recorded",
            results.meta.started_at,
            results.meta.ended_at,
        ),
    )


def availability(
    results: LoadTestResults, operations: Sequence[str] | None = None, *, sli: str = "requests"
) -> AvailabilityEvidence:
    """Good = successful requests, total = all requests of ``operations`` (all when None)."""
    ops = _operations(results, operations)
    good = sum(op.successes for _, op in ops)
    total = sum(op.requests for _, op in ops)
    return AvailabilityEvidence(
        sli=sli,
        pop=results.meta.pop or "loadtest",
        good=good,
        total=total,
        window_start=results.meta.started_at,
        window_end=results.meta.ended_at,
        issues=_empty(results, total),
        source=_source(results),
    )


def latency(
    results: LoadTestResults,
    threshold: float,
    operations: Sequence[str] | None = None,
    *,
    sli: str = "response_time",
) -> LatencyEvidence:
    """Successful requests slower than ``threshold`` (response time, from the intended start).

    Exact when the recorder kept a counter at the threshold (the SLA thresholds by default);
    otherwise the histogram's upper bracket is used (never understates) and an issue says so.
    """
    ops = _operations(results, operations)
    over = total = 0
    issues: list[DataIssue] = []
    cumulative: dict[float, int] = {}
    for name, op in ops:
        counted = op.over(threshold)
        over += counted.at_most
        total += counted.total
        if not counted.exact:
            issues.append(
                DataIssue(
                    "other",
                    f"{name}: no exact counter at {threshold:g} s; between {counted.at_least} "
                    f"and {counted.at_most} requests were slower, counted {counted.at_most}",
                )
            )
        for bucket in op.response.buckets:
            bound = bucket.high_us / 1_000_000
            cumulative[bound] = cumulative.get(bound, 0) + bucket.count
    running = 0
    buckets = []
    for bound in sorted(cumulative):
        running += cumulative[bound]
        buckets.append((bound, running))
    issues += _empty(results, total)
    return LatencyEvidence(
        sli, results.meta.pop or "loadtest", threshold, over, total, tuple(buckets),
        tuple(issues), _source(results),
    )  # fmt: skip
