"""Is the load generator itself the bottleneck? CPU of this process, sampled every second."""

from __future__ import annotations

import threading

import gevent
import psutil

__all__ = ["SATURATED_PERCENT", "CpuMonitor"]

#: One Python process can use one core: above this share of it, the generator is the limit.
SATURATED_PERCENT = 90.0


class CpuMonitor:
    """Samples ``cpu_percent`` of this process in a greenlet; ``drain()`` hands them over."""

    def __init__(self) -> None:
        self._samples: list[float] = []
        self._lock = threading.Lock()
        self._greenlet: gevent.Greenlet | None = None
        self._process = psutil.Process()

    def start(self) -> None:
        self._process.cpu_percent()  # the first call only sets the reference point
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(1.0)
            with self._lock:
                self._samples.append(self._process.cpu_percent())

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def drain(self) -> list[float]:
        with self._lock:
            samples, self._samples = self._samples, []
        return samples

    @staticmethod
    def saturated(samples: list[float]) -> bool:
        """Saturated when at least a tenth of the samples are above SATURATED_PERCENT."""
        busy = sum(s >= SATURATED_PERCENT for s in samples)
        return bool(samples) and busy >= max(1, len(samples) // 10)
