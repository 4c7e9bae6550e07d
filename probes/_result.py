"""The one contract every prober follows.

    probe(target, timeout) -> ProbeResult

A prober measures one target and *returns* what it saw. It never raises: a dead, slow or
misconfigured target is a result with ``success=False`` and a ``reason`` from the closed
set below. The framework (the exporter, ``edgesla probe``) owns the metrics every probe has
(up, result counters, latency histogram, last success); a prober adds only its own samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

__all__ = ["ProbeResult", "Reason", "Sample"]


class Reason(StrEnum):
    """Why a probe failed. Closed set: it becomes a label value, so it must stay small."""

    TIMEOUT = "timeout"  #: no answer within the timeout
    REFUSED = "refused"  #: connection refused or host unreachable
    AUTH = "auth"  #: authentication or authorisation rejected
    TLS = "tls"  #: TLS handshake or certificate verification failed
    QUERY_ERROR = "query_error"  #: connected, but the query/command failed
    NOT_FOUND = "not_found"  #: the query ran but found nothing where something must be
    UNHEALTHY = "unhealthy"  #: the target answered and says it is not healthy
    CONFIG = "config"  #: the target's config cannot work (e.g. unreadable password file)
    ERROR = "error"  #: anything else (a bug: the detail says what)


@dataclass(frozen=True)
class Sample:
    """One prober-specific measurement, rendered by the framework with the common labels.

    ``name`` is a full metric name from ``edgesla.conventions``; ``labels`` are the extra
    labels of this series only (the framework adds pop, region, target, prober).
    """

    name: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    kind: Literal["gauge", "counter"] = "gauge"


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    #: Seconds the measured operation took (the query, the HTTP call); None when nothing
    #: was timed (e.g. the connection failed before the operation started).
    latency_seconds: float | None
    reason: Reason | None = None
    #: One line for humans (``edgesla probe``, logs). Never contains credentials.
    detail: str = ""
    samples: tuple[Sample, ...] = ()

    @classmethod
    def ok(
        cls, latency: float | None, detail: str = "", samples: tuple[Sample, ...] = ()
    ) -> ProbeResult:
        return cls(True, latency, None, detail, samples)

    @classmethod
    def fail(
        cls,
        reason: Reason,
        detail: str,
        latency: float | None = None,
        samples: tuple[Sample, ...] = (),
    ) -> ProbeResult:
        return cls(False, latency, reason, detail, samples)
