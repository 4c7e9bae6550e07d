"""A file a target names that cannot be read is a ``config`` failure that names the key and
the file, for every prober (the TLS libraries say only "No such file or directory")."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla.config import (
    EtcdTarget,
    KubeApiserverTarget,
    MongoQueryTarget,
    MongoReplicationTarget,
    PostgresQueryTarget,
)
from edgesla.probes._result import Reason
from edgesla.probes.registry import PROBERS


def _targets(missing: Path) -> list[tuple[object, str]]:
    return [
        (
            PostgresQueryTarget(
                name="pg",
                prober="postgres_query",
                dsn="host=127.0.0.1 port=1",
                sslmode="verify-full",
                sslrootcert=missing,
            ),
            "sslrootcert",
        ),
        (
            MongoQueryTarget(
                name="mq",
                prober="mongodb_query",
                uri="mongodb://127.0.0.1:1/",
                tls=True,
                tls_ca_file=missing,
            ),
            "tls_ca_file",
        ),
        (
            MongoReplicationTarget(
                name="mr",
                prober="mongodb_replication",
                tls=True,
                uri="mongodb://127.0.0.1:1/",
                tls_ca_file=missing,
            ),
            "tls_ca_file",
        ),
        (
            EtcdTarget(
                name="etcd", prober="etcd", endpoints=("https://127.0.0.1:1",), ca_file=missing
            ),
            "ca_file",
        ),
        (
            EtcdTarget(
                name="etcd",
                prober="etcd",
                endpoints=("https://127.0.0.1:1",),
                cert_file=missing,
                key_file=missing,
            ),
            "cert_file",
        ),
        (
            KubeApiserverTarget(
                name="kube",
                prober="kube_apiserver",
                ca_file=missing,
                endpoints=("https://127.0.0.1:1",),
            ),
            "ca_file",
        ),
        (
            KubeApiserverTarget(
                name="kube",
                prober="kube_apiserver",
                key_file=missing,
                endpoints=("https://127.0.0.1:1",),
            ),
            "key_file",
        ),
    ]


@pytest.mark.parametrize("case", range(7))
def test_a_missing_tls_file_is_named(tmp_path: Path, case: int) -> None:
    missing = tmp_path / "nowhere" / "ca.pem"
    target, key = _targets(missing)[case]
    result = PROBERS[target.prober](target, 1.0)  # type: ignore[attr-defined]
    assert not result.success
    assert result.reason is Reason.CONFIG, result.detail
    assert f"{key} {missing}: No such file or directory" in result.detail
