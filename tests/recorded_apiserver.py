"""A recorded-shape kube-apiserver, probed by a second real exporter that the stack's real
Prometheus scrapes for the length of a test module.

No kube-apiserver can run on these machines (``../shared/ENVIRONMENT.md``): the stand-in
serves recorded real answers (``tests/probes/cp/kube_fake.py``, ``tests/testdata/kube``). The
exporter, its kube_apiserver prober, the scrape and every PromQL expression over the
``edgesla_kube_*`` series are real. The extra scrape job is added to the stack's
``prometheus.yml`` with a reload, and removed (another reload) afterwards.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

from edgesla import conventions as conv
from edgesla.stack.layout import Layout
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION
from tests.helpers import EDGESLA, eventually, free_port
from tests.probes.cp.kube_fake import FakeApiserver, make_pki

__all__ = ["JOB", "recorded_apiserver_scraped"]

JOB = f"{conv.JOB_EXPORTER}-recorded-apiserver"


def _pop_config(root: Path, apiserver: FakeApiserver, ca: Path, listen: str) -> Path:
    token = root / "token"
    token.write_text(apiserver.token + "\n", encoding="utf-8")
    config = {
        "version": 1, "pop": LOCAL_POP, "region": LOCAL_REGION,
        "defaults": {"interval": "5s", "timeout": "2s"},
        "exporter": {"listen": listen},
        "targets": [{"name": "kube", "prober": "kube_apiserver", "endpoints": [apiserver.url],
                     "ca_file": str(ca), "token_file": str(token)}],
    }  # fmt: skip
    path = root / "pop-apiserver.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _query(layout: Layout, expr: str) -> list[object]:
    url = f"http://127.0.0.1:{layout.prometheus_port}/api/v1/query"
    return list(requests.get(url, params={"query": expr}, timeout=10).json()["data"]["result"])


def _reload(layout: Layout) -> None:
    url = f"http://127.0.0.1:{layout.prometheus_port}/-/reload"
    reply = requests.post(url, timeout=10)
    assert reply.status_code == 200, reply.text


@contextmanager
def _scraped_by_the_stack(layout: Layout, target: str) -> Iterator[None]:
    config_file = layout.state_dir / "prometheus.yml"
    original = config_file.read_text(encoding="utf-8")
    config = yaml.safe_load(original)
    exporter_job = next(j for j in config["scrape_configs"] if j["job_name"] == conv.JOB_EXPORTER)
    labels = exporter_job["static_configs"][0]["labels"]
    job = {"job_name": JOB, "static_configs": [{"targets": [target], "labels": labels}]}
    config["scrape_configs"].append(job)
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    _reload(layout)
    try:
        yield
    finally:
        # Later tests count the stack's series: they must go now. Prometheus writes stale
        # markers for a target that leaves its job, not for a job removed from the config
        # (its series would linger for the 5-minute lookback): empty the job first.
        job["static_configs"] = []
        config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        _reload(layout)
        eventually(lambda: not _query(layout, f'{{job="{JOB}"}}'), timeout=60, interval=0.5)
        config_file.write_text(original, encoding="utf-8")
        _reload(layout)


@contextmanager
def recorded_apiserver_scraped(layout: Layout, root: Path) -> Iterator[None]:
    """The stand-in API server, an exporter probing it, and the stack's Prometheus scraping
    that exporter, until the block ends."""
    pki = make_pki(root)
    apiserver = FakeApiserver()
    apiserver.start(pki)
    listen = f"127.0.0.1:{free_port()}"
    config = _pop_config(root, apiserver, pki.ca, listen)
    with (root / "exporter.log").open("wb") as log:
        exporter = subprocess.Popen(
            [EDGESLA, "exporter", "--config", str(config)], stdout=subprocess.DEVNULL, stderr=log
        )
    try:
        eventually(lambda: _ready(listen), timeout=60, interval=0.5)
        with _scraped_by_the_stack(layout, listen):
            yield
    finally:
        exporter.terminate()
        exporter.wait(timeout=30)
        apiserver.stop()


def _ready(listen: str) -> bool:
    try:
        return requests.get(f"http://{listen}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False
