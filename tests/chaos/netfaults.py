"""Network faults on the replication link of a private stack, and a /metrics watcher.

The stack's masters replicate through their own loopback address (``REPLICATION_HOST``,
127.0.0.2, see ``edgesla.stack.postgres``), while the exporter and every client use
127.0.0.1. So:

    partition(ports)        iptables DROP rules on 127.0.0.2:PORT, both directions: the
                            replication link is cut, nothing else is (needs root)
    DelayProxy(...)         a userspace TCP proxy adding D seconds to every byte, each way
                            (``tc netem`` is missing on this kernel: no sch_netem); it can
                            also hang up the connection of the next request that holds
                            given bytes (a server's idle timeout firing as a request comes)

    Scraper(url)            scrapes an exporter's /metrics in a loop while a fault lasts:
                            each scrape's latency, and the samples of chosen metrics

Rules carry the comment ``edgesla-chaos:PORT``; ``clear_partition(ports)`` removes any left by
a run that was killed, and every rule is removed on exit of its ``with`` block.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import requests
from prometheus_client.parser import text_string_to_metric_families

from edgesla.stack.layout import REPLICATION_HOST

__all__ = [
    "DelayProxy",
    "Scrape",
    "Scraper",
    "clear_partition",
    "iptables_missing",
    "partition",
    "percentile",
]

_CHAIN = "INPUT"


def iptables_missing() -> str | None:
    """Why partitions cannot be made here (a skip reason), or None when they can."""
    if os.geteuid() != 0:
        return "cutting the replication link needs root (iptables rules)"
    if shutil.which("iptables") is None:
        return "iptables is not installed (`make setup` installs it)"
    return None


def _specs(port: int) -> list[list[str]]:
    """Both directions of every connection to REPLICATION_HOST:port."""
    tag = ["-m", "comment", "--comment", f"edgesla-chaos:{port}", "-j", "DROP"]
    return [
        ["-p", "tcp", "-d", REPLICATION_HOST, "--dport", str(port), *tag],
        ["-p", "tcp", "-s", REPLICATION_HOST, "--sport", str(port), *tag],
    ]


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["iptables", "-w", "5", *args], capture_output=True, text=True, check=False, timeout=30
    )


def clear_partition(ports: Sequence[int]) -> int:
    """Delete every rule of ours on ``ports`` (however many times it was inserted)."""
    removed = 0
    for port in ports:
        for spec in _specs(port):
            while _iptables("-D", _CHAIN, *spec).returncode == 0:
                removed += 1
    return removed


@contextlib.contextmanager
def partition(ports: Sequence[int]) -> Iterator[float]:
    """Drop every packet to and from REPLICATION_HOST on ``ports`` for the block.

    Yields the monotonic time at which the last rule was in place.
    """
    try:
        for port in ports:
            for spec in _specs(port):
                result = _iptables("-I", _CHAIN, "1", *spec)
                assert result.returncode == 0, f"iptables -I failed: {result.stderr}"
        yield time.monotonic()
    finally:
        clear_partition(ports)


class DelayProxy:
    """A TCP proxy on ``listen`` that forwards to ``upstream`` with ``delay`` seconds added to
    every chunk, in both directions, keeping order and throughput (a chunk waits for its own
    due time, not for the previous chunk's delay).

    Runs its own asyncio loop in a daemon thread; ``close()`` (or the ``with`` block's end)
    stops it and cuts every proxied connection. ``hang_up_at(marker)``: the next chunk from a
    client that holds ``marker`` is not forwarded, and its connection is closed both ways.
    """

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], delay: float) -> None:
        self.listen, self.upstream, self.delay = listen, upstream, delay
        self.connections = 0
        self.hung_up = 0
        self._hang_up_marker: bytes | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="delay-proxy", daemon=True)

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("delay proxy did not start within 10 s")
        if self._error is not None:
            raise RuntimeError(f"delay proxy could not listen on {self.listen}") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def hang_up_at(self, marker: bytes) -> None:
        self._hang_up_marker = marker

    def _hangs_up(self, data: bytes) -> bool:
        marker = self._hang_up_marker
        if marker is None or marker not in data:
            return False
        self._hang_up_marker = None
        self.hung_up += 1
        return True

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._accept, *self.listen, reuse_address=True)
            )
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer, from_client=True)),
            asyncio.ensure_future(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._tasks.difference_update(pumps)
            for w in (writer, up_writer):
                w.close()

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, from_client: bool = False
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    with contextlib.suppress(OSError):
                        sink.write_eof()
                    return
                sink.write(data)
                await sink.drain()

        writer = asyncio.ensure_future(deliver())
        try:
            while not writer.done():  # a failed sink ends this direction
                data = await source.read(65536)
                if from_client and self._hangs_up(data):
                    sink.close()  # the upstream's end; the answering pump then closes the client's
                    break
                await queue.put((time.monotonic() + self.delay, data))
                if not data:
                    break
            await writer
        except (OSError, asyncio.IncompleteReadError):
            writer.cancel()
        finally:
            if not writer.done():
                writer.cancel()


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100), at least 1
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Scrape:
    at: float  # monotonic time the scrape started
    seconds: float  # how long it took; inf when it failed
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]

    def value(self, name: str, **labels: str) -> float | None:
        """The sample of ``name`` whose labels include ``labels`` (None when absent)."""
        wanted = set(labels.items())
        for (sample, keys), value in self.samples.items():
            if sample == name and wanted <= keys:
                return value
        return None


class Scraper:
    """Scrape ``url`` every ``interval`` seconds in a thread, keeping the ``names`` samples."""

    def __init__(self, url: str, names: Iterable[str], interval: float = 0.2) -> None:
        self.url, self.names, self.interval = url, frozenset(names), interval
        self.scrapes: list[Scrape] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scraper", daemon=True)
        self._session = requests.Session()

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)
        self._session.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            at, started = time.monotonic(), time.perf_counter()
            try:
                text = self._session.get(self.url, timeout=10).text
                seconds = time.perf_counter() - started
            except requests.RequestException:
                self.scrapes.append(Scrape(at, float("inf"), {}))
            else:
                self.scrapes.append(Scrape(at, seconds, self._parse(text)))
            self._stop.wait(self.interval)

    def _parse(self, text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        samples = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name in self.names:
                    samples[(s.name, frozenset(s.labels.items()))] = s.value
        return samples

    def between(self, start: float, end: float = float("inf")) -> list[Scrape]:
        return [s for s in list(self.scrapes) if start <= s.at <= end]

    def latencies(self, start: float, end: float = float("inf")) -> list[float]:
        return [s.seconds for s in self.between(start, end)]
