"""Prometheus scraping the etcd members and (once it runs) the PoP's edgesla exporter."""

from __future__ import annotations

import requests
import yaml

from edgesla import conventions as conv
from edgesla.stack import etcd
from edgesla.stack.binaries import Binaries
from edgesla.stack.http import get_json
from edgesla.stack.layout import ETCD_MEMBERS, HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = ["SCRAPE_INTERVAL", "check", "render_config", "start", "url"]

SCRAPE_INTERVAL = "5s"


def url(layout: Layout) -> str:
    return f"http://{HOST}:{layout.prometheus_port}"


def render_config(layout: Layout, pop: str, region: str) -> str:
    labels = {conv.LABEL_POP: pop, conv.LABEL_REGION: region}
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"{HOST}:{layout.prometheus_port}"]}],
            },
            {
                "job_name": conv.JOB_ETCD,
                "static_configs": [
                    {
                        "targets": [
                            etcd.client_url(layout, m).removeprefix("http://") for m in ETCD_MEMBERS
                        ],
                        "labels": labels,
                    }
                ],
            },
            {
                # Ready for `edgesla exporter --config pop.yaml`; `up` is 0 until it runs.
                "job_name": conv.JOB_EXPORTER,
                "static_configs": [
                    {"targets": [f"{HOST}:{layout.exporter_port}"], "labels": labels}
                ],
            },
        ],
    }
    return "# Written by `edgesla stack up`. DO NOT EDIT: rewritten on every start.\n" + (
        yaml.safe_dump(config, sort_keys=False)
    )


def start(layout: Layout, binaries: Binaries, pop: str, region: str) -> ProcessRecord:
    config = layout.state_dir / "prometheus.yml"
    config.write_text(render_config(layout, pop, region), encoding="utf-8")
    return spawn(
        [
            str(binaries.prometheus),
            f"--config.file={config}",
            f"--storage.tsdb.path={layout.data_dir / 'prometheus'}",
            f"--web.listen-address={HOST}:{layout.prometheus_port}",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
        ],
        layout.log_dir / "prometheus.log",
    )


def check(layout: Layout) -> tuple[bool, str]:
    """Ready, and its query API answers: (ok, detail)."""
    try:
        ready = requests.get(f"{url(layout)}/-/ready", timeout=2).status_code == 200
        status, body = get_json(f"{url(layout)}/api/v1/query?query=up")
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    if not ready or status != 200 or not isinstance(body, dict) or body.get("status") != "success":
        return False, "not ready"
    up = sum(1 for s in body["data"]["result"] if s["value"][1] == "1")
    return True, f"ready, {up}/{len(body['data']['result'])} scrape targets up"
