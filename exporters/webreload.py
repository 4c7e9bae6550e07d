"""The web config of ``--web.config.file``, read again when it or a file it names changes.

exporter-toolkit reads its web config again on every request, so a rotated certificate or a
changed basic-auth user is picked up without a restart; this does the same, but reads only
when something changed: every request (and every new TLS connection) compares the files'
mtime, size and inode — the web config and the certificate, key and client CA it names — to
the last ones read, a few ``stat`` calls.

A changed set of files is read and checked whole (YAML, keys, bcrypt hashes, the key
matching the certificate). What fails is refused: the previous TLS context and users keep
serving, the reason is logged once per change, and
``edgesla_exporter_web_config_last_reload_successful`` says 0 until a good version arrives
(a certificate written before its key is refused until the key follows). TLS cannot be
switched on or off without a restart: the listening socket is one or the other.

The basic-auth counters start again from zero when a new set of users is read (a counter
reset, which ``rate()`` handles).
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.exporters.webconfig import WebConfig, load_web_config

__all__ = ["WebConfigFile"]

log = logging.getLogger("edgesla.exporter")

_Signature = tuple[tuple[str, int, int, int] | tuple[str], ...]


def _signature(files: list[Path]) -> _Signature:
    out: list[tuple[str, int, int, int] | tuple[str]] = []
    for file in files:
        try:
            st = file.stat()
        except OSError:
            out.append((str(file),))
            continue
        out.append((str(file), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


def _files(path: Path, config: WebConfig) -> list[Path]:
    tls = config.tls_server_config
    named = [] if tls is None else [tls.cert_file, tls.key_file, tls.client_ca_file]
    return [path, *(f for f in named if f is not None)]


class WebConfigFile:
    """The current :class:`WebConfig` of ``path``; ConfigError at construction if it is bad."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._config = load_web_config(path)
        self._context = self._config.ssl_context()
        self._seen = _signature(_files(path, self._config))
        #: False after a changed file was refused, until a good one is read
        self.successful = True

    @property
    def tls(self) -> bool:
        return self._config.tls_server_config is not None

    def current(self) -> WebConfig:
        """The web config, read again first if a file changed since it was last read."""
        config = self._config
        if _signature(_files(self.path, config)) == self._seen:
            return config
        with self._lock:
            seen = _signature(_files(self.path, self._config))
            if seen != self._seen:
                self._seen = seen
                self._read()
            return self._config

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of the current config (for each new connection)."""
        self.current()
        assert self._context is not None, "ssl_context() of a web config without TLS"
        return self._context

    def _read(self) -> None:
        """Under the lock: read the changed files; keep the old config if they are bad."""
        try:
            config = load_web_config(self.path)
            if (config.tls_server_config is None) != (self._config.tls_server_config is None):
                raise ConfigError(
                    f"{self.path}: tls_server_config was "
                    f"{'removed' if self.tls else 'added'}: switching TLS on or off needs "
                    "a restart"
                )
            context = config.ssl_context()
        except ConfigError as exc:
            self.successful = False
            log.error("web config changed but refused, the previous one keeps serving: %s", exc)
            return
        self._config, self._context, self.successful = config, context, True
        self._seen = _signature(_files(self.path, config))
        users = len(config.basic_auth_users)
        log.info(
            "web config %s read again: TLS %s, %d basic-auth users",
            self.path,
            "on" if self.tls else "off",
            users,
        )

    def collector(self, pop: str, region: str) -> Collector:
        """The re-read's success and the current users' auth counters (labels pop, region)."""
        return _WebCollector(self, pop, region)


class _WebCollector(Collector):
    def __init__(self, file: WebConfigFile, pop: str, region: str) -> None:
        self._file, self._pop, self._region = file, pop, region

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            conv.EXPORTER_WEB_CONFIG_LAST_RELOAD_SUCCESSFUL,
            "1 when the web config and the files it names were last read fine, 0 when a "
            "changed file was refused (the previous one keeps serving).",
            labels=[conv.LABEL_POP, conv.LABEL_REGION],
        )
        ok.add_metric([self._pop, self._region], 1.0 if self._file.successful else 0.0)
        yield ok
        auth = self._file.current().auth
        if auth is not None:
            yield from auth.collector(self._pop, self._region).collect()
