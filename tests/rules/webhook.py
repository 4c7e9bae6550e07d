"""A webhook receiver for Alertmanager's notifications: a small HTTP server on a free
loopback port that records each POST (path and JSON body)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Received", "webhook_server"]

#: What a webhook server got: (path, JSON body) per notification, in order.
Received = list[tuple[str, dict[str, Any]]]


class _Webhook(BaseHTTPRequestHandler):
    received: Received

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def webhook_server() -> Iterator[tuple[str, Received]]:
    """A webhook receiver on a free loopback port: its base URL and what it received."""
    received: Received = []
    handler = type("Handler", (_Webhook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
