"""kube_apiserver prober against a stand-in API server serving recorded-shape responses.

No kube-apiserver can run on these machines. ``kube_fake.FakeApiserver`` serves, over real
HTTPS on loopback (a throwaway CA, server and client certificates made with openssl), the
recorded shapes of a real API server's ``/livez``, ``/readyz?verbose`` (healthy, and with
``[-]etcd failed: reason withheld``) and coordination.k8s.io/v1 Lease objects
(``tests/testdata/kube``), and checks the bearer token or client certificate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edgesla import conventions as conv
from edgesla.config import KubeApiserverTarget
from edgesla.probes import kube_apiserver
from edgesla.probes._result import ProbeResult, Reason
from tests.probes.cp.conftest import free_port
from tests.probes.cp.kube_fake import DATA, FakeApiserver, Pki

SCHEDULER = "kube-system/kube-scheduler"
CONTROLLER_MANAGER = "kube-system/kube-controller-manager"
KUBE_COMPONENT = {"component": "kube-apiserver"}


@pytest.fixture
def token_file(tmp_path: Path, apiserver: FakeApiserver) -> Path:
    path = tmp_path / "token"
    path.write_text(apiserver.token + "\n")
    return path


def _target(endpoints: tuple[str, ...], pki: Pki, **extra: Any) -> KubeApiserverTarget:
    return KubeApiserverTarget(
        name="kube", prober="kube_apiserver", endpoints=endpoints, ca_file=pki.ca, **extra
    )


def value(result: ProbeResult, name: str, **labels: str) -> float:
    found = [s.value for s in result.samples if s.name == name and dict(s.labels) == labels]
    assert len(found) == 1, (name, labels, result.samples)
    return found[0]


def redundancy(result: ProbeResult) -> tuple[float, float]:
    return (
        value(result, conv.CONTROLPLANE_MEMBERS_CONFIGURED, **KUBE_COMPONENT),
        value(result, conv.CONTROLPLANE_MEMBERS_HEALTHY, **KUBE_COMPONENT),
    )


def test_healthy_apiserver_with_fresh_leases(
    apiserver: FakeApiserver, pki: Pki, token_file: Path
) -> None:
    result = kube_apiserver.probe(_target((apiserver.url,), pki, token_file=token_file), 2.0)
    assert result.success, result.detail
    assert result.latency_seconds is not None
    ep = apiserver.url
    assert value(result, conv.KUBE_LIVEZ_UP, endpoint=ep) == 1.0
    assert value(result, conv.KUBE_READYZ_UP, endpoint=ep) == 1.0
    assert value(result, conv.KUBE_READYZ_CHECK_UP, endpoint=ep, check="etcd") == 1.0
    checks = [s for s in result.samples if s.name == conv.KUBE_READYZ_CHECK_UP]
    assert len(checks) == 32
    for lease, age in ((SCHEDULER, 1.5), (CONTROLLER_MANAGER, 0.8)):
        assert value(result, conv.KUBE_LEASE_FRESH, lease=lease) == 1.0
        assert value(result, conv.KUBE_LEASE_DURATION_SECONDS, lease=lease) == 15.0
        assert value(result, conv.KUBE_LEASE_AGE_SECONDS, lease=lease) == pytest.approx(
            age, abs=0.5
        )
    assert redundancy(result) == (1.0, 1.0)  # one API server: a single point of failure
    assert "/readyz?verbose" in apiserver.requests_seen


def test_failing_readyz_check_is_reported_per_check(
    apiserver: FakeApiserver, pki: Pki, token_file: Path
) -> None:
    apiserver.ready = False
    result = kube_apiserver.probe(_target((apiserver.url,), pki, token_file=token_file), 2.0)
    assert (result.success, result.reason) == (False, Reason.UNHEALTHY)
    ep = apiserver.url
    assert value(result, conv.KUBE_LIVEZ_UP, endpoint=ep) == 1.0
    assert value(result, conv.KUBE_READYZ_UP, endpoint=ep) == 0.0
    assert value(result, conv.KUBE_READYZ_CHECK_UP, endpoint=ep, check="etcd") == 0.0
    assert value(result, conv.KUBE_READYZ_CHECK_UP, endpoint=ep, check="etcd-readiness") == 0.0
    assert value(result, conv.KUBE_READYZ_CHECK_UP, endpoint=ep, check="ping") == 1.0
    assert "failed checks: etcd, etcd-readiness" in result.detail
    assert redundancy(result) == (1.0, 0.0)


def test_stale_lease_is_not_fresh_and_fails(
    apiserver: FakeApiserver, pki: Pki, token_file: Path
) -> None:
    apiserver.lease_ages[SCHEDULER] = 42.0  # leaseDurationSeconds is 15
    result = kube_apiserver.probe(_target((apiserver.url,), pki, token_file=token_file), 2.0)
    assert (result.success, result.reason) == (False, Reason.UNHEALTHY)
    assert value(result, conv.KUBE_LEASE_FRESH, lease=SCHEDULER) == 0.0
    assert value(result, conv.KUBE_LEASE_AGE_SECONDS, lease=SCHEDULER) > 15.0
    assert value(result, conv.KUBE_LEASE_FRESH, lease=CONTROLLER_MANAGER) == 1.0
    assert "stale" in result.detail


def test_missing_lease_is_not_found(apiserver: FakeApiserver, pki: Pki, token_file: Path) -> None:
    del apiserver.lease_ages[CONTROLLER_MANAGER]
    result = kube_apiserver.probe(_target((apiserver.url,), pki, token_file=token_file), 2.0)
    assert (result.success, result.reason) == (False, Reason.NOT_FOUND)
    assert value(result, conv.KUBE_LEASE_FRESH, lease=CONTROLLER_MANAGER) == 0.0


def test_wrong_token_is_auth(apiserver: FakeApiserver, pki: Pki, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-token"
    wrong.write_text("not-the-token")
    result = kube_apiserver.probe(_target((apiserver.url,), pki, token_file=wrong), 2.0)
    assert (result.success, result.reason) == (False, Reason.AUTH)
    assert "401" in result.detail
    assert "not-the-token" not in result.detail
    assert value(result, conv.KUBE_READYZ_UP, endpoint=apiserver.url) == 0.0


def test_client_certificate_authenticates(apiserver: FakeApiserver, pki: Pki) -> None:
    target = _target((apiserver.url,), pki, cert_file=pki.client_cert, key_file=pki.client_key)
    result = kube_apiserver.probe(target, 2.0)
    assert result.success, result.detail


def test_anonymous_may_check_health_but_not_read_leases(apiserver: FakeApiserver, pki: Pki) -> None:
    result = kube_apiserver.probe(_target((apiserver.url,), pki), 2.0)
    assert (result.success, result.reason) == (False, Reason.AUTH)
    assert value(result, conv.KUBE_READYZ_UP, endpoint=apiserver.url) == 1.0
    assert value(result, conv.KUBE_LEASE_FRESH, lease=SCHEDULER) == 0.0


def test_unreachable_second_endpoint_shows_in_redundancy(
    apiserver: FakeApiserver, pki: Pki, token_file: Path
) -> None:
    dead = f"https://127.0.0.1:{free_port()}"
    target = _target((apiserver.url, dead), pki, token_file=token_file)
    result = kube_apiserver.probe(target, 2.0)
    assert result.success, result.detail
    assert redundancy(result) == (2.0, 1.0)
    assert value(result, conv.KUBE_READYZ_UP, endpoint=dead) == 0.0
    assert value(result, conv.KUBE_LIVEZ_UP, endpoint=dead) == 0.0
    assert f"{dead} (refused" in result.detail


def test_no_endpoint_reachable_is_refused(pki: Pki) -> None:
    target = _target(tuple(f"https://127.0.0.1:{free_port()}" for _ in range(2)), pki)
    result = kube_apiserver.probe(target, 1.0)
    assert (result.success, result.reason) == (False, Reason.REFUSED)
    assert redundancy(result) == (2.0, 0.0)


def test_untrusted_certificate_is_tls(apiserver: FakeApiserver, token_file: Path) -> None:
    target = KubeApiserverTarget(
        name="kube", prober="kube_apiserver", endpoints=(apiserver.url,), token_file=token_file
    )
    result = kube_apiserver.probe(target, 2.0)
    assert (result.success, result.reason) == (False, Reason.TLS), result.detail


def test_unreadable_token_file_is_config(
    apiserver: FakeApiserver, pki: Pki, tmp_path: Path
) -> None:
    target = _target((apiserver.url,), pki, token_file=tmp_path / "missing")
    result = kube_apiserver.probe(target, 2.0)
    assert (result.success, result.reason) == (False, Reason.CONFIG)


# --- pure parts, on the recorded shapes ---------------------------------------------------


def test_parse_readyz_reads_every_check() -> None:
    ok = kube_apiserver.parse_readyz((DATA / "readyz-verbose-ok.txt").read_text())
    assert len(ok) == 32
    assert all(ok.values())
    assert "poststarthook/rbac/bootstrap-roles" in ok
    failed = kube_apiserver.parse_readyz((DATA / "readyz-verbose-etcd-failed.txt").read_text())
    assert {name for name, passed in failed.items() if not passed} == {"etcd", "etcd-readiness"}


def test_lease_freshness_uses_microsecond_renew_time() -> None:
    lease = {"spec": {"renewTime": "2026-11-23T20:56:33.907214Z", "leaseDurationSeconds": 15}}
    now = datetime(2026, 11, 23, 20, 56, 48, 907214, tzinfo=UTC)
    assert kube_apiserver.lease_freshness(lease, now) == (15.0, 15.0, True)  # age == duration
    later = datetime(2026, 11, 23, 20, 56, 48, 907215, tzinfo=UTC)
    age, _, fresh = kube_apiserver.lease_freshness(lease, later)
    assert age == pytest.approx(15.000001)
    assert fresh is False
    assert kube_apiserver.lease_freshness({"spec": {}}, now) == (None, None, False)
