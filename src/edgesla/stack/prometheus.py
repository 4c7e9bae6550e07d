"""Prometheus scraping the etcd members and (once it runs) the PoP's edgesla exporter, and
sending its alerts to the stack's Alertmanager."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import requests
import yaml

from edgesla import conventions as conv
from edgesla.atomic import write_atomic
from edgesla.rules import write_default_rules
from edgesla.stack import etcd
from edgesla.stack.binaries import Binaries
from edgesla.stack.http import get_json
from edgesla.stack.layout import ETCD_MEMBERS, HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = [
    "SCRAPE_INTERVAL",
    "check",
    "render_config",
    "rules_dir",
    "scraping_etcd",
    "start",
    "url",
]

SCRAPE_INTERVAL = "5s"


def url(layout: Layout) -> str:
    return f"http://{HOST}:{layout.prometheus_port}"


def rules_dir(layout: Layout) -> Path:
    """Where ``stack up`` writes the rules of the default SLO spec (``edgesla rules``)."""
    return layout.state_dir / "rules"


def render_config(layout: Layout, pop: str, region: str, remote_write: str | None = None) -> str:
    """``remote_write``: the URL of a long-term store to send every sample to (the stack's
    VictoriaMetrics), recording-rule results included."""
    labels = {conv.LABEL_POP: pop, conv.LABEL_REGION: region}
    config: dict[str, Any] = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        # `edgesla rules` output: SLO recording rules and alerts (docs/rules.md)
        "rule_files": [str(rules_dir(layout) / "*.yml")],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [f"{HOST}:{layout.alertmanager_port}"]}]}
            ]
        },
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
            {
                # `edgesla loadtest`'s own metrics (pop.yaml loadtest.metrics_listen); `up` is 0
                # between runs. Its series carry pop and region already: honour them.
                "job_name": conv.JOB_LOADTEST,
                "honor_labels": True,
                "static_configs": [
                    {"targets": [f"{HOST}:{layout.loadtest_metrics_port}"], "labels": labels}
                ],
            },
        ],
    }
    if remote_write:
        config["remote_write"] = [{"url": remote_write}]
    return "# Written by `edgesla stack up`. DO NOT EDIT: rewritten on every start.\n" + (
        yaml.safe_dump(config, sort_keys=False)
    )


def start(
    layout: Layout, binaries: Binaries, pop: str, region: str, remote_write: str | None = None
) -> ProcessRecord:
    # The default spec's rules (a few milliseconds), in place before Prometheus reads them.
    write_default_rules(rules_dir(layout), "edgesla stack up (default SLO spec)")
    config = layout.state_dir / "prometheus.yml"
    write_atomic(config, render_config(layout, pop, region, remote_write))
    return spawn(
        [
            str(binaries.prometheus),
            f"--config.file={config}",
            f"--storage.tsdb.path={layout.data_dir / 'prometheus'}",
            f"--web.listen-address={HOST}:{layout.prometheus_port}",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
            # `stack down` stops VictoriaMetrics with it: flush what is left for 2 s, not 1 min
            *(["--storage.remote.flush-deadline=2s"] if remote_write else []),
        ],
        layout.log_dir / "prometheus.log",
    )


def _targets(layout: Layout) -> list[dict[str, Any]]:
    status, body = get_json(f"{url(layout)}/api/v1/targets?state=active")
    if status != 200 or not isinstance(body, dict) or body.get("status") != "success":
        return []
    return list(body["data"]["activeTargets"])


def check(layout: Layout) -> tuple[bool, str]:
    """Ready, and its API answers: (ok, detail with the health of its scrape targets)."""
    try:
        ready = requests.get(f"{url(layout)}/-/ready", timeout=2).status_code == 200
        targets = _targets(layout) if ready else []
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    if not ready or not targets:
        return False, "not ready"
    health = Counter(t["health"] for t in targets)
    down = sorted(t["labels"]["job"] for t in targets if t["health"] == "down")
    detail = f"ready; scrape targets: {health['up']} up"
    if down:
        detail += f", {len(down)} down ({', '.join(down)})"
    if health["unknown"]:
        detail += f", {health['unknown']} not scraped yet"
    return True, detail


def scraping_etcd(layout: Layout) -> tuple[bool, str]:
    """Every etcd member has been scraped successfully: (ok, detail)."""
    try:
        etcd_targets = [t for t in _targets(layout) if t["labels"]["job"] == conv.JOB_ETCD]
    except requests.RequestException as exc:
        return False, f"no answer: {type(exc).__name__}"
    healthy = sum(t["health"] == "up" for t in etcd_targets)
    return healthy == len(ETCD_MEMBERS), f"{healthy}/{len(ETCD_MEMBERS)} etcd members scraped"
