"""Serve the exporter app over HTTP or HTTPS (threaded: a slow client never blocks others)."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from edgesla._errors import ConfigError

__all__ = ["parse_listen", "serve"]

log = logging.getLogger("edgesla.exporter")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line, not a traceback: a refused TLS handshake is an expected event."""
        exc = sys.exc_info()[1]
        log.warning("request from %s failed: %s: %s", client_address[0], type(exc).__name__, exc)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Access logs stay off: Prometheus scrapes every few seconds."""


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"listen address {listen!r}: expected HOST:PORT, e.g. 0.0.0.0:9830")
    return host or "0.0.0.0", int(port)  # noqa: S104 - exporters listen on all interfaces


def serve(
    app: Callable[..., Iterable[bytes]], listen: str, tls: ssl.SSLContext | None = None
) -> tuple[WSGIServer, threading.Thread]:
    """Bind and serve in a background thread; ConfigError when the address cannot be bound."""
    host, port = parse_listen(listen)
    try:
        server = make_server(host, port, app, server_class=_Server, handler_class=_Quiet)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {listen}: {exc.strerror}; choose another --listen address"
        ) from exc
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)  # fmt: skip
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    return server, thread
