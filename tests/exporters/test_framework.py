"""The exporter framework with fake probers: schedule, metrics, never waiting on a scrape."""

from __future__ import annotations

import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import generate_latest

from edgesla import conventions as conv
from edgesla.config import MongoQueryTarget, PostgresQueryTarget
from edgesla.exporters.exporter import Exporter
from edgesla.exporters.otel import make_tracing, span_attributes
from edgesla.probes._result import ProbeResult
from tests.exporters.conftest import FakeProbers, pop_config
from tests.helpers import eventually

GOOD = {"pop": "test-pop", "region": "test", "target": "good", "prober": "etcd"}
BAD = {"pop": "test-pop", "region": "test", "target": "bad", "prober": "kube_apiserver"}


def _value(core: Exporter, name: str, labels: dict[str, str]) -> float | None:
    return core.registry.get_sample_value(name, labels)


def test_every_series_exists_before_the_first_probe(fakes: FakeProbers) -> None:
    core = Exporter(pop_config(), fakes.map)
    for labels in (GOOD, BAD):
        assert _value(core, conv.PROBE_UP, labels) == 0
        assert _value(core, conv.PROBE_RESULTS_TOTAL, labels | {"result": "success"}) == 0
        assert _value(core, conv.PROBE_RESULTS_TOTAL, labels | {"result": "failure"}) == 0
        assert _value(core, conv.PROBE_FAILURE_REASON, labels | {"reason": "timeout"}) == 0
    assert fakes.calls == []


def test_schedule_records_success_failure_reason_and_latency(fakes: FakeProbers) -> None:
    core = Exporter(pop_config(), fakes.map)
    core.start()
    try:
        failures = {"result": "failure"}
        eventually(lambda: (_value(core, conv.PROBE_RESULTS_TOTAL, BAD | failures) or 0) >= 3)
    finally:
        core.stop()
    assert _value(core, conv.PROBE_UP, GOOD) == 1
    assert _value(core, conv.PROBE_UP, BAD) == 0
    assert _value(core, conv.PROBE_FAILURE_REASON, BAD | {"reason": "timeout"}) == 1
    assert _value(core, conv.PROBE_FAILURE_REASON, BAD | {"reason": "refused"}) == 0
    timeouts = _value(core, conv.PROBE_FAILURES_TOTAL, BAD | {"reason": "timeout"})
    failures = _value(core, conv.PROBE_RESULTS_TOTAL, BAD | {"result": "failure"})
    assert timeouts == failures
    # 5 ms lands exactly in the 10 ms SLO bucket, not in the 2.5 ms one
    bucket = conv.PROBE_LATENCY_SECONDS + "_bucket"
    assert _value(core, bucket, GOOD | {"le": "0.0025"}) == 0
    assert _value(core, bucket, GOOD | {"le": "0.01"}) == _value(
        core, bucket, GOOD | {"le": "+Inf"}
    )
    assert _value(core, conv.PROBE_LAST_SUCCESS_TIMESTAMP, GOOD) > time.time() - 10  # type: ignore[operator]
    assert _value(core, conv.PROBE_LAST_SUCCESS_TIMESTAMP, BAD) == 0
    assert _value(core, "edgesla_etcd_quorum_ok", GOOD) == 1
    # probers got the configured timeout, below the interval
    assert {t for _, t in fakes.calls} == {0.1}


def test_scrapes_never_run_a_probe(fakes: FakeProbers) -> None:
    core = Exporter(pop_config(interval="1h", timeout="1s"), fakes.map)
    for _ in range(5):
        generate_latest(core.registry)
    assert fakes.calls == []


def test_a_slow_prober_is_an_overrun_not_a_pile_up() -> None:
    release = threading.Event()
    starts: list[float] = []

    def slow(target: Any, timeout: float) -> ProbeResult:
        starts.append(time.monotonic())
        release.wait(5)
        return ProbeResult.ok(0.001)

    core = Exporter(pop_config(), {"etcd": slow, "kube_apiserver": slow})
    core.start()
    try:
        eventually(lambda: (_value(core, conv.PROBE_OVERRUNS_TOTAL, GOOD) or 0) >= 2)
    finally:
        release.set()
        core.stop()
    assert len(starts) <= 4  # one run per target in flight, the rest skipped and counted


def test_a_prober_that_raises_is_recorded_as_error_and_the_schedule_goes_on() -> None:
    def broken(target: Any, timeout: float) -> ProbeResult:
        raise RuntimeError("bug in prober")

    core = Exporter(pop_config(), {"etcd": broken, "kube_apiserver": broken})
    core.start()
    try:
        eventually(
            lambda: (_value(core, conv.PROBE_FAILURES_TOTAL, GOOD | {"reason": "error"}) or 0) >= 2
        )
    finally:
        core.stop()
    assert _value(core, conv.PROBE_UP, GOOD) == 0


def test_promtool_finds_nothing_to_lint_in_our_output(fakes: FakeProbers) -> None:
    core = Exporter(pop_config(), fakes.map)
    core.start()
    try:
        eventually(core.first_round_done.is_set)
    finally:
        core.stop()
    text = generate_latest(core.registry)
    lint = subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, check=False
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout == b""
    assert lint.stderr == b""


def test_each_probe_run_is_a_span(fakes: FakeProbers) -> None:
    spans = InMemorySpanExporter()
    tracing = make_tracing("test-pop", processor=SimpleSpanProcessor(spans))
    core = Exporter(pop_config(), fakes.map, tracer=tracing.tracer)
    core.probe_once("good")
    core.probe_once("bad")
    good, bad = spans.get_finished_spans()
    assert good.name == "probe etcd good"
    assert good.attributes is not None
    assert good.attributes["db.system.name"] == "etcd"
    assert good.attributes["edgesla.target"] == "good"
    assert bad.attributes is not None
    assert bad.attributes["error.type"] == "timeout"
    assert not bad.status.is_ok


def test_tracing_is_off_by_default(fakes: FakeProbers, monkeypatch: Any) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    tracing = make_tracing("test-pop")
    assert not tracing.enabled
    assert type(tracing.tracer).__name__ == "NoOpTracer"


def test_spans_reach_an_otlp_http_collector(fakes: FakeProbers) -> None:
    """A local HTTP server stands in for an OpenTelemetry collector and receives the batch."""
    received: list[tuple[str, str, int]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], len(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tracing = make_tracing("test-pop", endpoint=f"http://127.0.0.1:{server.server_port}")
        core = Exporter(pop_config(), fakes.map, tracer=tracing.tracer)
        core.probe_once("good")
        tracing.shutdown()  # flushes the batch
    finally:
        server.shutdown()
        server.server_close()
    assert len(received) == 1
    path, content_type, size = received[0]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert size > 0


@pytest.mark.parametrize(
    ("target", "address"),
    [
        (
            MongoQueryTarget(
                name="m",
                prober="mongodb_query",
                username="probe",
                uri="mongodb://probe:s3cret@db1.example:27017,db2:27017/?replicaSet=rs",
            ),
            "db1.example",
        ),
        (MongoQueryTarget(name="m", prober="mongodb_query", uri="mongodb://[::1]:27017/"), "::1"),
        (
            PostgresQueryTarget(
                name="p",
                prober="postgres_query",
                dsn="postgresql://probe:s3cret@pg.example:5432/edgesla",
            ),
            "pg.example",
        ),
        (
            PostgresQueryTarget(
                name="p", prober="postgres_query", dsn="host=10.0.0.5 port=5432 user=probe"
            ),
            "10.0.0.5",
        ),
    ],
)
def test_span_server_address_is_the_host_never_the_user(target: Any, address: str) -> None:
    attrs = span_attributes(target, "test-pop")
    assert attrs["server.address"] == address
    assert not any("probe" in str(v) or "s3cret" in str(v) for v in attrs.values())
