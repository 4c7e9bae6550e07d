"""Shared by the benchmark scripts: a private local stack, running commands, reading CSVs."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

EDGESLA = str(Path(sys.executable).parent / "edgesla")
LOCUST = [sys.executable, "-m", "locust"]
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"


def unpack_revision(revision: str, into: Path) -> Path:
    """The tree of git ``revision`` of this repository, unpacked into ``into`` (a baseline)."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


@contextmanager
def private_stack(base_port: int, subscribers: int = 2000) -> Iterator[dict[str, Any]]:
    """A stack of its own (ports base..base+11), stopped afterwards; yields `stack status`."""
    state = Path(tempfile.mkdtemp(prefix="edgesla-bench-", dir="/tmp"))
    state.chmod(0o755)
    try:
        subprocess.run(
            [
                EDGESLA,
                "stack",
                "up",
                "--state-dir",
                str(state),
                "--base-port",
                str(base_port),
                "--subscribers",
                str(subscribers),
            ],
            check=True,
            capture_output=True,
        )
        status = subprocess.run(
            [EDGESLA, "stack", "status", "--state-dir", str(state), "--json"],
            check=True,
            capture_output=True,
            text=True,
        )
        yield json.loads(status.stdout)
    finally:
        subprocess.run(
            [EDGESLA, "stack", "down", "--state-dir", str(state)], check=False, capture_output=True
        )
        shutil.rmtree(state, ignore_errors=True)


def stock_locust(user_class: str, users: int, seconds: float, csv_prefix: Path | str) -> list[str]:
    """The command line of a headless stock-Locust run (benchmarks/stock_locust.py)."""
    return [
        *LOCUST, "-f", str(HERE / "stock_locust.py"), user_class, "--headless",
        "-u", str(users), "-r", str(users), "-t", f"{seconds:g}s",
        "--csv", str(csv_prefix), "--only-summary",
    ]  # fmt: skip


def component(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in status["components"] if c["name"] == name)


def locust_row(csv_prefix: Path, name: str) -> dict[str, str]:
    with Path(f"{csv_prefix}_stats.csv").open() as f:
        return next(row for row in csv.DictReader(f) if row["Name"] == name)


def save(name: str, data: Any) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def env_with(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}
