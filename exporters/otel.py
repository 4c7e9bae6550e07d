"""OpenTelemetry: each probe run is a span (database semantic conventions). Off by default.

Enabled by ``--otlp-endpoint URL`` or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``; spans go
out over OTLP/HTTP in batches, so a slow collector never delays a probe.
"""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from psycopg.conninfo import conninfo_to_dict

from edgesla import __version__
from edgesla.probes._result import ProbeResult

__all__ = [
    "DB_SYSTEM",
    "Tracing",
    "make_tracing",
    "server_address",
    "span_attributes",
    "span_outcome",
]

#: OpenTelemetry's db.system.name of each prober's server
DB_SYSTEM = {
    "postgres_query": "postgresql",
    "postgres_replication": "postgresql",
    "postgres_convergence": "postgresql",
    "mongodb_query": "mongodb",
    "mongodb_replication": "mongodb",
    "etcd": "etcd",
    "kube_apiserver": "kubernetes",
}


class Tracing:
    """A tracer, and the provider behind it to flush on shutdown (None: tracing is off)."""

    def __init__(self, tracer: trace.Tracer, provider: TracerProvider | None = None) -> None:
        self.tracer = tracer
        self._provider = provider

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def shutdown(self) -> None:
        """Send the spans still batched, then stop."""
        if self._provider is not None:
            self._provider.shutdown()


def make_tracing(
    pop: str, endpoint: str | None = None, processor: SpanProcessor | None = None
) -> Tracing:
    """Real tracing when an OTLP endpoint (or a test's span processor) is given, else no-op."""
    endpoint = endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint is None and processor is None:
        return Tracing(trace.NoOpTracer())
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "edgesla-exporter", "service.version": __version__, "edgesla.pop": pop}
        )
    )
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        url = endpoint.rstrip("/") + "/v1/traces" if endpoint else None
        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=url))
    provider.add_span_processor(processor)
    return Tracing(provider.get_tracer("edgesla.exporter", __version__), provider)


def span_attributes(target: Any, pop: str) -> dict[str, str | int]:
    """Semantic-convention attributes of a probe span; never a credential."""
    attrs: dict[str, str | int] = {
        "db.system.name": DB_SYSTEM.get(target.prober, target.prober),
        "edgesla.pop": pop,
        "edgesla.target": target.name,
        "edgesla.prober": target.prober,
    }
    query = getattr(target, "query", None)
    if isinstance(query, str) and query.split():
        attrs["db.operation.name"] = query.split()[0].upper()
    collection = getattr(target, "collection", None)
    if isinstance(collection, str):
        attrs["db.collection.name"] = collection
        attrs["db.namespace"] = str(getattr(target, "database", ""))
    address = server_address(target)
    if address:
        attrs["server.address"] = address
    return attrs


def server_address(target: Any) -> str | None:
    """The first host a target's DSN or URI names — never its user name or password.

    ``mongodb://probe:secret@db1:27017,db2:27017/`` → ``db1``; a libpq keyword DSN
    (``host=10.0.0.5 port=5432``) or URI (``postgresql://u:pw@pg.example/db``) → its host.
    """
    dsn = getattr(target, "dsn", None)
    if isinstance(dsn, str):
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            return None
        host = params.get("host") or params.get("hostaddr")
        return str(host).split(",")[0] if host else None
    uri = getattr(target, "uri", None)
    if not isinstance(uri, str) or "://" not in uri:
        return None
    hosts = re.split(r"[/?]", uri.split("://", 1)[1], maxsplit=1)[0]
    first = hosts.rsplit("@", 1)[-1].split(",")[0]  # user:password@ comes before the hosts
    if first.startswith("["):  # [ipv6]:port
        return first[1 : first.find("]")] or None
    return first.rsplit(":", 1)[0] or None


def span_outcome(span: trace.Span, result: ProbeResult) -> None:
    span.set_attribute("edgesla.success", result.success)
    if result.latency_seconds is not None:
        span.set_attribute("edgesla.latency_seconds", result.latency_seconds)
    if not result.success:
        span.set_attribute("error.type", result.reason.value if result.reason else "error")
        span.set_status(trace.StatusCode.ERROR, result.detail[:200])
