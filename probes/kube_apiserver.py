"""Readiness of the Kubernetes API servers, check by check, and freshness of leader leases.

    probe(target: KubeApiserverTarget, timeout) -> ProbeResult

blackbox_exporter can only say "``/readyz`` answered 200". An operator needs to know
*which* check failed, whether the controllers behind the API are alive, and whether the
API survives losing one server. Per endpoint (all in parallel, one deadline for all, bodies
included — see ``edgesla.probes._http.fetch``):

* ``GET /livez`` → ``KUBE_LIVEZ_UP{endpoint}`` (1 on HTTP 200);
* ``GET /readyz?verbose`` → ``KUBE_READYZ_UP{endpoint}`` (1 on HTTP 200) and, from the body,
  one ``KUBE_READYZ_CHECK_UP{endpoint,check}`` per line::

      [+]ping ok
      [-]etcd failed: reason withheld          ← check "etcd" is 0
      [+]poststarthook/start-apiextensions-controllers ok
      readyz check failed                      ← HTTP 500

Then, through the first endpoint found ready, each Lease of ``target.leases``
(``namespace/name``; by default the scheduler's and the controller manager's leader
election) from ``GET /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}``:
age = now - ``spec.renewTime`` (RFC 3339 with microseconds), duration =
``spec.leaseDurationSeconds``, fresh = age ≤ duration → ``KUBE_LEASE_AGE_SECONDS``,
``KUBE_LEASE_DURATION_SECONDS``, ``KUBE_LEASE_FRESH`` ``{lease}``. A lease that is not
renewed means its holder (the scheduler, the controller manager) is gone or cut off,
even while every API server says ready. The age uses this machine's clock: keep it in sync.

Redundancy: ``CONTROLPLANE_MEMBERS_CONFIGURED{component="kube-apiserver"}`` = number of
endpoints, ``CONTROLPLANE_MEMBERS_HEALTHY`` = endpoints ready. Healthy ≤ 1 is a single point
of failure, visible before it fails.

Success = at least one endpoint ready and every lease fresh. Reasons: no endpoint ready →
``auth`` (HTTP 401/403), ``tls``, ``timeout``, ``refused`` when none answered, else
``unhealthy``; a lease missing → ``not_found``; a lease stale → ``unhealthy``; the lease
unreadable (RBAC) → ``auth``. Auth: a bearer token read from ``token_file`` on every run
(tokens are rotated), or a client certificate (``cert_file``/``key_file``); ``ca_file``
verifies the servers (the environment's proxies and CA bundle are ignored on purpose).
The probe never raises.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.config import KubeApiserverTarget
from edgesla.probes._deadline import Deadline
from edgesla.probes._http import (
    Answer,
    check_files,
    describe_request_error,
    fetch,
    reason_for_request_error,
    session_for,
)
from edgesla.probes._result import ProbeResult, Reason, Sample

__all__ = ["LeaseReport", "lease_freshness", "parse_readyz", "probe"]

COMPONENT = "kube-apiserver"
LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}"
_CHECK_LINE = re.compile(r"^\[([+-])\](\S+)\s+(.*)$")
#: Order in which "no endpoint answered" reasons win when endpoints failed differently.
_REASON_ORDER = (Reason.AUTH, Reason.TLS, Reason.CONFIG, Reason.TIMEOUT, Reason.REFUSED)


# --- pure parts ---------------------------------------------------------------------------


def parse_readyz(body: str) -> dict[str, bool]:
    """Check name → passed, from a ``/readyz?verbose`` (or ``/livez?verbose``) body."""
    checks: dict[str, bool] = {}
    for line in body.splitlines():
        match = _CHECK_LINE.match(line.strip())
        if match:
            checks[match.group(2)] = match.group(1) == "+"
    return checks


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value)  # 3.11+: "Z" and microseconds included
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def lease_freshness(
    lease: Mapping[str, Any], now: datetime
) -> tuple[float | None, float | None, bool]:
    """(age seconds, lease duration seconds, fresh) of a Lease document at ``now``."""
    spec = lease.get("spec") or {}
    renewed = _parse_time(spec.get("renewTime"))
    duration = spec.get("leaseDurationSeconds")
    age = (now - renewed).total_seconds() if renewed else None
    length = float(duration) if isinstance(duration, int | float) else None
    fresh = age is not None and length is not None and age <= length
    return age, length, fresh


# --- one endpoint -------------------------------------------------------------------------


@dataclass
class EndpointReport:
    """What one API server said. ``reason`` is set when it did not answer usefully at all."""

    endpoint: str
    live: bool = False
    ready: bool = False
    checks: dict[str, bool] = field(default_factory=dict)
    reason: Reason | None = None
    detail: str = ""
    readyz_seconds: float | None = None


@dataclass
class LeaseReport:
    lease: str
    age: float | None = None
    duration: float | None = None
    fresh: bool = False
    reason: Reason | None = None  # why it is not fresh, when it is not
    detail: str = ""


class _Session:
    """One endpoint's HTTP session: CA bundle, client certificate or bearer token, deadline."""

    def __init__(
        self, target: KubeApiserverTarget, token: str | None, endpoint: str, deadline: Deadline
    ) -> None:
        self.base = endpoint.rstrip("/")
        self.deadline = deadline
        self.session = session_for(target.ca_file, target.cert_file, target.key_file, token)

    def get(self, path: str) -> Answer:
        return fetch(self.session, "GET", self.base + path, self.deadline)

    def close(self) -> None:
        self.session.close()


class _LeaseJob:
    """The leases are read once, by the first endpoint that finds itself ready."""

    def __init__(self, leases: Sequence[str]) -> None:
        self.leases = leases
        self.reports: list[LeaseReport] | None = None
        self._lock = threading.Lock()
        self._claimed = False

    def claim(self) -> bool:
        with self._lock:
            if self._claimed:
                return False
            self._claimed = True
            return True


def _read_lease(http: _Session, lease: str, now: datetime) -> LeaseReport:
    report = LeaseReport(lease)
    namespace, _, name = lease.partition("/")
    if not namespace or not name:
        report.reason, report.detail = Reason.CONFIG, "expected namespace/name"
        return report
    try:
        response = http.get(LEASE_PATH.format(ns=namespace, name=name))
    except Exception as exc:  # the lease could not be read: that is its report
        report.reason, report.detail = reason_for_request_error(exc), describe_request_error(exc)
        return report
    if response.status_code in (401, 403):
        report.reason, report.detail = Reason.AUTH, f"HTTP {response.status_code}"
    elif response.status_code == 404:
        report.reason, report.detail = Reason.NOT_FOUND, "no such lease"
    elif response.status_code != 200:
        report.reason, report.detail = Reason.QUERY_ERROR, f"HTTP {response.status_code}"
    else:
        doc = response.json()
        report.age, report.duration, report.fresh = lease_freshness(doc, now)
        holder = (doc.get("spec") or {}).get("holderIdentity", "?")
        report.detail = f"held by {holder}"
        if not report.fresh:
            report.reason = Reason.UNHEALTHY
            age = "never renewed" if report.age is None else f"renewed {report.age:.1f}s ago"
            report.detail += f", {age} (duration {report.duration}s): stale"
    return report


def _check_endpoint(
    target: KubeApiserverTarget,
    token: str | None,
    endpoint: str,
    deadline: Deadline,
    job: _LeaseJob,
) -> EndpointReport:
    http = _Session(target, token, endpoint, deadline)
    report = EndpointReport(http.base)
    try:
        live = http.get("/livez")
        start = time.perf_counter()
        ready = http.get("/readyz?verbose")
        report.readyz_seconds = time.perf_counter() - start
        if live.status_code in (401, 403) or ready.status_code in (401, 403):
            report.reason = Reason.AUTH
            report.detail = f"HTTP {live.status_code}/{ready.status_code}: credentials rejected"
            return report
        report.live, report.ready = live.status_code == 200, ready.status_code == 200
        report.checks = parse_readyz(ready.text)
        failed = [name for name, ok in report.checks.items() if not ok]
        report.detail = "ready" if report.ready else f"not ready (HTTP {ready.status_code})"
        if failed:
            report.detail += ", failed checks: " + ", ".join(failed)
        if report.ready and job.claim():
            now = datetime.now(UTC)
            job.reports = [_read_lease(http, lease, now) for lease in job.leases]
    except Exception as exc:  # the endpoint did not answer: that is its report
        report.reason, report.detail = reason_for_request_error(exc), describe_request_error(exc)
    finally:
        http.close()
    return report


# --- the whole ----------------------------------------------------------------------------


def _samples(reports: Sequence[EndpointReport], leases: Sequence[LeaseReport]) -> list[Sample]:
    samples: list[Sample] = []
    for r in reports:
        label = {"endpoint": r.endpoint}
        samples.append(Sample(conv.KUBE_LIVEZ_UP, float(r.live), label))
        samples.append(Sample(conv.KUBE_READYZ_UP, float(r.ready), label))
        for check, ok in r.checks.items():
            samples.append(Sample(conv.KUBE_READYZ_CHECK_UP, float(ok), label | {"check": check}))
    for lease in leases:
        label = {"lease": lease.lease}
        if lease.age is not None:
            samples.append(Sample(conv.KUBE_LEASE_AGE_SECONDS, lease.age, label))
        if lease.duration is not None:
            samples.append(Sample(conv.KUBE_LEASE_DURATION_SECONDS, lease.duration, label))
        samples.append(Sample(conv.KUBE_LEASE_FRESH, float(lease.fresh), label))
    component = {"component": COMPONENT}
    healthy = sum(r.ready for r in reports)
    samples.append(Sample(conv.CONTROLPLANE_MEMBERS_CONFIGURED, float(len(reports)), component))
    samples.append(Sample(conv.CONTROLPLANE_MEMBERS_HEALTHY, float(healthy), component))
    return samples


def evaluate(
    reports: Sequence[EndpointReport], leases: Sequence[LeaseReport] | None
) -> ProbeResult:
    """Turn the endpoints' and leases' reports into the result (pure)."""
    lease_list = list(leases or [])
    samples = tuple(_samples(reports, lease_list))
    ready = sum(r.ready for r in reports)
    detail = f"{ready}/{len(reports)} ready"
    not_ready = [f"{r.endpoint} ({r.detail})" for r in reports if not r.ready]
    if not_ready:
        detail += "; " + ", ".join(not_ready)
    timed = [r.readyz_seconds for r in reports if r.readyz_seconds is not None]
    latency = max(timed) if timed else None
    if ready == 0:
        reasons = [r.reason for r in reports]
        if all(reason is not None for reason in reasons):
            reason = next((x for x in _REASON_ORDER if x in reasons), Reason.ERROR)
            return ProbeResult.fail(reason, detail, latency, samples)
        return ProbeResult.fail(Reason.UNHEALTHY, detail, latency, samples)
    if lease_list:
        detail += "; leases: " + ", ".join(f"{x.lease} {x.detail}" for x in lease_list)
    bad = [x.reason for x in lease_list if x.reason is not None]
    if bad:
        order = (Reason.AUTH, Reason.CONFIG, Reason.NOT_FOUND, Reason.UNHEALTHY)
        reason = next((x for x in order if x in bad), bad[0])
        return ProbeResult.fail(reason, detail, latency, samples)
    return ProbeResult.ok(latency, detail, samples)


def _token(target: KubeApiserverTarget) -> str | None:
    if target.token_file is None:
        return None
    return target.token_file.read_text(encoding="utf-8").strip()


def probe(target: KubeApiserverTarget, timeout: float) -> ProbeResult:
    """Check every endpoint (in parallel) and the leases within ``timeout``; never raises."""
    try:
        check_files(target)
        token = _token(target)
    except ConfigError as exc:
        return ProbeResult.fail(Reason.CONFIG, str(exc))
    except OSError as exc:
        return ProbeResult.fail(
            Reason.CONFIG, f"target {target.name!r}: token_file {target.token_file}: {exc.strerror}"
        )
    try:
        deadline = Deadline(timeout)
        endpoints = list(dict.fromkeys(e.rstrip("/") for e in target.endpoints))
        job = _LeaseJob(target.leases)
        with ThreadPoolExecutor(len(endpoints), thread_name_prefix="edgesla-kube") as pool:
            reports = list(
                pool.map(lambda e: _check_endpoint(target, token, e, deadline, job), endpoints)
            )
        return evaluate(reports, job.reports)
    except Exception as exc:  # a probe returns every failure as a result, never raises
        return ProbeResult.fail(Reason.ERROR, f"kube-apiserver probe failed: {exc!r}"[:300])
