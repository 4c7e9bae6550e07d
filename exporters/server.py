"""Serve the exporter's WSGI app over HTTP or HTTPS, built to hold under load and abuse.

The server is cheroot (CherryPy's WSGI server): one selector thread accepts connections and
watches the idle ones, a fixed pool of worker threads serves requests. Its defaults are for a
trusted network, so this module configures and extends it:

- listen backlog 1024 (cheroot's default is 5; the kernel caps it at net.core.somaxconn);
- a fixed pool of ``threads`` workers: connections beyond it wait their turn, no thread is
  ever started per connection;
- a connection holds a worker only while it has a request to serve: a new connection waits in
  the selector for its first byte (cheroot hands it to a worker at once, which then blocks on
  it), a kept-alive one goes back there after each response;
- the TLS handshake runs on the worker, inside the header timeout (cheroot does it on the
  accept thread, where one silent client stops the whole server: cherrypy/cheroot#748);
- ``header_timeout``: a request (and a new connection's handshake) must arrive whole within
  this time of its first byte, whatever the pace (slowloris), or it gets 408 and is closed;
  every single read or write also gives up after this long, and a new connection that sends
  nothing is closed after it too;
- ``idle_timeout``: a kept-alive connection without a request for this long is closed; at
  most ``max_idle_connections`` wait at once, the longest-idle one is closed to make room;
- malformed requests get cheroot's 400 and a client's failure is one log line, never a
  traceback; :class:`~edgesla.exporters.webconfig.HashingBusy` from the app becomes 429.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from cheroot import wsgi
from cheroot.makefile import BufferedWriter, StreamReader, StreamWriter
from cheroot.server import HTTPConnection
from cheroot.ssl import Adapter

from edgesla._errors import ConfigError
from edgesla.exporters.basicauth import HashingBusy
from edgesla.hostport import parse_host_port

__all__ = ["Limits", "Server", "parse_listen", "serve"]

log = logging.getLogger("edgesla.exporter")

WsgiApp = Callable[..., Iterable[bytes]]
#: A TLS context, or a function returning the current one (see _TlsAdapter).
Tls = ssl.SSLContext | Callable[[], ssl.SSLContext]


@dataclass(frozen=True)
class Limits:
    """How much the HTTP server gives each client; the defaults suit a PoP exporter."""

    threads: int = 16
    header_timeout: float = 10.0
    idle_timeout: float = 75.0  # above the common 60 s scrape interval: connections are reused
    max_idle_connections: int = 512
    backlog: int = 1024
    max_header_bytes: int = 64 * 1024
    max_body_bytes: int = 64 * 1024  # the exporter takes no request bodies


def parse_listen(listen: str) -> tuple[str, int]:
    """The listen address (``:PORT``: every address); ConfigError when malformed."""
    try:
        return parse_host_port(listen, every_address=True)
    except ValueError as exc:
        raise ConfigError(f"listen address: {exc}") from exc


class _TimedIO(socket.SocketIO):
    """A socket's raw stream whose reads end by ``deadline`` (when set), whatever the pace.

    Each read waits at most the time left, and at most ``timeout``; each write at most
    ``timeout``. ``expired`` records that a read ran out of time.
    """

    def __init__(self, sock: socket.socket, mode: Literal["rb", "wb"], timeout: float) -> None:
        super().__init__(sock, mode)
        self._socket = sock
        self.timeout = timeout
        self.deadline: float | None = None
        self.expired = False

    def readinto(self, b: Any) -> int | None:
        wait = self.timeout
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
        if wait <= 0:
            self.expired = True
            raise TimeoutError("timed out")
        self._socket.settimeout(wait)
        try:
            return super().readinto(b)
        except TimeoutError:
            self.expired = True
            raise

    def write(self, b: Any) -> int | None:
        self._socket.settimeout(self.timeout)
        return super().write(b)


class _Reader(StreamReader):
    def __init__(self, sock: socket.socket, timeout: float) -> None:
        # StreamReader.__init__ would build a plain SocketIO; build ours instead
        super(StreamReader, self).__init__(_TimedIO(sock, "rb", timeout))
        self.bytes_read = 0

    @property
    def timed(self) -> _TimedIO:
        raw = self.raw
        assert isinstance(raw, _TimedIO)
        return raw


class _Writer(StreamWriter):
    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super(BufferedWriter, self).__init__(_TimedIO(sock, "wb", timeout))
        self.bytes_written = 0


def _files(sock: socket.socket, mode: str, _size: int = -1, timeout: float = 10.0) -> Any:
    return _Reader(sock, timeout) if "r" in mode else _Writer(sock, timeout)


class _TlsAdapter(Adapter):
    """Wraps accepted sockets without a handshake: the worker does it (see _Connection).

    ``context``: one, or a function asked for the current one at each new connection (a
    web config read again when its certificates rotate)."""

    def __init__(self, context: Tls) -> None:
        self.context = context
        self.certificate = self.private_key = self.certificate_chain = self.ciphers = None
        self.private_key_password = None

    def bind(self, sock: socket.socket) -> socket.socket:
        return sock

    def wrap(self, sock: socket.socket) -> tuple[ssl.SSLSocket, dict[str, str]]:
        context = self.context if isinstance(self.context, ssl.SSLContext) else self.context()
        tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, {}

    def get_environ(self) -> dict[str, str]:
        return {}

    def makefile(self, sock: socket.socket, mode: str = "r", bufsize: int = -1) -> Any:
        return _files(sock, mode, bufsize)  # cheroot's own default; _Connection uses its own


_PLAIN_HTTP_TO_TLS = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: 48\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
)


class _Connection(HTTPConnection):
    """One client connection: timed reads and writes, TLS handshake on the worker."""

    server: Server

    def __init__(self, server: Server, sock: socket.socket, makefile: Any = None) -> None:
        timeout = server.limits.header_timeout
        super().__init__(server, sock, lambda s, mode, size: _files(s, mode, size, timeout))
        self.fresh = True  # not yet watched by the selector
        self._handshaken = not isinstance(sock, ssl.SSLSocket)

    def communicate(self) -> bool:
        """Serve one request; True when the connection stays open for another."""
        timed = self.rfile.timed
        timed.deadline = time.monotonic() + self.server.limits.header_timeout
        timed.expired = False
        try:
            if not self._handshaken and not self._handshake(timed.deadline):
                return False
            keep = bool(super().communicate())  # type: ignore[no-untyped-call]
        finally:
            timed.deadline = None
        if timed.expired:
            log.info(
                "request from %s not complete within %gs: closed (408)",
                self.remote_addr,
                self.server.limits.header_timeout,
            )
        return keep

    def _handshake(self, deadline: float) -> bool:
        sock = self.socket
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.do_handshake()
        except ssl.SSLError as exc:
            if "http request" in str(exc).lower():
                # the raw socket under the TLS one: tell a plain-HTTP client what happened
                with contextlib.suppress(OSError):
                    socket.socket.sendall(sock, _PLAIN_HTTP_TO_TLS)
            log.warning("TLS handshake with %s failed: %s", self.remote_addr, exc.reason or exc)
            return False
        except TimeoutError:
            log.info(
                "TLS handshake with %s not complete within %gs: closed",
                self.remote_addr,
                self.server.limits.header_timeout,
            )
            return False
        except OSError as exc:
            log.debug("TLS handshake with %s: %s", self.remote_addr, exc)
            return False
        self._handshaken = True
        return True

    def close(self) -> None:
        self.server.forget(self)
        super().close()


class Server(wsgi.Server):
    """cheroot's WSGI server with the limits of :class:`Limits` (see the module docstring)."""

    ConnectionClass = _Connection

    def __init__(
        self,
        bind: tuple[str, int],
        app: WsgiApp,
        limits: Limits,
        tls: Tls | None = None,
    ) -> None:
        super().__init__(
            bind,
            app,
            numthreads=limits.threads,
            max=limits.threads,
            request_queue_size=limits.backlog,
            timeout=limits.idle_timeout,  # type: ignore[arg-type]
            shutdown_timeout=2,
            server_name="edgesla",
        )
        self.limits = limits
        self.max_request_header_size = limits.max_header_bytes
        self.max_request_body_size = limits.max_body_bytes
        # no cap of cheroot's (it would close a served connection instead of keeping it):
        # put_conn enforces max_idle_connections by closing the longest-idle one
        self.keep_alive_conn_limit = None  # type: ignore[assignment]
        self.ssl_adapter = _TlsAdapter(tls) if tls is not None else None
        self._idle: OrderedDict[_Connection, None] = OrderedDict()
        self._idle_lock = threading.Lock()
        self.bind_error: str | None = None

    # --- connections wait in the selector, holding no worker, until they have bytes ---

    def process_conn(self, conn: _Connection) -> None:
        """Called by the selector thread: a new connection, or one with bytes to read."""
        if conn.fresh:
            conn.fresh = False
            self.put_conn(conn)
            # a connection that never sent anything is closed after the header timeout,
            # not the idle timeout (the selector expires it by its last_used time)
            if conn.last_used is not None:  # None: closed, the server is stopping
                conn.last_used -= self.limits.idle_timeout - self.limits.header_timeout
            return
        with self._idle_lock:
            self._idle.pop(conn, None)
        super().process_conn(conn)

    def put_conn(self, conn: _Connection) -> None:
        """Park an idle connection in the selector; evict the longest-idle one when full."""
        with self._idle_lock:
            self._idle[conn] = None
            evict = None
            if len(self._idle) > self.limits.max_idle_connections:
                evict, _ = self._idle.popitem(last=False)
        if evict is not None:
            # it turns readable (EOF): the selector hands it to a worker, which closes it
            with contextlib.suppress(OSError):
                socket.socket.shutdown(evict.socket, socket.SHUT_RDWR)
        super().put_conn(conn)

    @property
    def idle_connections(self) -> int:
        """How many kept-alive connections wait for their next request now."""
        with self._idle_lock:
            return len(self._idle)

    def forget(self, conn: _Connection) -> None:
        with self._idle_lock:
            self._idle.pop(conn, None)

    # --- binding and logging ---

    def bind(self, family: Any, type: Any, proto: Any = 0) -> Any:
        try:
            sock = super().bind(family, type, proto)
        except OSError as exc:
            self.bind_error = exc.strerror or str(exc)
            raise
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        """cheroot's messages as one log line; a traceback only for errors (bugs)."""
        log.log(level, "http: %s", msg, exc_info=traceback and level >= logging.ERROR)


def _with_busy_answer(app: WsgiApp) -> WsgiApp:
    """The app, with :class:`HashingBusy` answered as 429 (see edgesla.exporters.webconfig)."""

    def guarded(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return app(environ, start)
        except HashingBusy as busy:
            body = f"{busy}\n".encode()
            start(
                "429 Too Many Requests",
                [
                    ("Content-Type", "text/plain"),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", "1"),
                ],
            )
            return [body]

    return guarded


def serve(
    app: WsgiApp, listen: str, tls: Tls | None = None, limits: Limits | None = None
) -> Server:
    """Bind and serve in a background thread; ConfigError when the address cannot be bound.

    Stop with ``server.stop()``.
    """
    host, port = parse_listen(listen)
    server = Server((host, port), _with_busy_answer(app), limits or Limits(), tls)
    try:
        server.prepare()
    except OSError as exc:
        reason = server.bind_error or str(exc)
        raise ConfigError(
            f"cannot listen on {listen}: {reason}; choose another --listen address"
        ) from exc
    threading.Thread(target=server.serve, name="http", daemon=True).start()
    return server
