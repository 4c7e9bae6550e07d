"""A real VictoriaMetrics holding exactly the samples of a Prometheus: started with the
stack's command line (``edgesla.stack.victoriametrics``), filled through its import API with
every raw sample a range query of the Prometheus returns (as ``vmctl`` migrates data), made
searchable with ``/internal/force_flush``."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from edgesla.stack import victoriametrics
from edgesla.stack.layout import Layout
from tests.helpers import eventually

__all__ = ["copy_samples", "same_samples", "served_copy"]


def import_body(series: list[dict[str, Any]]) -> str:
    """Prometheus range-vector results as VictoriaMetrics' ``/api/v1/import`` JSON lines."""
    return "\n".join(
        json.dumps(
            {
                "metric": s["metric"],
                "values": [float(v) for _, v in s["values"]],
                "timestamps": [round(float(t) * 1000) for t, _ in s["values"]],
            }
        )
        for s in series
    )


def copy_samples(prometheus_url: str, vm_url: str, at: float, span: float) -> int:
    """Every sample of every series in ``(at - span, at]``, copied; how many series."""
    response = requests.post(
        f"{prometheus_url}/api/v1/query",
        data={"query": f'{{__name__=~".+"}}[{int(span * 1000)}ms]', "time": f"{at:.3f}"},
        timeout=60,
    )
    response.raise_for_status()
    series = response.json()["data"]["result"]
    requests.post(
        f"{vm_url}/api/v1/import", data=import_body(series), timeout=60
    ).raise_for_status()
    requests.get(f"{vm_url}/internal/force_flush", timeout=30).raise_for_status()
    return len(series)


@contextmanager
def served_copy(
    root: Path, base_port: int, prometheus_url: str, at: float, span: float
) -> Iterator[str]:
    """VictoriaMetrics on ``base_port + 14`` with the copy; its URL while the block runs."""
    layout = Layout(root, base_port)
    with (root / "victoriametrics.log").open("ab") as log:
        proc = subprocess.Popen(
            victoriametrics.command(layout), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        eventually(lambda: victoriametrics.check(layout)[0], timeout=30)
        url = victoriametrics.url(layout)
        copied = copy_samples(prometheus_url, url, at, span)
        eventually(lambda: victoriametrics.check(layout)[1].startswith(f"ready; {copied} "))
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _samples(url: str, expr: str, at: float) -> dict[str, int]:
    """Raw samples per series (its labels as text) of a range selector at ``at``."""
    body = requests.post(
        f"{url}/api/v1/query", data={"query": expr, "time": f"{at:.3f}"}, timeout=30
    ).json()
    return {
        json.dumps(r["metric"], sort_keys=True): len(r["values"]) for r in body["data"]["result"]
    }


def same_samples(prometheus_url: str, vm_url: str, span: str = "2m") -> bool:
    """Does VictoriaMetrics hold the samples Prometheus holds of ``up`` and the probe series
    in the ``span`` up to 12 s ago (remote_write sends within 5 s; VictoriaMetrics shows
    points after its 10-s latency offset)?"""
    at = time.time() - 12
    expr = f'{{__name__=~"up|edgesla_probe_.+"}}[{span}]'
    expected = _samples(prometheus_url, expr, at)
    return bool(expected) and _samples(vm_url, expr, at) == expected
