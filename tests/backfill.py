"""A real Prometheus on backfilled data: write OpenMetrics, ``promtool tsdb
create-blocks-from openmetrics``, serve the blocks (and optionally record rules over them
with ``promtool tsdb create-blocks-from rules``, as a Prometheus with the rules loaded would
have recorded them while scraping)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import yaml

__all__ = ["backfill", "serve", "served_backfill"]


def _free_port(ports: Sequence[int]) -> int:
    for candidate in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", candidate)) != 0:
                return candidate
    raise RuntimeError(f"no free port in {ports[0]}..{ports[-1]}")


def backfill(root: Path, text: str, *, max_block: str = "2h") -> Path:
    """``root/tsdb`` made from OpenMetrics ``text`` (``max_block``: promtool's
    --max-block-duration; long blocks make a month of data one pass)."""
    source = root / "data.om"
    source.write_text(text, encoding="utf-8")
    tsdb = root / "tsdb"
    subprocess.run(
        [
            "promtool",
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            f"--max-block-duration={max_block}",
            str(source),
            str(tsdb),
        ],
        check=True,
        capture_output=True,
    )
    source.unlink()
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n", encoding="utf-8")
    return tsdb


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"prometheus at {url} not ready within 30 s")


@contextmanager
def serve(root: Path, tsdb: Path, ports: Sequence[int]) -> Iterator[str]:
    """Prometheus on ``tsdb`` (retention 100y), its URL while the block runs. Queries may
    take long (a busy test machine, promtool evaluating a month of rules): no 2-min cut."""
    port = _free_port(ports)
    url = f"http://127.0.0.1:{port}"
    with (root / "prometheus.log").open("ab") as log:
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={tsdb}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=100y",
                "--query.timeout=30m",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(url, proc, root / "prometheus.log")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def record_rules(
    root: Path,
    tsdb: Path,
    groups: list[dict[str, Any]],
    start: float,
    end: float,
    ports: Sequence[int],
) -> None:
    """Evaluate rule ``groups`` over [start, end] of ``tsdb`` and add the blocks to it."""
    rules = root / "rules.yml"
    rules.write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")
    with serve(root, tsdb, ports) as url:
        done = subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "rules",
                f"--start={int(start)}",
                f"--end={int(end)}",
                f"--url={url}",
                f"--output-dir={root / 'rules-data'}",
                str(rules),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    # promtool reports a rule it could not evaluate and still exits 0: never half the data
    if "error" in (done.stdout + done.stderr).lower():
        raise RuntimeError(f"promtool create-blocks-from rules: {done.stdout}{done.stderr}")
    for block in (root / "rules-data").iterdir():
        block.rename(tsdb / block.name)


@contextmanager
def served_backfill(
    root: Path,
    text: str,
    ports: Sequence[int],
    *,
    max_block: str = "2h",
    rules: list[dict[str, Any]] | None = None,
    rules_span: tuple[float, float] | None = None,
) -> Iterator[str]:
    """Backfill ``text`` (and record ``rules`` over ``rules_span``), serve it, clean up."""
    try:
        tsdb = backfill(root, text, max_block=max_block)
        if rules:
            assert rules_span is not None
            record_rules(root, tsdb, rules, *rules_span, ports)
        with serve(root, tsdb, ports) as url:
            yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)
