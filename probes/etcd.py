"""Leader, quorum and redundancy of an etcd cluster, asked member by member.

    probe(target: EtcdTarget, timeout) -> ProbeResult

Each endpoint of ``target.endpoints`` is one member, checked on its own and all of them in
parallel (one thread each, one deadline for all: every request, body included, ends by it —
see ``edgesla.probes._http.fetch``):

1. ``GET /health``: healthy = HTTP 200 and ``{"health": "true"}`` (which needs a leader);
2. ``POST /v3/maintenance/status``: the member's id and the leader id it sees;
3. ``POST /v3/cluster/member/list``: the configured members (names, client URLs);
4. ``GET /metrics`` (the member's own, parsed with ``prometheus_client``'s parser):
   ``etcd_server_has_leader``, ``etcd_server_is_leader``,
   ``etcd_server_leader_changes_seen_total``, ``etcd_server_proposals_failed_total``, and the
   p99 of ``etcd_disk_wal_fsync_duration_seconds`` computed from its buckets the way
   PromQL's ``histogram_quantile`` does. The buckets are cumulative since the member
   started, so this p99 is over the member's lifetime; a windowed p99 is
   ``histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m]))`` in
   Prometheus on etcd's own metrics.

Checking members one by one matters: ``etcdctl endpoint health`` over all endpoints exits 1
("unhealthy cluster") when a single member of three is down, although the cluster works.
Here one member down is still a success, with the loss visible as redundancy:

* ``CONTROLPLANE_MEMBERS_CONFIGURED{component="etcd"}``: the cluster size from the member
  list (the number of endpoints when no member answered);
* ``CONTROLPLANE_MEMBERS_HEALTHY{component="etcd"}``: members whose ``/health`` is true;
* ``ETCD_QUORUM_OK``: healthy ≥ size // 2 + 1.

Success = quorum ok. Quorum lost while some member still answers → ``unhealthy``; no
member answers at all → the reason of the failure (``refused``, ``timeout``, ``tls``,
``auth``). Samples are labelled ``member`` with the member's name from the member list
(its endpoint URL when the member is not listed). TLS: ``ca_file`` verifies the server
(without it, the CA bundle of ``certifi``: the environment is ignored on purpose),
``cert_file``/``key_file`` authenticate the client. The probe never raises.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.config import EtcdTarget
from edgesla.probes._deadline import Deadline
from edgesla.probes._http import (
    Answer,
    check_files,
    describe_request_error,
    fetch,
    reason_for_request_error,
    session_for,
    short,
)
from edgesla.probes._result import ProbeResult, Reason, Sample

__all__ = [
    "MemberReport",
    "evaluate",
    "histogram_quantile",
    "parse_metrics",
    "probe",
]

COMPONENT = "etcd"
FSYNC_QUANTILE = 0.99
_FSYNC = "etcd_disk_wal_fsync_duration_seconds"
#: etcd's own sample names → ours (both spelled in edgesla.conventions).
_GAUGES = {
    "etcd_server_has_leader": conv.ETCD_MEMBER_HAS_LEADER,
    "etcd_server_is_leader": conv.ETCD_MEMBER_IS_LEADER,
}
_COUNTERS = {
    "etcd_server_leader_changes_seen_total": conv.ETCD_LEADER_CHANGES_TOTAL,
    "etcd_server_proposals_failed_total": conv.ETCD_PROPOSALS_FAILED_TOTAL,
}
_WANTED = (*_GAUGES, *_COUNTERS, _FSYNC)
#: Order in which "nobody answered" reasons win when members failed differently.
_REASON_ORDER = (Reason.TLS, Reason.AUTH, Reason.CONFIG, Reason.TIMEOUT, Reason.REFUSED)


# --- metrics parsing ----------------------------------------------------------------------


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The q-quantile of cumulative ``(upper bound, count)`` buckets, as PromQL computes it.

    Linear interpolation inside the bucket the rank falls in (from 0 for the first bucket);
    the highest finite bound when the rank falls in ``+Inf``; None without observations.
    """
    ordered = sorted(buckets)
    if not ordered or not math.isinf(ordered[-1][0]) or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def _wanted_text(text: str) -> str:
    """Only the lines of the families we read: etcd's /metrics is ~150 KB."""
    keep = []
    for line in text.splitlines():
        name = line.split(" ", 3)[2] if line.startswith("# ") and line.count(" ") >= 2 else line
        if name.startswith(_WANTED):
            keep.append(line)
    return "\n".join(keep) + "\n"


def parse_metrics(text: str) -> tuple[dict[str, float], float | None]:
    """(etcd sample name → value for the gauges and counters we read, fsync p99 or None)."""
    values: dict[str, float] = {}
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(_wanted_text(text)):
        for sample in family.samples:
            if sample.name in _GAUGES or sample.name in _COUNTERS:
                values[sample.name] = float(sample.value)
            elif sample.name == f"{_FSYNC}_bucket":
                buckets.append((float(sample.labels["le"]), float(sample.value)))
    return values, histogram_quantile(FSYNC_QUANTILE, buckets)


# --- one member ---------------------------------------------------------------------------


@dataclass
class MemberReport:
    """What one endpoint said. ``reason`` is set when it did not answer /health at all."""

    endpoint: str
    healthy: bool = False
    reason: Reason | None = None
    detail: str = ""
    health_seconds: float | None = None
    member_id: str | None = None
    leader_id: str | None = None
    members: list[Mapping[str, Any]] | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    fsync_p99: float | None = None


class _Member:
    """Talks to one endpoint within a shared deadline."""

    def __init__(self, target: EtcdTarget, endpoint: str, deadline: Deadline) -> None:
        self.base = endpoint.rstrip("/")
        self.deadline = deadline
        self.session = session_for(target.ca_file, target.cert_file, target.key_file)

    def get(self, path: str) -> Answer:
        return fetch(self.session, "GET", self.base + path, self.deadline)

    def post(self, path: str) -> Answer:
        return fetch(self.session, "POST", self.base + path, self.deadline, json={})

    def check(self) -> MemberReport:
        report = MemberReport(self.base)
        try:
            self._health(report)
        except Exception as exc:  # the member did not answer: that is the report
            report.reason = reason_for_request_error(exc)
            report.detail = describe_request_error(exc)
            return report
        if report.reason is not None:  # answered, but refused who we are
            return report
        for step in (self._status, self._member_list, self._metrics):
            try:
                step(report)
            except Exception as exc:  # a member that answers /health but not this: a gap
                report.detail += f"; {step.__name__.strip('_')}: {describe_request_error(exc)}"
        return report

    def _health(self, report: MemberReport) -> None:
        start = time.perf_counter()
        response = self.get("/health")
        report.health_seconds = time.perf_counter() - start
        if response.status_code in (401, 403):
            report.reason = Reason.AUTH
            report.detail = f"/health: HTTP {response.status_code}"
            return
        body = response.json() if response.content else {}
        report.healthy = response.status_code == 200 and body.get("health") == "true"
        report.detail = "healthy" if report.healthy else f"HTTP {response.status_code} {body}"

    def _status(self, report: MemberReport) -> None:
        body = self.post("/v3/maintenance/status").json()
        report.member_id = str(body.get("header", {}).get("member_id") or "") or None
        report.leader_id = str(body.get("leader") or "") or None

    def _member_list(self, report: MemberReport) -> None:
        report.members = list(self.post("/v3/cluster/member/list").json().get("members", []))

    def _metrics(self, report: MemberReport) -> None:
        response = self.get("/metrics")
        response.raise_for_status()
        report.metrics, report.fsync_p99 = parse_metrics(response.text)

    def close(self) -> None:
        self.session.close()


def _check_member(target: EtcdTarget, endpoint: str, deadline: Deadline) -> MemberReport:
    member = _Member(target, endpoint, deadline)
    try:
        return member.check()
    finally:
        member.close()


# --- the cluster --------------------------------------------------------------------------


def _names(reports: Sequence[MemberReport]) -> tuple[dict[str, str], dict[str, str], int]:
    """(endpoint → member name, member id → name, cluster size) from any member list."""
    listed = next((r.members for r in reports if r.members), None)
    if not listed:
        return {r.endpoint: r.endpoint for r in reports}, {}, len(reports)
    by_url = {
        url.rstrip("/"): str(m.get("name") or m.get("ID"))
        for m in listed
        for url in m.get("clientURLs", [])
    }
    by_id = {str(m.get("ID")): str(m.get("name") or m.get("ID")) for m in listed}
    names = {}
    for r in reports:
        names[r.endpoint] = by_url.get(r.endpoint) or by_id.get(r.member_id or "", r.endpoint)
    return names, by_id, len(listed)


def _member_samples(report: MemberReport, name: str) -> list[Sample]:
    label = {"member": name}
    samples = [Sample(conv.ETCD_MEMBER_HEALTHY, 1.0 if report.healthy else 0.0, label)]
    for theirs, ours in _GAUGES.items():
        if theirs in report.metrics:
            samples.append(Sample(ours, report.metrics[theirs], label))
    for theirs, ours in _COUNTERS.items():
        if theirs in report.metrics:
            samples.append(Sample(ours, report.metrics[theirs], label, kind="counter"))
    if report.fsync_p99 is not None:
        samples.append(Sample(conv.ETCD_WAL_FSYNC_P99_SECONDS, report.fsync_p99, label))
    return samples


def evaluate(reports: Sequence[MemberReport]) -> ProbeResult:
    """Turn the members' reports into the cluster's result (pure)."""
    names, by_id, size = _names(reports)
    healthy = sum(r.healthy for r in reports)
    needed = size // 2 + 1
    quorum = healthy >= needed
    component = {"component": COMPONENT}
    samples = [s for r in reports for s in _member_samples(r, names[r.endpoint])]
    samples += [
        Sample(conv.ETCD_QUORUM_OK, 1.0 if quorum else 0.0),
        Sample(conv.CONTROLPLANE_MEMBERS_CONFIGURED, float(size), component),
        Sample(conv.CONTROLPLANE_MEMBERS_HEALTHY, float(healthy), component),
    ]
    leaders = {r.leader_id for r in reports if r.healthy and r.leader_id not in (None, "0")}
    leader_text = ", ".join(sorted(by_id.get(i, i) for i in leaders if i)) or "none"
    down = [f"{names[r.endpoint]} ({r.detail})" for r in reports if not r.healthy]
    detail = f"{healthy}/{size} healthy (quorum needs {needed}), leader {leader_text}"
    if len(leaders) > 1:
        detail += "; members disagree on the leader"
    if down:
        detail += "; not healthy: " + ", ".join(down)
    timed = [r.health_seconds for r in reports if r.health_seconds is not None]
    latency = max(timed) if timed else None
    if quorum:
        return ProbeResult.ok(latency, detail, tuple(samples))
    reasons = [r.reason for r in reports]
    if all(reason is not None for reason in reasons):  # nobody answered at all
        reason = next((x for x in _REASON_ORDER if x in reasons), Reason.ERROR)
        return ProbeResult.fail(reason, "no member answered: " + detail, latency, tuple(samples))
    return ProbeResult.fail(Reason.UNHEALTHY, "quorum lost: " + detail, latency, tuple(samples))


def probe(target: EtcdTarget, timeout: float) -> ProbeResult:
    """Check every member within ``timeout`` seconds (in parallel); never raises."""
    try:
        check_files(target)
    except ConfigError as exc:
        return ProbeResult.fail(Reason.CONFIG, str(exc))
    try:
        deadline = Deadline(timeout)
        endpoints = list(dict.fromkeys(e.rstrip("/") for e in target.endpoints))
        with ThreadPoolExecutor(len(endpoints), thread_name_prefix="edgesla-etcd") as pool:
            reports = list(pool.map(lambda e: _check_member(target, e, deadline), endpoints))
        return evaluate(reports)
    except Exception as exc:  # a probe returns every failure as a result, never raises
        return ProbeResult.fail(Reason.ERROR, f"etcd probe failed: {short(exc)}")
