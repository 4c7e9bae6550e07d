"""What the load-test stack tests check again and again: a reconciled run, people's output,
Locust's own counts, a running generator's /metrics, the Locust process under a CLI."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import psutil
import requests
from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
from edgesla.loadtests.results import LoadTestResults
from tests.helpers import eventually

__all__ = [
    "locust_child",
    "locust_counts",
    "people_output",
    "reconciled",
    "requests_served",
    "stop",
]


def reconciled(results: LoadTestResults) -> None:
    """Every planned request of every operation is accounted for, exactly."""
    accounting = results.accounting
    assert accounting is not None
    assert accounting.complete, accounting.problems
    for name, op in results.operations.items():
        account = accounting.operations[name]
        assert account.planned == op.successes + op.failed + account.not_started_total, name
        assert (account.succeeded, account.failed) == (op.successes, dict(op.failures)), name
        assert account.unaccounted == 0, name
        assert account.not_started["stopped"] == 0, name
    assert all(w.final_report for w in accounting.workers)
    # the master's plan (regenerated from the seed) is the sum of the workers' plans
    assert accounting.planned == sum(w.planned or 0 for w in accounting.workers)
    assert sum(sum(w.shares.values()) for w in accounting.workers) == sum(
        accounting.shares_planned.values()
    )


def locust_counts(out: Path) -> dict[str, int]:
    """Request counts per operation in Locust's own ``locust/stats_stats.csv``."""
    with (out / "locust" / "stats_stats.csv").open() as f:
        return {
            row["Name"]: int(row["Request Count"])
            for row in csv.DictReader(f)
            if row["Name"] != "Aggregated"
        }


def people_output(stderr: str) -> None:
    """What a person sees on stderr: progress lines, no tables, no tracebacks."""
    assert "Traceback" not in stderr, stderr
    assert "Error" not in stderr, stderr
    assert "# reqs" not in stderr  # Locust's stats table
    assert "Response time percentiles" not in stderr
    assert "spawn rate is very high" not in stderr  # spawning at once is the plan (the lead)
    assert "\r" not in stderr  # not a terminal: plain lines
    lines = [line for line in stderr.splitlines() if line.startswith("load test ")]
    assert lines, stderr
    assert " done | " in lines[-1]


def requests_served(listen: str) -> float:
    """Requests so far on a generator's /metrics (the master: its workers' live reports)."""
    try:
        text = requests.get(f"http://{listen}/metrics", timeout=2).text
    except requests.RequestException:
        return 0.0
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == conv.LOADTEST_REQUESTS_TOTAL
    )


def locust_child(cli: subprocess.Popen[str]) -> psutil.Process:
    """The Locust process an ``edgesla loadtest`` process runs (once it has started it)."""

    def child() -> psutil.Process | None:
        children = psutil.Process(cli.pid).children()
        return children[0] if children else None

    found: psutil.Process = eventually(child, timeout=30)
    return found


def stop(cli: subprocess.Popen[str]) -> None:
    """Kill an ``edgesla loadtest`` process and the Locust process under it, and reap both."""
    if cli.poll() is None:
        for child in psutil.Process(cli.pid).children(recursive=True):
            child.kill()
        cli.kill()
    cli.communicate(timeout=30)
