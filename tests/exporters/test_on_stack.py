"""The exporter and `edgesla probe` against the real local stack, scraped by its Prometheus."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
import requests

from edgesla.config import load_config
from edgesla.stack.layout import Layout
from tests.helpers import EDGESLA, edgesla, eventually
from tests.ports import port

LISTEN = port(399)

pytestmark = pytest.mark.stack

STACK_TARGETS = [
    "subscribers-lookup",
    "subscribers-replset",
    "pg-a-billing-lookup",
    "pg-b-billing-lookup",
    "pg-multimaster",
    "pg-convergence",
    "etcd",
]


@pytest.fixture(scope="module")
def exporter(stack: Layout) -> str:
    """The PoP's exporter, a component of the stack, on the port its Prometheus scrapes."""
    url = f"http://127.0.0.1:{stack.exporter_port}"
    eventually(lambda: requests.get(f"{url}/-/ready", timeout=2).status_code == 200, timeout=30)
    return url


def test_exporter_command_serves_and_stops_cleanly_on_sigterm(stack: Layout) -> None:
    """`edgesla exporter` as an operator starts it: serves, then exits 0 on SIGTERM."""
    log = (stack.state_dir / "logs" / "exporter-test.log").open("wb")
    proc = subprocess.Popen(
        [EDGESLA, "exporter", "--config", str(stack.pop_config), "--listen", f"127.0.0.1:{LISTEN}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def ready() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{LISTEN}/-/ready", timeout=2).status_code == 200
        except requests.ConnectionError:
            assert proc.poll() is None, "exporter exited; see exporter-test.log"
            return False

    try:
        eventually(ready, timeout=30, interval=0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        log.close()


def test_every_stack_target_is_up_on_metrics(exporter: str) -> None:
    body = requests.get(f"{exporter}/metrics", timeout=5).text
    for name in STACK_TARGETS:
        line = next(
            (
                ln
                for ln in body.splitlines()
                if ln.startswith("edgesla_probe_up{") and f'target="{name}"' in ln
            ),
            None,
        )
        assert line is not None, f"no edgesla_probe_up for {name}"
        assert line.endswith(" 1.0"), line
    assert 'origin="pg-a",peer="pg-b"' in body  # heartbeat lag, both directions
    assert 'origin="pg-b",peer="pg-a"' in body


def test_promtool_lints_the_live_output_clean(exporter: str) -> None:
    body = requests.get(f"{exporter}/metrics", timeout=5).content
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=body, capture_output=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout + lint.stderr == b""


def test_prometheus_scrapes_the_exporter(stack: Layout, exporter: str) -> None:
    prom = f"http://127.0.0.1:{stack.prometheus_port}/api/v1/query"

    def query(q: str) -> list[dict[str, object]]:
        return list(requests.get(prom, params={"query": q}, timeout=5).json()["data"]["result"])

    eventually(lambda: query('up{job="edgesla-exporter"} == 1'), timeout=30, interval=0.5)
    series = eventually(
        lambda: (r := query("edgesla_probe_up == 1")) and len(r) == len(STACK_TARGETS) and r,
        timeout=30,
        interval=0.5,
    )
    assert {s["metric"]["target"] for s in series} == set(STACK_TARGETS)  # type: ignore[index]
    assert {s["metric"]["pop"] for s in series} == {"local-pop"}  # type: ignore[index]


def test_probe_command_prints_a_table_and_exits_zero(stack: Layout) -> None:
    result = edgesla("probe", "--config", str(stack.pop_config), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in STACK_TARGETS:
        assert name in result.stdout


def test_probe_command_json_for_one_target(stack: Layout) -> None:
    result = edgesla(
        "probe",
        "--config",
        str(stack.pop_config),
        "--target",
        "subscribers-lookup",
        "--json",
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (doc,) = json.loads(result.stdout)
    assert doc["target"] == "subscribers-lookup"
    assert doc["success"] is True
    assert 0 < doc["latency_seconds"] < 1


def test_probe_command_unknown_target_is_exit_2(stack: Layout) -> None:
    result = edgesla("probe", "--config", str(stack.pop_config), "--target", "nope")
    assert result.returncode == 2
    assert "no target named nope; known: subscribers-lookup" in result.stderr


def test_probe_command_reports_a_dead_target_with_exit_1(stack: Layout) -> None:
    text = stack.pop_config.read_text().replace(f"port={stack.pg_port('pg-a')}", "port=1")
    broken = stack.state_dir / "broken-pop.yaml"
    broken.write_text(text)
    assert load_config(broken).pop == "local-pop"
    result = edgesla(
        "probe", "--config", str(broken), "--target", "pg-a-billing-lookup", "--json", timeout=60
    )
    assert result.returncode == 1
    (doc,) = json.loads(result.stdout)
    assert doc["success"] is False
    assert doc["reason"] == "refused"
