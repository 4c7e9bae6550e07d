"""--web.config.file read again when it or its certificates change (edgesla.exporters.webreload)."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import ssl
from pathlib import Path

import bcrypt
import requests

from edgesla.exporters.webreload import WebConfigFile
from tests.exporters.exporter_process import exporter
from tests.helpers import eventually


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _write(path: Path, text: str) -> None:
    """Write, and move the mtime on by a second: a change however coarse the clock."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_changed_users_are_picked_up_and_a_bad_change_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "web.yml"
    _write(path, f"basic_auth_users:\n  alice: '{_hash('a-pw')}'\n")
    web = WebConfigFile(path)
    assert web.current().allows(_basic("alice", "a-pw"))
    _write(path, f"basic_auth_users:\n  bob: '{_hash('b-pw')}'\n")
    assert web.current().allows(_basic("bob", "b-pw"))
    assert not web.current().allows(_basic("alice", "a-pw"))
    assert web.successful
    _write(path, "basic_auth_users:\n  carol: plain-text\n")  # not a bcrypt hash: refused
    assert web.current().allows(_basic("bob", "b-pw"))
    assert not web.successful
    _write(path, "basic_auth_users: {}\n")
    assert web.current().allows(None)
    assert web.successful


def test_tls_cannot_be_switched_on_without_a_restart(tmp_path: Path, certs: Path) -> None:
    path = tmp_path / "web.yml"
    _write(path, "basic_auth_users: {}\n")
    web = WebConfigFile(path)
    _write(
        path,
        f"tls_server_config: {{cert_file: {certs}/server.crt, key_file: {certs}/server.key}}\n",
    )
    assert web.current().tls_server_config is None
    assert not web.successful
    assert not web.tls


def _served_cn(port: int, ca: Path) -> str:
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        subject = dict(item[0] for item in tls.getpeercert()["subject"])  # type: ignore[index, misc]
        return str(subject["commonName"])


def test_a_rotated_certificate_is_served_without_a_restart(tmp_path: Path, certs: Path) -> None:
    for name in ("server.crt", "server.key"):
        shutil.copy(certs / name, tmp_path / name)
    web = tmp_path / "web.yml"
    _write(web, "tls_server_config: {cert_file: server.crt, key_file: server.key}\n")
    with exporter(tmp_path, "--web.config.file", str(web)) as running:
        assert _served_cn(running.port, certs / "ca.crt") == "server"
        shutil.copy(certs / "server2.crt", tmp_path / "server.crt")  # the key lags behind:
        assert _served_cn(running.port, certs / "ca.crt") == "server"  # refused, old one serves
        shutil.copy(certs / "server2.key", tmp_path / "server.key")
        eventually(lambda: _served_cn(running.port, certs / "ca.crt") == "server2")
        body = requests.get(
            f"https://127.0.0.1:{running.port}/metrics", verify=str(certs / "ca.crt"), timeout=5
        ).text
        log = running.log_text()
    assert (
        'edgesla_exporter_web_config_last_reload_successful{pop="http-pop",region="test"} 1.0'
        in (body)
    )
    assert "web config changed but refused, the previous one keeps serving" in log
    assert "read again: TLS on" in log
