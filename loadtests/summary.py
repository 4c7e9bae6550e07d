"""The derived summaries of a results directory: ``summary.json`` and ``summary.txt``.

Both are computed from the operation files and the accounting (``accounting.json``), which stay
the source of truth; ``summary.txt`` is also what ``edgesla loadtest`` prints at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from edgesla.loadtests.accounting import RunAccounting
from edgesla.loadtests.histograms import LatencySummary, OperationResult

#: the results format (``edgesla.loadtests.results.FORMAT``): summary.json carries it too
FORMAT = "edgesla-loadtest/2"

if TYPE_CHECKING:
    from edgesla.loadtests.results import RunMeta, SyncResults

__all__ = ["format_summary", "summarize", "utc_text"]


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _latency_json(summary: LatencySummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "p50": summary.p50,
        "p90": summary.p90,
        "p99": summary.p99,
        "p99_9": summary.p99_9,
        "max": summary.max,
    }


def summarize(
    meta: RunMeta,
    operations: Mapping[str, OperationResult],
    accounting: RunAccounting | None = None,
    sync: SyncResults | None = None,
) -> dict[str, Any]:
    """The content of ``summary.json``: derived, per-operation figures in seconds."""
    elapsed = meta.elapsed_seconds
    out: dict[str, Any] = {}
    for name, op in sorted(operations.items()):
        thresholds = sorted(op.exact_over["response"])
        account = accounting.operations.get(name) if accounting else None
        out[name] = {
            "planned": account.planned if account else None,
            "not_started": dict(account.not_started) if account else None,
            "unaccounted": account.unaccounted if account else None,
            "target_rate_per_second": meta.target_rates.get(name),
            "achieved_rate_per_second": op.requests / elapsed if elapsed > 0 else None,
            "requests": op.requests,
            "successes": op.successes,
            "failures": op.failed,
            "failures_by_cause": dict(op.failures),
            "error_ratio": op.error_ratio,
            "late_starts": op.late_starts,
            "response_time_seconds": _latency_json(op.response.summary()),
            "service_time_seconds": _latency_json(op.service.summary()),
            "over_threshold": {
                f"{t / 1e6:g}": {
                    kind: {"count": (o := op.over(t / 1e6, kind)).at_least, "of": o.total}
                    for kind in ("response", "service")
                }
                for t in thresholds
            },
        }
    return {
        "format": FORMAT,
        "complete": None if accounting is None else accounting.complete,
        "problems": [] if accounting is None else list(accounting.problems),
        "elapsed_seconds": elapsed,
        "operations": out,
        **({"sync": _sync_json(sync)} if sync is not None else {}),
    }


def _sync_json(sync: SyncResults) -> dict[str, Any]:
    """Per window and operation: requests, failures, late starts, response time."""
    return {
        "problems": list(sync.sync.problems),
        "windows": {
            window: {
                name: {
                    "requests": op.requests,
                    "failures": op.failed,
                    "late_starts": op.late_starts,
                    "response_time_seconds": _latency_json(op.response.summary()),
                }
                for name, op in sorted(ops.items())
            }
            for window, ops in sync.windows.items()
        },
    }


def _sync_lines(sync: SyncResults) -> list[str]:
    """The sync, and each operation's response time during it beside outside it."""
    s = sync.sync
    ran = (
        f"ran {s.started_seconds:.1f}–{s.ended_seconds:.1f} s"
        if s.started_seconds is not None and s.ended_seconds is not None
        else "did not run to its end"
    )
    lines = [
        "",
        f"sync: {s.planned_documents:,} documents ({s.share * 100:g}% of the subscribers) at "
        f"{s.rate_per_second:g}/s, planned {s.planned_start_seconds:.1f}–"
        f"{s.planned_end_seconds:.1f} s of the schedule, {ran}; {s.synced_documents:,} "
        f"documents and {s.synced_rows:,} master rows written",
    ]
    if s.problems:
        lines.append("sync: INCONCLUSIVE, not the sync planned:")
        lines += [f"  - {problem}" for problem in s.problems]
    lines.append(
        f"{'response time':<24} {'window':<8} {'requests':>9} {'errors':>8} {'late':>6} "
        f"{'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    )
    names = sorted({name for ops in sync.windows.values() for name in ops})
    for name in names:
        label = name
        for window, ops in sync.windows.items():
            op = ops[name]
            if not op.requests:
                continue
            r = op.response.summary()
            lines.append(
                f"{label:<24} {'during' if window == 'sync' else window:<8} {op.requests:>9} "
                f"{op.failed:>8} {op.late_starts:>6} {_ms(r.p50):>9} {_ms(r.p99):>9} "
                f"{_ms(r.max):>9}"
            )
            label = ""
    return lines


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.3f}"


def _accounting_lines(accounting: RunAccounting) -> list[str]:
    """Where every planned request went, per operation, and what is missing."""
    lines = []
    for name, op in sorted(accounting.operations.items()):
        ns = op.not_started
        parts = [
            f"{op.succeeded} succeeded",
            f"{op.failed_total} failed",
            f"{op.not_started_total} not started "
            f"(late {ns.get('late', 0)}, stopped {ns.get('stopped', 0)})",
        ]
        if op.unaccounted:
            parts.append(f"{op.unaccounted} UNACCOUNTED")
        lines.append(f"{name}: {op.planned} planned = {' + '.join(parts)}")
    return lines


def format_summary(
    meta: RunMeta,
    operations: Mapping[str, OperationResult],
    accounting: RunAccounting | None = None,
    sync: SyncResults | None = None,
) -> str:
    """The human summary (``summary.txt``), also what the runner prints at the end."""
    hosts = ", ".join(f"{g.host} ({g.processes} proc)" for g in meta.generators)
    pop = f", PoP {meta.pop}" if meta.pop else ""
    lines = [f"edgesla load test: profile {meta.profile}{pop}"]
    if accounting is not None and not accounting.complete:
        lines.append("INCOMPLETE: these results cannot back a verdict (exit 3); what is missing:")
        lines += [f"  - {problem}" for problem in accounting.problems]
    lines += [
        f"{utc_text(meta.started_at)} .. {utc_text(meta.ended_at)} "
        f"({meta.elapsed_seconds:.1f} s of {meta.duration_seconds:g} s planned); "
        f"generators: {hosts}",
    ]
    health = meta.health
    if health.ok:
        lines.append("generator health: ok")
    else:
        problems = [
            *(["CPU saturated"] if health.cpu_saturated else []),
            *(["too few users"] if health.too_few_users else []),
        ]
        lines.append(
            f"generator health: WARNING {', '.join(problems)}: latencies and late starts "
            "may be the load generator's, not the target's"
        )
    lines += [f"  note: {note}" for note in health.notes]
    lines.append("")
    header = (
        f"{'operation':<24} {'target/s':>9} {'achieved/s':>10} {'requests':>9} {'errors':>8} "
        f"{'late':>6}  {'kind':<8} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'p99.9 ms':>9} "
        f"{'max ms':>9}"
    )
    lines.append(header)
    elapsed = meta.elapsed_seconds
    for name, op in sorted(operations.items()):
        target = meta.target_rates.get(name)
        achieved = op.requests / elapsed if elapsed > 0 else None
        cells = (
            f"{name:<24} {'-' if target is None else f'{target:.1f}':>9} "
            f"{'-' if achieved is None else f'{achieved:.1f}':>10} {op.requests:>9} "
            f"{op.failed:>8} {op.late_starts:>6}"
        )
        for kind, dist in (("response", op.response), ("service", op.service)):
            s = dist.summary()
            figures = " ".join(f"{_ms(v):>9}" for v in (s.p50, s.p90, s.p99, s.p99_9, s.max))
            lines.append(f"{cells}  {kind:<8} {figures}")
            cells = " " * len(cells)
    lines.append("")
    lines.append("response = from the intended start (includes waiting for a late start);")
    lines.append("service = from the actual start. Percentiles: successful requests, <0.1 % high.")
    if sync is not None:
        lines += _sync_lines(sync)
        lines.append("")
    if accounting is not None:
        verdict = (
            "every planned request is accounted for"
            if accounting.complete
            else ("NOT every planned request is accounted for")
        )
        workers = sum(w.final_report for w in accounting.workers)
        lines.append(
            f"accounting: {verdict} (final reports from {workers} of "
            f"{max(len(accounting.workers), accounting.expected_workers)} worker(s)):"
        )
        lines += [f"  {line}" for line in _accounting_lines(accounting)]
    for name, op in sorted(operations.items()):
        if op.failures:
            causes = ", ".join(f"{cause} {n}" for cause, n in op.failures.items())
            lines.append(f"failures of {name}: {causes}")
        for t in sorted(op.exact_over["response"]):
            over = op.over(t / 1e6)
            share = over.share_at_least
            pct = "-" if share is None else f"{share:.3%}"
            lines.append(f"{name}: {over.at_least} of {over.total} over {t / 1000:g} ms ({pct})")
    return "\n".join(lines) + "\n"
