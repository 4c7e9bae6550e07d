"""The etcd cluster and Prometheus of the local stack, asked the way an operator would."""

from __future__ import annotations

import re
import time

import pytest
import requests

from edgesla.stack.layout import ETCD_MEMBERS, Layout
from tests.helpers import eventually

pytestmark = pytest.mark.stack


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from etcd /metrics"
    return float(match.group(1))


def test_every_etcd_member_is_healthy_and_sees_the_same_leader(stack: Layout) -> None:
    leaders = set()
    for member in ETCD_MEMBERS:
        base = f"http://127.0.0.1:{stack.etcd_client_port(member)}"
        assert requests.get(f"{base}/health", timeout=5).json() == {"health": "true"}
        metrics = requests.get(f"{base}/metrics", timeout=5).text
        assert _metric(metrics, "etcd_server_has_leader") == 1
        leaders.add(
            requests.post(f"{base}/v3/maintenance/status", json={}, timeout=5).json()["leader"]
        )
    assert len(leaders) == 1


def test_etcd_cluster_has_three_members_and_accepts_writes(stack: Layout) -> None:
    base = f"http://127.0.0.1:{stack.etcd_client_port('etcd1')}"
    members = requests.post(f"{base}/v3/cluster/member/list", json={}, timeout=5).json()["members"]
    assert sorted(m["name"] for m in members) == list(ETCD_MEMBERS)
    # key "edgesla-test" / value "ok", base64 as the v3 JSON gateway wants
    put = requests.post(
        f"{base}/v3/kv/put", json={"key": "ZWRnZXNsYS10ZXN0", "value": "b2s="}, timeout=5
    )
    assert put.status_code == 200


def test_prometheus_is_ready_and_scrapes_every_etcd_member(stack: Layout) -> None:
    base = f"http://127.0.0.1:{stack.prometheus_port}"
    assert requests.get(f"{base}/-/ready", timeout=5).status_code == 200

    def etcd_up() -> list[dict[str, object]] | None:
        body = requests.get(
            f"{base}/api/v1/query", params={"query": 'up{job="etcd"} == 1'}, timeout=5
        )
        result: list[dict[str, object]] = body.json()["data"]["result"]
        return result if len(result) == len(ETCD_MEMBERS) else None

    series = eventually(etcd_up, timeout=30, interval=0.5)
    assert {s["metric"]["pop"] for s in series} == {"local-pop"}  # type: ignore[index]
    # etcd's own metrics arrive through Prometheus, not only the up signal
    query = {"query": "etcd_server_has_leader"}
    body = requests.get(f"{base}/api/v1/query", params=query, timeout=5).json()
    assert len(body["data"]["result"]) == len(ETCD_MEMBERS)


def test_prometheus_has_the_exporter_job_ready(stack: Layout) -> None:
    base = f"http://127.0.0.1:{stack.prometheus_port}"
    targets = requests.get(f"{base}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    exporter = [t for t in targets if t["labels"]["job"] == "edgesla-exporter"]
    assert [t["scrapeUrl"] for t in exporter] == [f"http://127.0.0.1:{stack.exporter_port}/metrics"]


def _etcd_runs(stack: Layout) -> float:
    """Probe runs of the stack's etcd target so far, successes and failures."""
    text = requests.get(f"http://127.0.0.1:{stack.exporter_port}/metrics", timeout=5).text
    found = re.findall(
        r'^edgesla_probe_results_total\{[^}]*target="etcd"[^}]*\} (\S+)$', text, re.MULTILINE
    )
    assert len(found) == 2, "no result counters of target etcd on the exporter"
    return sum(float(v) for v in found)


def test_the_exporter_probes_etcd_every_second_by_default(stack: Layout) -> None:
    """The stack's pop.yaml sets no interval for etcd: the control-plane default (1 s) holds,
    beside the 5-s data-plane targets. Counted from the exporter's own run counter."""
    assert "control_plane" not in stack.pop_config.read_text(encoding="utf-8")
    start, before = time.monotonic(), _etcd_runs(stack)
    eventually(lambda: _etcd_runs(stack) - before >= 4, timeout=15, interval=0.25)
    runs, seconds = _etcd_runs(stack) - before, time.monotonic() - start
    assert 0.6 <= runs / seconds <= 1.5, f"{runs:g} etcd runs in {seconds:.1f} s"
