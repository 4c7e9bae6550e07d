"""HTTP plumbing shared by the probers that speak HTTP (etcd, kube_apiserver): one mapping
from ``requests``' exceptions to the closed set of probe reasons, and a short description.
"""

from __future__ import annotations

from pathlib import Path

import requests

from probes._result import Reason

__all__ = ["describe_request_error", "reason_for_request_error", "session_for", "short"]


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
