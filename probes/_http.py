"""HTTP plumbing shared by the probers that speak HTTP (etcd, kube_apiserver): sessions that
trust only the target's files, requests bounded by the run's deadline, one mapping from
``requests``' exceptions to the closed set of probe reasons, and a short description.

**Deadlines.** ``fetch`` gives ``requests`` a (connect, read) timeout of the time left, and
reads the body in pieces as they arrive, checking the deadline between them: a read timeout
alone restarts with every byte, so a server trickling its answer would hold a probe forever.
Bounds not covered here: name resolution (use addresses in ``endpoints``), and one read that
blocks up to the time left — the exporter records such a run as a timeout at its deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from edgesla._errors import ConfigError
from edgesla.probes._deadline import Deadline
from edgesla.probes._result import Reason
from edgesla.secrets import require_readable

__all__ = [
    "Answer",
    "check_files",
    "describe_request_error",
    "fetch",
    "reason_for_request_error",
    "session_for",
    "short",
]

_PIECE = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """A response read completely within the deadline."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content) if self.content else {}

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(f"HTTP {self.status_code}")


def fetch(
    session: requests.Session, method: str, url: str, deadline: Deadline, **kwargs: Any
) -> Answer:
    """``session.request(...)`` read to its end before ``deadline``, or ``requests.Timeout``."""
    left = deadline.left()
    if left <= 0:
        raise requests.Timeout("probe deadline reached")
    with session.request(method, url, timeout=(left, left), stream=True, **kwargs) as response:
        pieces = []
        read = getattr(response.raw, "read1", None) or response.raw.read  # read1: urllib3 >= 2
        while piece := read(_PIECE, decode_content=True):  # gzip, as etcd sends its /metrics
            pieces.append(piece)
            if deadline.expired:
                raise requests.Timeout(f"answer not complete within {deadline.seconds:g}s")
        return Answer(response.status_code, b"".join(pieces))


def check_files(target: Any) -> None:
    """ConfigError naming the key and the file when a TLS file (or token file) of the target
    cannot be read; ``requests`` would say only "No such file or directory"."""
    for key in ("ca_file", "cert_file", "key_file", "token_file"):
        require_readable(getattr(target, key, None), key, f"target {target.name!r}")


def session_for(
    ca_file: Path | None, cert_file: Path | None, key_file: Path | None, token: str | None = None
) -> requests.Session:
    """A session that trusts only what the target's config says.

    No proxies, .netrc or REQUESTS_CA_BUNDLE from the environment: that variable would
    silently replace ``ca_file`` (requests #3829). No ``ca_file``: the certifi bundle.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_file) if ca_file else True
    if cert_file is not None:
        cert = str(cert_file)
        session.cert = (cert, str(key_file)) if key_file else cert
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def reason_for_request_error(exc: BaseException) -> Reason:
    """The closed-set reason for an exception raised by ``requests`` (or reading its files)."""
    if isinstance(exc, ConfigError):
        return Reason.CONFIG
    if isinstance(exc, requests.exceptions.SSLError):
        return Reason.TLS
    if isinstance(exc, requests.Timeout):  # before ConnectionError: ConnectTimeout is both
        return Reason.TIMEOUT
    if isinstance(exc, requests.ConnectionError):
        return Reason.REFUSED
    if isinstance(exc, requests.RequestException):
        return Reason.ERROR
    if isinstance(exc, OSError):  # CA bundle, client certificate or key file unreadable
        return Reason.CONFIG
    return Reason.ERROR


def describe_request_error(exc: BaseException) -> str:
    """A short line for humans: requests' own messages repeat the URL and the pool twice."""
    reason = reason_for_request_error(exc)
    name = type(exc).__name__
    if reason is Reason.TLS:
        text = str(exc)
        for marker in ("certificate verify failed", "SSL:", "ssl"):
            if marker in text:
                return "TLS: " + text[text.index(marker) :][:120].rstrip("')\"")
        return f"TLS: {name}"
    if reason in (Reason.REFUSED, Reason.TIMEOUT):
        return f"{reason.value} ({name})"
    return short(exc)


def short(exc: BaseException) -> str:
    """``Type: first line of the message`` (160 characters at most)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
