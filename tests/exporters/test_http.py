"""The exporter over real HTTP(S): TLS with client certificates, basic auth, /probe."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import requests

from edgesla import ConfigError
from edgesla.exporters.app import make_app
from edgesla.exporters.exporter import Exporter
from edgesla.exporters.server import Limits, serve
from edgesla.exporters.webconfig import load_web_config
from tests.exporters.conftest import FakeProbers, pop_config
from tests.exporters.exporter_process import closed_by_server, http_get, read_response
from tests.helpers import eventually, free_port


@pytest.fixture
def serving(fakes: FakeProbers) -> Iterator[Any]:
    """serving(web_config_or_None) -> (base_url, exporter); servers are shut down after."""
    servers = []

    def start(web_file: Path | None = None, config: Any = None) -> tuple[str, Exporter]:
        core = Exporter(config or pop_config(interval="1h", timeout="2s"), fakes.map)
        web = load_web_config(web_file) if web_file else None
        port = free_port()
        server = serve(make_app(core, web), f"127.0.0.1:{port}", web.ssl_context() if web else None)
        servers.append(server)
        scheme = "https" if web and web.tls_server_config else "http"
        return f"{scheme}://127.0.0.1:{port}", core

    yield start
    for server in servers:
        server.stop()


def test_metrics_probe_health_and_readiness(serving: Any, fakes: FakeProbers) -> None:
    url, core = serving()
    body = requests.get(f"{url}/metrics", timeout=5).text
    assert 'edgesla_probe_up{pop="test-pop",prober="etcd",region="test",target="good"} 0.0' in (
        body
    )
    assert requests.get(f"{url}/-/healthy", timeout=5).status_code == 200
    assert requests.get(f"{url}/-/ready", timeout=5).status_code == 503
    core.start()
    try:
        eventually(core.first_round_done.is_set)
        assert requests.get(f"{url}/-/ready", timeout=5).status_code == 200
    finally:
        core.stop()
    assert requests.get(f"{url}/nope", timeout=5).status_code == 404


def test_probe_endpoint_honours_the_scrape_timeout_header(serving: Any, fakes: FakeProbers) -> None:
    url, _ = serving()
    reply = requests.get(
        f"{url}/probe",
        params={"target": "good"},
        headers={"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
        timeout=5,
    )
    assert reply.status_code == 200
    assert (
        'edgesla_probe_up{pop="test-pop",prober="etcd",region="test",target="good"} 1.0'
        in reply.text
    )
    assert fakes.calls == [("good", 1.0)]  # 1.5 s minus the 0.5 s offset, below the 2 s timeout
    bad = requests.get(f"{url}/probe", params={"target": "nope"}, timeout=5)
    assert bad.status_code == 400
    assert "known targets: bad, good" in bad.text


def _web_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "web.yml"
    path.write_text(text)
    return path


def test_basic_auth_with_a_bcrypt_hash(serving: Any, tmp_path: Path) -> None:
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    url, _ = serving(_web_config(tmp_path, f"basic_auth_users:\n  prom: '{hashed}'\n"))
    assert requests.get(f"{url}/metrics", timeout=5).status_code == 401
    assert requests.get(f"{url}/metrics", auth=("prom", "wrong"), timeout=5).status_code == 401
    assert requests.get(f"{url}/metrics", auth=("prom", "s3cret"), timeout=5).status_code == 200
    for path in ("/probe?target=good", "/", "/nowhere"):
        assert requests.get(f"{url}{path}", timeout=5).status_code == 401, path
    # Kubernetes' liveness and readiness probes send no credentials
    assert requests.get(f"{url}/-/healthy", timeout=5).status_code == 200
    assert requests.get(f"{url}/-/ready", timeout=5).status_code in (200, 503)


def test_tls_requiring_a_verified_client_certificate(
    serving: Any, tmp_path: Path, certs: Path
) -> None:
    web = _web_config(
        tmp_path,
        f"""
tls_server_config:
  cert_file: {certs}/server.crt
  key_file: {certs}/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: {certs}/ca.crt
""",
    )
    url, _ = serving(web)
    ok = requests.get(
        f"{url}/metrics",
        verify=str(certs / "ca.crt"),
        cert=(str(certs / "client.crt"), str(certs / "client.key")),
        timeout=5,
    )
    assert ok.status_code == 200
    assert "edgesla_probe_up" in ok.text
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        requests.get(f"{url}/metrics", verify=str(certs / "ca.crt"), timeout=5)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{url}/metrics", timeout=5)  # server certificate not trusted


def test_tls_minimum_version_is_enforced(serving: Any, tmp_path: Path, certs: Path) -> None:
    web = _web_config(
        tmp_path,
        f"""
tls_server_config:
  {{cert_file: {certs}/server.crt, key_file: {certs}/server.key, min_version: TLS13}}
""",
    )
    url, _ = serving(web)
    context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    host, port = url.removeprefix("https://").split(":")
    with pytest.raises(ssl.SSLError), socket.create_connection((host, int(port)), timeout=5) as raw:
        context.wrap_socket(raw, server_hostname=host)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("basic_auth_users: {prom: plaintext}", "basic_auth_users.prom: not a bcrypt hash"),
        (
            "tls_server_config: {cert_file: /nope.crt, key_file: /nope.key}",
            "tls_server_config.cert_file: /nope.crt: no such file",
        ),
        (
            "tls_server_config: {cert_file: a, key_file: b, "
            "client_auth_type: RequireAndVerifyClientCert}",
            "needs client_ca_file",
        ),
        ("tls_config: {}", "Extra inputs are not permitted"),
    ],
)
def test_bad_web_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_web_config(_web_config(tmp_path, text))


def test_past_the_idle_cap_the_longest_idle_connection_is_closed(fakes: FakeProbers) -> None:
    """In process, to set a small cap (the CLI keeps the default of 512): 8 kept-alive
    connections with room for 5 — the 3 first ones are closed, the 5 last still answer."""
    core = Exporter(pop_config(interval="1h", timeout="2s"), fakes.map)
    port = free_port()
    server = serve(make_app(core), f"127.0.0.1:{port}", limits=Limits(max_idle_connections=5))
    sockets = []
    try:
        for n in range(1, 9):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sockets.append(sock)
            sock.sendall(http_get("/-/healthy"))
            assert read_response(sock) == (200, b"OK\n")
            # parked in request order (a loaded box may park one after the next request's)
            eventually(lambda n=n: server.idle_connections == min(n, 5))
        for sock in sockets[:3]:
            assert closed_by_server(sock, within=10) == b""
        for sock in sockets[3:]:
            sock.sendall(http_get("/-/healthy"))
            assert read_response(sock) == (200, b"OK\n")
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


def test_an_ipv6_listen_address_in_brackets(serving: Any, fakes: FakeProbers) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    core = Exporter(pop_config(interval="1h", timeout="2s"), fakes.map)
    port = free_port()
    try:
        server = serve(make_app(core), f"[::1]:{port}")
    except ConfigError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    try:
        assert requests.get(f"http://[::1]:{port}/-/healthy", timeout=5).status_code == 200
    finally:
        server.stop()
