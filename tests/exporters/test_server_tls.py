"""TLS of the real `edgesla exporter` with an exporter-toolkit web config (see conftest.certs)."""

from __future__ import annotations

import ssl
from pathlib import Path

import bcrypt
import pytest
import requests

from tests.exporters.exporter_process import Running, closed_by_server, exporter, http_get
from tests.helpers import edgesla

pytestmark = pytest.mark.slow


def _web(tmp_path: Path, certs: Path, extra: str = "") -> Path:
    path = tmp_path / "web.yml"
    path.write_text(
        f"tls_server_config:\n  cert_file: {certs}/server.crt\n  key_file: {certs}/server.key\n"
        + extra
    )
    return path


def _https(running: Running, certs: Path, client_cert: bool = True, **kw: object) -> int:
    cert = (str(certs / "client.crt"), str(certs / "client.key")) if client_cert else None
    return requests.get(
        f"https://127.0.0.1:{running.port}/metrics",
        verify=str(certs / "ca.crt"),
        cert=cert,
        timeout=10,
        **kw,  # type: ignore[arg-type]
    ).status_code


def _pop(tmp_path: Path) -> Path:
    pop = tmp_path / "pop.yaml"
    pop.write_text(
        "version: 1\npop: p\nregion: r\ntargets:\n"
        "  - {name: e, prober: etcd, endpoints: ['http://127.0.0.1:1']}\n"
    )
    return pop


def _handshake(running: Running, certs: Path, version: ssl.TLSVersion) -> str:
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    context.minimum_version = context.maximum_version = version
    with running.connect() as raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return str(tls.version())


def test_a_verified_client_certificate_is_required(tmp_path: Path, certs: Path) -> None:
    extra = f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {certs}/ca.crt\n"
    with exporter(tmp_path, "--web-config", str(_web(tmp_path, certs, extra))) as running:
        assert _https(running, certs) == 200
        with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
            _https(running, certs, client_cert=False)
        with pytest.raises(requests.exceptions.SSLError):  # the server's CA not trusted
            requests.get(f"https://127.0.0.1:{running.port}/metrics", timeout=10)
        assert _https(running, certs) == 200
        log = running.log_text()
        assert "TLS handshake with 127.0.0.1 failed" in log
        assert "Traceback" not in log


@pytest.mark.parametrize(
    ("extra", "works", "refused"),
    [
        ("  min_version: TLS13\n", ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2),
        ("  max_version: TLS12\n", ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3),
    ],
    ids=["min-TLS13", "max-TLS12"],
)
def test_tls_versions_are_enforced(
    tmp_path: Path, certs: Path, extra: str, works: ssl.TLSVersion, refused: ssl.TLSVersion
) -> None:
    with exporter(tmp_path, "--web-config", str(_web(tmp_path, certs, extra))) as running:
        assert _handshake(running, certs, works) == works.name.replace("_", ".")
        with pytest.raises(ssl.SSLError):
            _handshake(running, certs, refused)


def test_a_silent_client_on_the_tls_port_does_not_stop_the_others(
    tmp_path: Path, certs: Path
) -> None:
    """cheroot does the handshake on its accept thread (cherrypy/cheroot#748): one client that
    connects and says nothing would stop every other one until the timeout. Not here."""
    with exporter(tmp_path, "--web-config", str(_web(tmp_path, certs))) as running:
        silent = [running.connect() for _ in range(20)]
        half = running.connect()
        half.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        try:
            for _ in range(5):
                assert _https(running, certs, client_cert=False) == 200
        finally:
            for sock in [*silent, half]:
                sock.close()


def test_plain_http_on_the_tls_port_gets_a_400_that_says_so(tmp_path: Path, certs: Path) -> None:
    with exporter(tmp_path, "--web-config", str(_web(tmp_path, certs))) as running:
        with running.connect() as sock:
            sock.sendall(http_get("/metrics"))
            answer = closed_by_server(sock, within=10) or b""
        assert answer.startswith(b"HTTP/1.1 400 Bad Request")
        assert b"HTTP request to an HTTPS server" in answer
        assert "Traceback" not in running.log_text()


def test_tls_and_basic_auth_together(tmp_path: Path, certs: Path) -> None:
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    web = _web(tmp_path, certs, f"basic_auth_users:\n  prom: '{hashed}'\n")
    with exporter(tmp_path, "--web-config", str(web)) as running:
        assert _https(running, certs, client_cert=False) == 401
        assert _https(running, certs, client_cert=False, auth=("prom", "pw")) == 200


@pytest.mark.parametrize("key", ["cert_file", "key_file", "client_ca_file"])
def test_a_missing_tls_file_is_named_with_its_key_and_exit_2(
    tmp_path: Path, certs: Path, key: str
) -> None:
    files = {"cert_file": certs / "server.crt", "key_file": certs / "server.key",
             "client_ca_file": certs / "ca.crt"}  # fmt: skip
    files[key] = tmp_path / "gone" / f"{key}.pem"
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n"
        + "".join(f"  {k}: {v}\n" for k, v in files.items())
    )
    pop = _pop(tmp_path)
    result = edgesla(
        "exporter", "--config", str(pop), "--web-config", str(web), "--listen", "127.0.0.1:1"
    )
    assert result.returncode == 2, result.stderr
    assert f"tls_server_config.{key}: {files[key]}: no such file" in result.stderr


def test_a_relative_tls_path_is_named_as_resolved(tmp_path: Path, certs: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config: {{cert_file: nope.crt, key_file: {certs}/server.key}}\n")
    pop = _pop(tmp_path)
    result = edgesla("exporter", "--config", str(pop), "--web-config", str(web))
    assert result.returncode == 2
    assert f"tls_server_config.cert_file: {tmp_path / 'nope.crt'}: no such file" in result.stderr


def test_a_key_that_does_not_match_names_both_files(tmp_path: Path, certs: Path) -> None:
    web = tmp_path / "web.yml"
    web.write_text(
        f"tls_server_config: {{cert_file: {certs}/server.crt, key_file: {certs}/client.key}}\n"
    )
    pop = _pop(tmp_path)
    result = edgesla("exporter", "--config", str(pop), "--web-config", str(web))
    assert result.returncode == 2
    assert f"cannot load cert_file {certs}/server.crt, key_file {certs}/client.key" in (
        result.stderr
    )
