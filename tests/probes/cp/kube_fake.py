"""A stand-in kube-apiserver for tests: HTTPS on loopback, serving recorded-shape answers.

No kube-apiserver can run on the project's machines, so the kube_apiserver prober is tested
against this small server. What it serves is recorded from real API servers' formats
(``tests/testdata/kube``): ``/livez``, ``/readyz?verbose`` and coordination.k8s.io/v1 Lease
objects, whose ``spec.renewTime`` is rewritten relative to *now* (RFC 3339, microseconds).

Authentication follows the API server's rules closely enough for the prober's cases:
a wrong bearer token is HTTP 401 on every path; no token and no client certificate is the
anonymous user, who may read ``/livez`` and ``/readyz`` but not Leases (HTTP 403); the right
token or a client certificate signed by the test CA may read everything.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["DATA", "FakeApiserver", "Pki", "make_pki"]

DATA = Path(__file__).parents[2] / "testdata" / "kube"
LEASE_PREFIX = "/apis/coordination.k8s.io/v1/namespaces/"


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory: Path) -> Pki:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=edgesla-test-ca",
        cwd=directory,
    )
    exts = {
        "server": "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        "client": "extendedKeyUsage=clientAuth\n",
    }
    subjects = {"server": "/CN=kube-apiserver", "client": "/O=edgesla:probes/CN=edgesla-probe"}
    for kind in ("server", "client"):
        (directory / f"{kind}.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" + exts[kind]
        )
        _openssl(
            "req",
            "-new",
            *ec,
            "-keyout",
            f"{kind}.key",
            "-out",
            f"{kind}.csr",
            "-subj",
            subjects[kind],
            cwd=directory,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{kind}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{kind}.crt",
            "-days",
            "2",
            "-extfile",
            f"{kind}.ext",
            cwd=directory,
        )
    return Pki(
        ca=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
    )


@dataclass
class FakeApiserver:
    """What the server answers; tests change the fields between probe runs."""

    token: str = "s3cr3t-token"
    ready: bool = True
    #: "namespace/name" → seconds since the lease was last renewed.
    lease_ages: dict[str, float] = field(
        default_factory=lambda: {
            "kube-system/kube-scheduler": 1.5,
            "kube-system/kube-controller-manager": 0.8,
        }
    )
    requests_seen: list[str] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def readyz(self) -> tuple[int, str]:
        if self.ready:
            return 200, (DATA / "readyz-verbose-ok.txt").read_text()
        return 500, (DATA / "readyz-verbose-etcd-failed.txt").read_text()

    def lease(self, key: str) -> dict[str, Any] | None:
        if key not in self.lease_ages:
            return None
        name = key.partition("/")[2]
        doc: dict[str, Any] = json.loads((DATA / f"lease-{name}.json").read_text())
        renewed = datetime.now(UTC) - timedelta(seconds=self.lease_ages[key])
        doc["spec"]["renewTime"] = renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return doc

    def start(self, pki: Pki) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        context.load_verify_locations(pki.ca)
        context.verify_mode = ssl.CERT_OPTIONAL  # client certificates are one way in
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _handler_for(fake: FakeApiserver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests assert on what the prober saw."""

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _status(self, code: int, reason: str, message: str) -> None:
            status = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": reason,
                "code": code,
            }
            self._send(code, json.dumps(status), "application/json")

        def do_GET(self) -> None:
            fake.requests_seen.append(self.path)
            header = self.headers.get("Authorization")
            has_cert = bool(self.request.getpeercert())
            if header is not None and header != f"Bearer {fake.token}":
                self._status(401, "Unauthorized", "Unauthorized")
                return
            anonymous = header is None and not has_cert
            path = self.path.split("?")[0]
            if path == "/livez":
                self._send(200, "ok")
            elif path == "/readyz":
                self._send(*fake.readyz())
            elif path.startswith(LEASE_PREFIX):
                namespace, _, name = path.removeprefix(LEASE_PREFIX).partition("/leases/")
                if anonymous:
                    message = (
                        f'leases.coordination.k8s.io "{name}" is forbidden: '
                        'User "system:anonymous" cannot get resource "leases"'
                    )
                    self._status(403, "Forbidden", message)
                    return
                doc = fake.lease(f"{namespace}/{name}")
                if doc is None:
                    self._status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
                else:
                    self._send(200, json.dumps(doc), "application/json")
            else:
                self._status(404, "NotFound", "the server could not find the requested resource")

    return Handler
