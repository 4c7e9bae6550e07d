"""etcd prober against real three-member etcd clusters on loopback.

The healthy case reads the shared stack. The destructive cases stop members (SIGSTOP: the
process hangs, as a wedged member does) of a private stack on ports base + 340..350, and resume
them (SIGCONT) afterwards.
"""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from edgesla import conventions as conv
from edgesla.config import EtcdTarget
from edgesla.probes import etcd
from edgesla.probes._result import ProbeResult, Reason
from edgesla.stack.layout import ETCD_MEMBERS, Layout
from tests.helpers import eventually, stack_json
from tests.probes.cp.conftest import free_port
from tests.probes.cp.kube_fake import FakeApiserver, Pki

pytestmark = pytest.mark.stack

ETCD_COMPONENT = (("component", "etcd"),)


def _target(layout: Layout) -> EtcdTarget:
    endpoints = tuple(f"http://127.0.0.1:{layout.etcd_client_port(m)}" for m in ETCD_MEMBERS)
    return EtcdTarget(name="etcd", prober="etcd", endpoints=endpoints)


def per_member(result: ProbeResult, name: str) -> dict[str, float]:
    return {s.labels["member"]: s.value for s in result.samples if s.name == name}


def single(result: ProbeResult, name: str, labels: tuple[tuple[str, str], ...] = ()) -> float:
    found = [
        s.value
        for s in result.samples
        if s.name == name and tuple(sorted(s.labels.items())) == labels
    ]
    assert len(found) == 1, (name, result.samples)
    return found[0]


def redundancy(result: ProbeResult) -> tuple[float, float]:
    return (
        single(result, conv.CONTROLPLANE_MEMBERS_CONFIGURED, ETCD_COMPONENT),
        single(result, conv.CONTROLPLANE_MEMBERS_HEALTHY, ETCD_COMPONENT),
    )


# --- the shared, healthy cluster ----------------------------------------------------------


def test_healthy_cluster_one_leader_quorum_and_fsync_p99(stack: Layout) -> None:
    result = etcd.probe(_target(stack), 3.0)
    assert result.success, result.detail
    assert result.reason is None
    assert result.latency_seconds is not None
    assert 0 < result.latency_seconds < 3.0
    assert per_member(result, conv.ETCD_MEMBER_HEALTHY) == dict.fromkeys(ETCD_MEMBERS, 1.0)
    assert per_member(result, conv.ETCD_MEMBER_HAS_LEADER) == dict.fromkeys(ETCD_MEMBERS, 1.0)
    is_leader = per_member(result, conv.ETCD_MEMBER_IS_LEADER)
    assert sorted(is_leader.values()) == [0.0, 0.0, 1.0]
    leader = next(m for m, v in is_leader.items() if v == 1.0)
    assert f"leader {leader}" in result.detail
    assert single(result, conv.ETCD_QUORUM_OK) == 1.0
    assert redundancy(result) == (3.0, 3.0)
    fsync = per_member(result, conv.ETCD_WAL_FSYNC_P99_SECONDS)
    assert set(fsync) == set(ETCD_MEMBERS)
    assert all(0 < v < 8.192 for v in fsync.values()), fsync  # within etcd's finite buckets
    changes = [s for s in result.samples if s.name == conv.ETCD_LEADER_CHANGES_TOTAL]
    assert {s.kind for s in changes} == {"counter"}
    assert all(s.value >= 1 for s in changes)
    assert set(per_member(result, conv.ETCD_PROPOSALS_FAILED_TOTAL)) == set(ETCD_MEMBERS)


def test_unlisted_unreachable_endpoint_counts_against_quorum(stack: Layout) -> None:
    endpoints = (f"http://127.0.0.1:{stack.etcd_client_port('etcd1')}",
                 f"http://127.0.0.1:{free_port()}")  # fmt: skip
    result = etcd.probe(EtcdTarget(name="etcd", prober="etcd", endpoints=endpoints), 2.0)
    # the member list says 3 members; only one of them is checked and healthy
    assert (result.success, result.reason) == (False, Reason.UNHEALTHY)
    assert redundancy(result) == (3.0, 1.0)


def test_all_endpoints_refused_is_refused() -> None:
    endpoints = tuple(f"http://127.0.0.1:{free_port()}" for _ in range(3))
    result = etcd.probe(EtcdTarget(name="etcd", prober="etcd", endpoints=endpoints), 1.0)
    assert (result.success, result.reason) == (False, Reason.REFUSED)
    assert single(result, conv.ETCD_QUORUM_OK) == 0.0
    assert result.latency_seconds is None


def test_untrusted_server_certificate_is_tls_and_ca_file_fixes_it(
    apiserver: FakeApiserver, pki: Pki
) -> None:
    """No TLS etcd runs here: the stand-in HTTPS server of kube_fake plays an etcd member
    whose certificate comes from a CA the system does not trust."""
    untrusted = EtcdTarget(name="etcd", prober="etcd", endpoints=(apiserver.url,))
    result = etcd.probe(untrusted, 2.0)
    assert (result.success, result.reason) == (False, Reason.TLS), result.detail
    assert "certificate verify failed" in result.detail
    trusted = EtcdTarget(
        name="etcd",
        prober="etcd",
        endpoints=(apiserver.url,),
        ca_file=pki.ca,
        cert_file=pki.client_cert,
        key_file=pki.client_key,
    )
    result = etcd.probe(trusted, 2.0)
    # TLS and the client certificate passed; the stand-in is no etcd, so /health is a 404
    assert (result.success, result.reason) == (False, Reason.UNHEALTHY), result.detail
    assert "HTTP 404" in result.detail
    assert apiserver.requests_seen[-4:][0] == "/health"


# --- a private cluster, members stopped ---------------------------------------------------


@contextmanager
def stopped(layout: Layout, members: Sequence[str]) -> Iterator[None]:
    """SIGSTOP the members' etcd processes for the block; SIGCONT them afterwards."""
    pids = {c["name"]: int(c["pid"]) for c in stack_json(layout.state_dir)["components"]}
    for member in members:
        os.kill(pids[member], signal.SIGSTOP)
    try:
        yield
    finally:
        for member in members:
            os.kill(pids[member], signal.SIGCONT)


def _wait_all_healthy(target: EtcdTarget) -> None:
    def healthy() -> bool:
        result = etcd.probe(target, 3.0)
        return result.success and redundancy(result) == (3.0, 3.0)

    eventually(healthy, timeout=30, interval=0.5)


@pytest.mark.slow
def test_one_member_down_is_still_success_with_redundancy_two_of_three(
    own_stack: Layout,
) -> None:
    target = _target(own_stack)
    _wait_all_healthy(target)
    with stopped(own_stack, ["etcd1"]):

        def degraded() -> ProbeResult | None:
            result = etcd.probe(target, 2.0)
            return result if redundancy(result) == (3.0, 2.0) else None

        result = eventually(degraded, timeout=30, interval=0.5)
        assert result.success, result.detail
        assert single(result, conv.ETCD_QUORUM_OK) == 1.0
        assert per_member(result, conv.ETCD_MEMBER_HEALTHY)["etcd1"] == 0.0
        assert "etcd1 (timeout" in result.detail
        assert result.latency_seconds is not None
        assert result.latency_seconds < 2.0  # the wedged member's timeout is not the latency
    _wait_all_healthy(target)


@pytest.mark.slow
def test_two_members_down_loses_quorum(own_stack: Layout) -> None:
    target = _target(own_stack)
    _wait_all_healthy(target)
    with stopped(own_stack, ["etcd1", "etcd2"]):

        def quorum_lost() -> ProbeResult | None:
            result = etcd.probe(target, 3.0)
            return None if result.success else result

        result = eventually(quorum_lost, timeout=30, interval=0.5)
        assert result.reason == Reason.UNHEALTHY
        assert single(result, conv.ETCD_QUORUM_OK) == 0.0
        configured, healthy = redundancy(result)
        assert configured == 3.0
        assert healthy <= 1.0
        assert "quorum lost" in result.detail
    _wait_all_healthy(target)  # and it recovers once the members resume


# --- pure parts ---------------------------------------------------------------------------

ETCD_METRICS = """\
# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.
# TYPE etcd_disk_wal_fsync_duration_seconds histogram
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 17
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 18
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 19
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.008"} 19
etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 19
etcd_disk_wal_fsync_duration_seconds_sum 0.009581880000000001
etcd_disk_wal_fsync_duration_seconds_count 19
# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.
# TYPE etcd_server_has_leader gauge
etcd_server_has_leader 1
# HELP etcd_server_is_leader Whether or not this member is a leader. 1 if is, 0 otherwise.
# TYPE etcd_server_is_leader gauge
etcd_server_is_leader 0
# HELP etcd_server_leader_changes_seen_total The number of leader changes seen.
# TYPE etcd_server_leader_changes_seen_total counter
etcd_server_leader_changes_seen_total 1
# HELP etcd_server_proposals_failed_total The total number of failed proposals seen.
# TYPE etcd_server_proposals_failed_total counter
etcd_server_proposals_failed_total 0
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 123
"""


def test_parse_metrics_reads_etcds_own_names_and_the_fsync_p99() -> None:
    """Recorded from an etcd 3.4.23 member of the local stack (trimmed)."""
    values, p99 = etcd.parse_metrics(ETCD_METRICS)
    assert values == {
        "etcd_server_has_leader": 1.0,
        "etcd_server_is_leader": 0.0,
        "etcd_server_leader_changes_seen_total": 1.0,
        "etcd_server_proposals_failed_total": 0.0,
    }
    # rank 0.99 * 19 = 18.81 falls in (0.002, 0.004] holding counts 18..19
    assert p99 == pytest.approx(0.002 + 0.002 * 0.81)


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        ([(0.5, 0.0), (1.0, 100.0), (math.inf, 100.0)], 0.5 + 0.5 * 0.99),
        ([(0.001, 100.0), (math.inf, 100.0)], 0.00099),
        ([(0.001, 0.0), (0.002, 0.0), (math.inf, 10.0)], 0.002),  # rank in +Inf: top bound
        ([(0.001, 0.0), (math.inf, 0.0)], None),  # no observations
        ([(0.001, 3.0)], None),  # no +Inf bucket: not a histogram
        ([], None),
    ],
)
def test_histogram_quantile_matches_promql(
    buckets: list[tuple[float, float]], expected: float | None
) -> None:
    assert etcd.histogram_quantile(0.99, buckets) == (
        pytest.approx(expected) if expected is not None else None
    )
