"""The Alertmanager routing example of `edgesla rules`: amtool accepts it and routes by
severity, and a real Alertmanager (Debian's prometheus-alertmanager, on a free loopback
port) given the example sends one page per PoP while the inhibited companions stay silent.

The alerts are posted to Alertmanager's API the way Prometheus posts them; the receivers'
URLs are pointed at a small HTTP server in the test, and the page route's group_wait is cut
from 30 s to 1 s so the test does not sit through it (tests/rules/test_quorum_alert.py pages
through the stack's Alertmanager with the real 30 s). Nothing else of the example changes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from edgesla.cli import cli
from edgesla.rules.absent_alerts import ALERT_EXPORTER_DOWN, ALERT_POP_VANISHED
from edgesla.rules.alertmanager import ALERTMANAGER_FILE, RECEIVER_URLS
from edgesla.rules.controlplane_alerts import ALERT_QUORUM_AT_RISK, ALERT_QUORUM_LOST
from tests.helpers import eventually, free_port
from tests.rules.webhook import Received, webhook_server

ALERTMANAGER = "prometheus-alertmanager"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rules")
    result = CliRunner().invoke(cli, ["rules", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out / ALERTMANAGER_FILE}" in " ".join(result.output.split())
    return out / ALERTMANAGER_FILE


def _amtool(*args: str) -> str:
    done = subprocess.run(["amtool", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_amtool_check_config_accepts_the_example(example: Path) -> None:
    output = _amtool("check-config", str(example))
    assert "SUCCESS" in output
    assert " - 2 inhibit rules" in output


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=page", "pop=pop-a"], "page"),
        (["severity=ticket", "pop=pop-a"], "ticket"),
        (["pop=pop-a"], "ticket"),  # no severity: nobody is woken up
    ],
)
def test_routes_by_severity(example: Path, labels: list[str], receiver: str) -> None:
    output = _amtool("config", "routes", "test", f"--config.file={example}", *labels)
    assert output.strip() == receiver


@pytest.fixture
def webhook() -> Iterator[tuple[str, Received]]:
    with webhook_server() as found:
        yield found


@pytest.fixture
def alertmanager(example: Path, webhook: tuple[str, list[Any]], tmp_path: Path) -> Iterator[str]:
    config = example.read_text(encoding="utf-8")
    for url in RECEIVER_URLS.values():
        config = config.replace(url.rsplit("/", 1)[0], webhook[0])
    assert config.count("group_wait: 30s") == 2  # the root route's and the page route's
    config = config.replace(
        "receiver: page\n    group_wait: 30s", "receiver: page\n    group_wait: 1s"
    )
    assert "group_wait: 1s" in config
    (tmp_path / "alertmanager.yml").write_text(config, encoding="utf-8")
    listen = f"127.0.0.1:{free_port()}"
    with (tmp_path / "alertmanager.log").open("w") as log:
        proc = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={tmp_path / 'alertmanager.yml'}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address={listen}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://{listen}"
        eventually(lambda: _ready(url), timeout=15)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _alert(name: str, pop: str, severity: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "pop": pop, "region": "eu", "severity": severity},
        "annotations": {"summary": f"{pop}: {name}"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
    }


def test_one_page_per_pop_and_the_inhibited_stay_silent(
    alertmanager: str, webhook: tuple[str, Received]
) -> None:
    """pop-a: two of three etcd members gone (quorum lost, and at risk) and its exporter
    down (its series vanished); pop-b: only its series vanished."""
    alerts = [
        _alert(ALERT_QUORUM_LOST, "pop-a", "page"),
        _alert(ALERT_QUORUM_AT_RISK, "pop-a", "ticket"),
        _alert(ALERT_EXPORTER_DOWN, "pop-a", "page"),
        _alert(ALERT_POP_VANISHED, "pop-a", "page"),
        _alert(ALERT_POP_VANISHED, "pop-b", "page"),
    ]
    posted = requests.post(f"{alertmanager}/api/v2/alerts", json=alerts, timeout=5)
    assert posted.status_code == 200, posted.text

    def states() -> dict[tuple[str, str], str]:
        got = requests.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
        return {(a["labels"]["alertname"], a["labels"]["pop"]): a["status"]["state"] for a in got}

    # inhibited at once: quorum at risk by quorum lost, pop-a's vanished series by its exporter
    expected = {
        (ALERT_QUORUM_LOST, "pop-a"): "active",
        (ALERT_QUORUM_AT_RISK, "pop-a"): "suppressed",
        (ALERT_EXPORTER_DOWN, "pop-a"): "active",
        (ALERT_POP_VANISHED, "pop-a"): "suppressed",
        (ALERT_POP_VANISHED, "pop-b"): "active",  # inhibitions hold within one PoP only
    }
    eventually(lambda: states() == expected, timeout=10)

    _, received = webhook
    eventually(lambda: len(received) >= 2, timeout=15)  # group_wait: 1s here
    pages = {
        body["groupLabels"]["pop"]: sorted(a["labels"]["alertname"] for a in body["alerts"])
        for path, body in received
    }
    assert [path for path, _ in received] == ["/page", "/page"]
    assert pages == {
        "pop-a": sorted([ALERT_EXPORTER_DOWN, ALERT_QUORUM_LOST]),
        "pop-b": [ALERT_POP_VANISHED],
    }
