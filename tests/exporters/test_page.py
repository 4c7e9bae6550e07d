"""The cached /metrics page: the same series as the registry, rendered again only when a
record changed them, live self-metrics fresh on every scrape."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.openmetrics.exposition import (
    CONTENT_TYPE_LATEST as OPENMETRICS,
)
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from edgesla import conventions as conv
from edgesla.exporters.app import make_app
from edgesla.exporters.exporter import Exporter
from edgesla.probes._result import ProbeResult
from tests.exporters.conftest import FakeProbers, pop_config


def _lines(body: bytes) -> list[str]:
    return sorted(line for line in body.decode().splitlines() if line != "# EOF")


def _scrape(core: Exporter, accept: str = "") -> bytes:
    app = make_app(core)
    status: list[str] = []
    body = b"".join(
        app({"PATH_INFO": "/metrics", "HTTP_ACCEPT": accept}, lambda s, h: status.append(s))
    )
    assert status == ["200 OK"]
    return body


def test_the_page_holds_exactly_the_registrys_series(fakes: FakeProbers) -> None:
    core = Exporter(pop_config(), fakes.map)
    target = core.targets["good"]
    core.record(target, ProbeResult.ok(0.004, "fine"), 0.01)
    text = _scrape(core)
    assert _lines(text) == _lines(generate_latest(core.registry))
    om = _scrape(core, OPENMETRICS)
    assert om.endswith(b"# EOF\n")
    assert om.count(b"# EOF") == 1
    assert _lines(om) == _lines(openmetrics_latest(core.registry))


def test_measurements_render_once_until_a_record_and_live_series_every_scrape(
    fakes: FakeProbers,
) -> None:
    core = Exporter(pop_config(), fakes.map)
    first = _scrape(core)
    renders = core.page.renders
    second = _scrape(core)
    assert core.page.renders == renders  # nothing was recorded: the cached part reused
    scrapes = f'{conv.EXPORTER_SCRAPES_TOTAL}{{pop="test-pop",region="test"}}'
    assert f"{scrapes} 1.0" in first.decode()
    assert f"{scrapes} 2.0" in second.decode()  # live: counted on every scrape
    core.record(core.targets["good"], ProbeResult.ok(0.004, "fine"), 0.01)
    third = _scrape(core).decode()
    assert core.page.renders == renders + 1
    good = 'pop="test-pop",prober="etcd",region="test",result="success",target="good"'
    assert f"{conv.PROBE_RESULTS_TOTAL}{{{good}}} 1.0" in third  # no stale value
