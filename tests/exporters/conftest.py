"""Fixtures for the exporter framework: fake probers, throwaway certificates."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edgesla.config import PopConfig, parse_config
from edgesla.probes._result import ProbeResult, Reason, Sample


def _both_planes(defaults: dict[str, Any]) -> dict[str, Any]:
    """The same schedule for the control-plane targets (the tests' etcd and kube_apiserver
    targets stand for any target: they would default to 1 s / 500 ms)."""
    plane = {k: defaults[k] for k in ("interval", "timeout") if k in defaults}
    return defaults | {"control_plane": plane}


def pop_config(**defaults: Any) -> PopConfig:
    return parse_config(
        {
            "version": 1,
            "pop": "test-pop",
            "region": "test",
            "defaults": _both_planes(
                {"interval": "200ms", "timeout": "100ms", "jitter": "0s"} | defaults
            ),
            "targets": [
                {"name": "good", "prober": "etcd", "endpoints": ["http://127.0.0.1:1"]},
                {"name": "bad", "prober": "kube_apiserver", "endpoints": ["https://127.0.0.1:1"]},
            ],
        }
    )


class FakeProbers:
    """'etcd' always succeeds (5 ms, one sample); 'kube_apiserver' always times out."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def good(self, target: Any, timeout: float) -> ProbeResult:
        self.calls.append((target.name, timeout))
        return ProbeResult.ok(0.005, "fine", (Sample("edgesla_etcd_quorum_ok", 1.0),))

    def bad(self, target: Any, timeout: float) -> ProbeResult:
        self.calls.append((target.name, timeout))
        return ProbeResult.fail(Reason.TIMEOUT, "no answer within 0.1s")

    @property
    def map(self) -> dict[str, Callable[[Any, float], ProbeResult]]:
        return {"etcd": self.good, "kube_apiserver": self.bad}


@pytest.fixture
def fakes() -> FakeProbers:
    return FakeProbers()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, two server certificates for 127.0.0.1 (server, server2: its rotation)
    and a client certificate."""
    d = tmp_path_factory.mktemp("certs")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=edgesla test CA",
        cwd=d,
    )
    for name, ext in (
        ("server", "subjectAltName=IP:127.0.0.1"),
        ("server2", "subjectAltName=IP:127.0.0.1"),  # the rotated one (test_webreload)
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={name}",
            cwd=d,
        )
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.crt",
            "-days",
            "2",
            "-extfile",
            f"{name}.ext",
            cwd=d,
        )
    return d
