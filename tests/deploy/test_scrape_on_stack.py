"""A real Prometheus, given the generated scrape config, scrapes a real PoP exporter.

A dedicated local stack (ports base + 700..712) runs its exporter; a second Prometheus of the
test's own (base + 760, its own data dir) loads only the `edgesla scrape-config` output
for a fleet of that one PoP, and must see it up, with the fleet's labels on every series.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from edgesla.stack.layout import Layout
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION
from tests.helpers import edgesla, eventually, started_stack
from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

BASE_PORT = port(700)
PROMETHEUS = f"127.0.0.1:{port(760)}"


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Layout]:
    with started_stack("deploy", BASE_PORT, 1000) as layout:
        yield layout


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[Path], subprocess.Popen[bytes]]]:
    """Starts /usr/bin/prometheus on a config, in the test's tmp dir; stops it afterwards."""
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed")
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path) -> subprocess.Popen[bytes]:
        with (tmp_path / "prometheus.log").open("wb") as log:
            proc = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--web.listen-address={PROMETHEUS}",
                    f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=20)


def _query(expr: str) -> list[dict[str, Any]]:
    """The query's result vector; empty while Prometheus is not answering yet."""
    try:
        reply = requests.get(f"http://{PROMETHEUS}/api/v1/query", params={"query": expr}, timeout=5)
    except requests.RequestException:
        return []
    return list(reply.json()["data"]["result"]) if reply.status_code == 200 else []


def test_prometheus_scrapes_the_exporter_through_file_sd(
    own_stack: Layout, prometheus: Callable[[Path], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "pops": [
                    {
                        "name": LOCAL_POP,
                        "region": LOCAL_REGION,
                        "exporter": f"127.0.0.1:{own_stack.exporter_port}",
                        "labels": {"tier": "lab"},
                    }
                ],
            }
        )
    )
    out = tmp_path / "sd"
    result = edgesla(
        "scrape-config",
        "--fleet",
        str(fleet),
        "--out",
        str(out),
        "--scrape-interval",
        "1s",
        "--scrape-timeout",
        "900ms",
        "--refresh-interval",
        "5s",
    )
    assert result.returncode == 0, result.stderr
    snippet = yaml.safe_load((out / "scrape-config.yml").read_text())
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s"}} | snippet))
    proc = prometheus(config)
    try:
        up = eventually(lambda: _query('up{job="edgesla-exporter"} == 1'), timeout=60, interval=0.5)
    except AssertionError:
        log = (tmp_path / "prometheus.log").read_text()
        raise AssertionError(f"exit {proc.poll()}; log tail:\n{log[-3000:]}") from None
    (series,) = up
    assert series["metric"]["pop"] == LOCAL_POP
    assert series["metric"]["region"] == LOCAL_REGION
    assert series["metric"]["tier"] == "lab"
    probes = eventually(
        lambda: _query(f'edgesla_probe_up{{pop="{LOCAL_POP}"}}'), timeout=30, interval=0.5
    )
    assert len(probes) >= 5  # one per target of the stack's PoP config
    for sample in probes:
        labels = sample["metric"]
        assert (labels["pop"], labels["region"], labels["tier"]) == (LOCAL_POP, LOCAL_REGION, "lab")
        assert labels["job"] == "edgesla-exporter"
        assert not any(k.startswith("exported_") for k in labels), labels
