"""Locust's own statistics of the run, written once when it is over, into ``locust/``.

Locust's ``--csv`` writer rewrites its files every second from a greenlet that can outlive
them (the ``ValueError: I/O operation on closed file`` traceback at the end of a run) and may
miss the workers' last reports. These are written by Locust's own classes instead — the same
files its web UI offers for download — after every final report is in, so they hold the whole
run: ``stats_stats.csv``, ``stats_failures.csv``, ``stats_exceptions.csv`` and ``report.html``
(its charts hold the history over time). They are Locust's rounded figures, for comparison;
verdicts use the exact histograms.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from locust import html
from locust.env import Environment
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from edgesla.loadtests.results import LOCUST_FILES

__all__ = ["write_locust_files"]


def write_locust_files(environment: Environment, directory: Path) -> None:
    """Write Locust's CSVs and HTML report of ``environment`` into a new ``directory``."""
    directory.mkdir(parents=True)
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for name, write in zip(
        LOCUST_FILES,
        (writer.requests_csv, writer.failures_csv, writer.exceptions_csv),
        strict=False,
    ):
        with (directory / name).open("w", newline="", encoding="utf-8") as f:
            write(csv.writer(f))
    report: Any = html.get_html_report  # untyped in Locust
    (directory / "report.html").write_text(
        report(environment, show_download_link=False), encoding="utf-8"
    )
