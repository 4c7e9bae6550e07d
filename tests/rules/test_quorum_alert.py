"""End to end: stop two of the three etcd members of a dedicated stack and watch
Prometheus fire EdgeslaEtcdQuorumLost from the rules `edgesla stack up` loaded, and the
stack's Alertmanager page a webhook (a small HTTP server in the test) with it."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from edgesla.durations import parse_duration
from edgesla.rules.controlplane_alerts import ALERT_QUORUM_LOST, OUTAGE_FOR
from edgesla.stack.alertmanager import WEBHOOK_ENV
from edgesla.stack.layout import Layout
from tests.helpers import (
    eventually,
    stack_json,
    started_stack,
)
from tests.ports import port
from tests.rules.webhook import Received, webhook_server

pytestmark = [pytest.mark.stack, pytest.mark.slow]

BASE_PORT = port(500)
#: Between a member stopping and the alert firing: the exporter's next etcd probe (every
#: 5 s on the stack, 2 s timeout on the stopped members), Prometheus' next scrape (5 s),
#: its next rule evaluation (5 s), then the alert's for:, plus slack for a busy machine.
PROBE, TIMEOUT, SCRAPE, EVAL, SLACK = 5.0, 2.0, 5.0, 5.0, 10.0
DEADLINE = parse_duration(OUTAGE_FOR) + PROBE + TIMEOUT + SCRAPE + EVAL + SLACK
#: From firing to the webhook: at most the page route's group_wait (30 s) from the PoP's
#: first page (here a burn-rate page, which has no for:), plus slack.
PAGE_DEADLINE = 30.0 + SLACK


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, Received]]:
    with webhook_server() as found:
        yield found


@pytest.fixture(scope="module")
def own_stack(webhook: tuple[str, Received]) -> Iterator[Layout]:
    with started_stack("rules-quorum", BASE_PORT, 1000, env={WEBHOOK_ENV: webhook[0]}) as layout:
        yield layout


def _query(layout: Layout, expr: str) -> list[dict[str, Any]]:
    body = requests.get(
        f"http://127.0.0.1:{layout.prometheus_port}/api/v1/query",
        params={"query": expr},
        timeout=5,
    ).json()
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _firing(layout: Layout, name: str) -> list[dict[str, Any]]:
    body = requests.get(f"http://127.0.0.1:{layout.prometheus_port}/api/v1/alerts", timeout=5)
    alerts: list[dict[str, Any]] = body.json()["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_quorum_lost_fires_within_its_for_time_and_pages(
    own_stack: Layout, webhook: tuple[str, Received]
) -> None:
    # the exporter has reported a healthy cluster through Prometheus
    eventually(lambda: _query(own_stack, "edgesla_etcd_quorum_ok == 1"), timeout=60, interval=1)
    assert not _firing(own_stack, ALERT_QUORUM_LOST)
    pids = {c["name"]: int(c["pid"]) for c in stack_json(own_stack.state_dir)["components"]}
    stopped = ["etcd2", "etcd3"]
    start = time.monotonic()
    for member in stopped:
        os.kill(pids[member], signal.SIGSTOP)
    try:
        alerts = eventually(lambda: _firing(own_stack, ALERT_QUORUM_LOST), DEADLINE, 1.0)
        took = time.monotonic() - start
        pages = eventually(lambda: _pages(webhook[1]), PAGE_DEADLINE, 0.5)
        paged = time.monotonic() - start
    finally:
        for member in stopped:
            os.kill(pids[member], signal.SIGCONT)
    print(f"{ALERT_QUORUM_LOST} firing {took:.1f} s, paged {paged:.1f} s after the stop")
    (alert,) = alerts
    assert alert["labels"]["pop"] == "local-pop"
    assert alert["labels"]["severity"] == "page"
    # etcd1 still answers, but without a leader its /health is false: 0 of 3 healthy
    assert float(alert["value"]) == 0.0
    assert "only 0 etcd member(s) healthy" in alert["annotations"]["description"]
    assert took <= DEADLINE
    # one notification for the PoP (grouped by pop) naming the cause with its symptoms, and
    # no ticket: quorum at risk, which quorum lost inhibits, never fires with both members
    # gone at once (tests/rules/test_alertmanager.py shows the inhibition itself)
    (page,) = pages
    assert page["groupLabels"] == {"pop": "local-pop"}
    assert ALERT_QUORUM_LOST in {a["labels"]["alertname"] for a in page["alerts"]}
    assert [path for path, _ in webhook[1]] == ["/page"]


def _pages(received: Received) -> list[dict[str, Any]]:
    return [body for path, body in received if path == "/page"]
