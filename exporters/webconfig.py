"""TLS and basic auth for /metrics, from a web-config file in the Prometheus
exporter-toolkit format (the same file node_exporter & co. take with --web.config.file):

    tls_server_config:
      cert_file: server.crt
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert   # X.509 client certificates
      client_ca_file: clients-ca.crt
      min_version: TLS12
    basic_auth_users:
      prometheus: $2b$12$...      # bcrypt hash, e.g. from `htpasswd -nBC 12 ""`

Relative paths are relative to the web-config file. Unknown keys are errors.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from edgesla._errors import ConfigError
from edgesla.exporters.basicauth import BasicAuth, HashingBusy
from edgesla.strict import Strict
from edgesla.yamlfile import read_yaml

__all__ = ["HashingBusy", "WebConfig", "load_web_config"]

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
_VERIFY = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
_TLS = {"TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}


class TlsServerConfig(Strict):
    cert_file: Path
    key_file: Path
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: Path | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"
    max_version: Literal["TLS12", "TLS13"] | None = None

    @model_validator(mode="after")
    def _ca_needed(self) -> TlsServerConfig:
        if self.client_auth_type != "NoClientCert" and self.client_ca_file is None:
            raise ValueError(f"client_auth_type {self.client_auth_type} needs client_ca_file")
        return self


class WebConfig(Strict):
    tls_server_config: TlsServerConfig | None = None
    basic_auth_users: dict[str, str] = Field(default_factory=dict)
    _auth: BasicAuth | None = PrivateAttr(None)

    def ssl_context(self) -> ssl.SSLContext | None:
        tls = self.tls_server_config
        if tls is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = _TLS[tls.min_version]
        if tls.max_version:
            context.maximum_version = _TLS[tls.max_version]
        context.load_cert_chain(tls.cert_file, tls.key_file)
        context.verify_mode = _VERIFY[tls.client_auth_type]
        if tls.client_ca_file is not None:
            context.load_verify_locations(cafile=str(tls.client_ca_file))
        return context

    def model_post_init(self, context: Any, /) -> None:
        self._auth = BasicAuth(self.basic_auth_users) if self.basic_auth_users else None

    @property
    def auth(self) -> BasicAuth | None:
        """The basic-auth checker (its cache and counters), None when no users are set."""
        return self._auth

    def allows(self, authorization: str | None) -> bool:
        """Does this ``Authorization`` header pass basic auth (always, when none is set)?

        Raises :class:`HashingBusy` when the credentials would need a bcrypt check and every
        hashing place is taken (the server answers 429).
        """
        return self._auth is None or self._auth.check(authorization)


def _resolve(path: Path | None, base: Path) -> Path | None:
    return None if path is None or path.is_absolute() else base / path


def load_web_config(path: Path) -> WebConfig:
    """Read, validate and check a web-config file (the certificates must load)."""
    data = read_yaml(path, "the web config") or {}
    try:
        config = WebConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid web config: {exc}") from exc
    for user, hashed in config.basic_auth_users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ConfigError(
                f"{path}: basic_auth_users.{user}: not a bcrypt hash; make one with "
                '`htpasswd -nBC 12 ""` or python -c \'import bcrypt; '
                'print(bcrypt.hashpw(b"PASSWORD", bcrypt.gensalt()).decode())\''
            )
    tls = config.tls_server_config
    if tls is not None:
        base = path.parent
        tls = tls.model_copy(
            update={k: _resolve(getattr(tls, k), base) or getattr(tls, k) for k in _TLS_FILES}
        )
        config = config.model_copy(update={"tls_server_config": tls})
        for key in _TLS_FILES:
            _check_readable(path, key, getattr(tls, key))
        try:
            config.ssl_context()
        except (OSError, ssl.SSLError) as exc:
            files = ", ".join(f"{k} {getattr(tls, k)}" for k in _TLS_FILES if getattr(tls, k))
            raise ConfigError(
                f"{path}: tls_server_config: cannot load {files}: {exc}; check that the key "
                "matches the certificate and that both are PEM"
            ) from exc
    return config


_TLS_FILES = ("cert_file", "key_file", "client_ca_file")


def _check_readable(path: Path, key: str, file: Path | None) -> None:
    """Name the key and the file when a TLS file is missing or unreadable."""
    if file is None:
        return
    if not file.is_file():
        what = "is not a file" if file.exists() else "no such file"
        raise ConfigError(f"{path}: tls_server_config.{key}: {file}: {what}")
    if not os.access(file, os.R_OK):
        raise ConfigError(f"{path}: tls_server_config.{key}: {file}: not readable by this user")
