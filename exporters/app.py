"""The exporter's WSGI application.

/metrics          what the schedule measured; never waits on a database (another path with
                  --web.telemetry-path)
/probe?target=N   blackbox-style: probe N now, within the scrape timeout Prometheus sends
                  (X-Prometheus-Scrape-Timeout-Seconds minus a 0.5 s offset), through the
                  same bounded runner as the schedule: it waits for a free place for at most
                  half that budget, else answers 503 (never an extra thread or connection)
/-/healthy        the process is alive
/-/ready          every target has been probed once
/-/reload         POST: read the PoP config again (edgesla.exporters.reload); 200, or 500 with the
                  reason the new config was refused (the old one keeps running); 405 for
                  any other method — as blackbox_exporter's

With basic auth on (--web.config.file), every path asks for it except the two health paths:
Kubernetes' probes send no credentials, and they tell nothing but "OK".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from edgesla.exporters.exporter import Busy, Exporter
from edgesla.exporters.metrics import FrameworkMetrics
from edgesla.exporters.samples import SampleCollector
from edgesla.exporters.webconfig import WebConfig
from edgesla.exporters.webreload import WebConfigFile

__all__ = ["SCRAPE_TIMEOUT_OFFSET", "make_app"]

SCRAPE_TIMEOUT_OFFSET = 0.5
StartResponse = Callable[..., Any]
#: Paths served without basic auth: liveness and readiness only.
_OPEN = frozenset({"/-/healthy", "/-/ready"})
_LANDING = """<html><head><title>edgesla exporter</title></head><body>
<h1>edgesla exporter — PoP {pop}</h1><p><a href="{path}">{path}</a></p>
<p>Targets: {targets}</p><p>Probe one now: /probe?target=NAME</p></body></html>"""


def _reply(
    start: StartResponse, status: str, body: bytes, ctype: str = "text/plain"
) -> list[bytes]:
    start(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]


def _probe_registry(exporter: Exporter, name: str, timeout: float | None) -> CollectorRegistry:
    """A fresh registry holding only this one run, as blackbox_exporter's /probe does."""
    registry = CollectorRegistry(auto_describe=True)
    metrics = FrameworkMetrics(registry, exporter.config.pop, exporter.config.region)
    samples = SampleCollector()
    registry.register(samples)
    target = exporter.targets[name]
    key = metrics.labels(name, target.prober)
    metrics.register(key)
    result, seconds = exporter.probe_once(name, timeout)  # raises Busy
    metrics.record(key, result, seconds)
    samples.store(key, result)
    return registry


def make_app(
    exporter: Exporter,
    web: WebConfig | WebConfigFile | None = None,
    *,
    telemetry_path: str = "/metrics",
    reload: Callable[[str], str | None] | None = None,
) -> Callable[..., Iterable[bytes]]:
    """The app; ``telemetry_path``: where /metrics is served (``--web.telemetry-path``);
    ``reload(trigger)``: what POST /-/reload calls (None: the path is not served).
    ``web``: fixed, or a file read again when it changes."""
    fixed = web if isinstance(web, WebConfig) else WebConfig()
    current = web.current if isinstance(web, WebConfigFile) else lambda: fixed

    def app(environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path not in _OPEN and not current().allows(environ.get("HTTP_AUTHORIZATION")):
            start(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="edgesla"'), ("Content-Type", "text/plain")],
            )
            return [b"Unauthorized\n"]
        if path == telemetry_path:
            exporter.metrics.scrapes.labels(exporter.config.pop, exporter.config.region).inc()
            body, content_type = exporter.page.render(environ.get("HTTP_ACCEPT", ""))
            return _reply(start, "200 OK", body, content_type)
        if path == "/probe":
            return _probe(exporter, environ, start)
        if path == "/-/healthy":
            return _reply(start, "200 OK", b"OK\n")
        if path == "/-/ready":
            if exporter.first_round_done.is_set():
                return _reply(start, "200 OK", b"OK\n")
            return _reply(start, "503 Service Unavailable", b"first probes still running\n")
        if path == "/-/reload" and reload is not None:
            if environ.get("REQUEST_METHOD") != "POST":
                start("405 Method Not Allowed", [("Content-Type", "text/plain"), ("Allow", "POST")])
                return [b"This endpoint requires a POST request.\n"]
            refused = reload("POST /-/reload")
            if refused is None:
                return _reply(start, "200 OK", b"OK\n")
            return _reply(
                start, "500 Internal Server Error", f"failed to reload config: {refused}\n".encode()
            )
        if path == "/":
            names = ", ".join(sorted(exporter.targets))
            page = _LANDING.format(pop=exporter.config.pop, targets=names, path=telemetry_path)
            return _reply(start, "200 OK", page.encode(), "text/html")
        return _reply(start, "404 Not Found", b"Not Found\n")

    return app


def _render(
    registry: CollectorRegistry, environ: dict[str, Any], start: StartResponse
) -> list[bytes]:
    encoder, content_type = choose_encoder(environ.get("HTTP_ACCEPT", ""))
    return _reply(start, "200 OK", encoder(registry), content_type)


def _probe(exporter: Exporter, environ: dict[str, Any], start: StartResponse) -> list[bytes]:
    names = parse_qs(environ.get("QUERY_STRING", "")).get("target", [])
    if len(names) != 1 or names[0] not in exporter.targets:
        known = ", ".join(sorted(exporter.targets))
        return _reply(
            start, "400 Bad Request", f"give one target=NAME; known targets: {known}\n".encode()
        )
    timeout = None
    header = environ.get("HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS")
    if header:
        try:
            timeout = max(float(header) - SCRAPE_TIMEOUT_OFFSET, 0.1)
        except ValueError:
            return _reply(
                start, "400 Bad Request", b"X-Prometheus-Scrape-Timeout-Seconds is not a number\n"
            )
    try:
        registry = _probe_registry(exporter, names[0], timeout)
    except Busy as exc:
        exporter.metrics.probe_rejected.labels(exporter.config.pop, exporter.config.region).inc()
        body = f"busy, try again: {exc}; or raise --max-concurrency\n".encode()
        start(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/plain"),
                ("Retry-After", "1"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]
    return _render(registry, environ, start)
