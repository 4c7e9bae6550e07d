"""The /metrics page: the measurements rendered again only when they changed, the live
self-metrics every time.

Rendering the text format costs about 4 ms of CPU for a PoP's 58 KB page, and Python
renders one page at a time, so 20 scrapers at once queued for 80 ms. But the measurements
change only when a probe run (or a background duty) is recorded, every few seconds: the
page keeps their rendered text per format and renders it again only after ``changed()``.
What changes between two records — the scrape counter, the runner's places, the auth counters
— is *live*: a few lines rendered on every scrape and put after the cached part, so every
value a scrape shows is as fresh as without the cache.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

__all__ = ["Page"]

_EOF = b"# EOF\n"


class Page:
    """Collectors to render, each either cached until ``changed()`` or live."""

    def __init__(self) -> None:
        self._cached = CollectorRegistry(auto_describe=False)
        self._live = CollectorRegistry(auto_describe=False)
        self._lock = threading.Lock()
        self._generation = 0
        self._bodies: dict[str, tuple[int, bytes]] = {}  # content type -> (generation, body)
        #: how often the cached part was rendered (for tests and curiosity)
        self.renders = 0

    def add(self, collector: Collector, *, live: bool = False) -> None:
        (self._live if live else self._cached).register(collector)
        self.changed()

    def changed(self) -> None:
        """Something the cached collectors hold has changed: render them again next time."""
        with self._lock:
            self._generation += 1

    def render(self, accept: str) -> tuple[bytes, str]:
        """The page in the format ``accept`` asks for, and its content type."""
        encoder, content_type = choose_encoder(accept)
        with self._lock:
            generation = self._generation
            cached = self._bodies.get(content_type)
            if cached is None or cached[0] != generation:
                # one render at a time: scrapers arriving meanwhile wait and reuse it
                cached = (generation, encoder(self._cached))
                self._bodies[content_type] = cached
                self.renders += 1
        head, live = cached[1], encoder(self._live)
        if head.endswith(_EOF):  # OpenMetrics: one EOF, at the very end
            head = head[: -len(_EOF)]
        return head + live, content_type
