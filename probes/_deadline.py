"""Deadlines of probe runs, and the one watchdog thread that acts when a deadline passes.

    Deadline(seconds)           a monotonic end time: ``left()``, ``expired``
    watchdog().at(when, act)    call ``act()`` on the drivers' watchdog thread at monotonic
                                ``when``, unless the returned Alarm is cancelled first

Why a watchdog and not only timeouts: a frozen server (SIGSTOP, a hung host) keeps its TCP
connections open and its kernel still ACKs packets and answers keepalives, so a thread
blocked reading such a socket waits forever unless someone acts on it. The drivers set
socket timeouts where they can; where the library blocks on its own (psycopg reading a
result), the driver arms an alarm that shuts the socket down at the deadline, which wakes
the blocked thread at once. The exporter keeps a Watchdog of its own to record a run that is
past its deadline as a timeout. One thread serves every alarm of a Watchdog: actions must be
short and must not block (``socket.shutdown``, setting a flag, recording a metric).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Alarm", "Deadline", "Watchdog", "watchdog"]

log = logging.getLogger("edgesla.deadline")


class Deadline:
    """``seconds`` from now on the monotonic clock."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float, start: float | None = None) -> None:
        self.seconds = seconds
        self.end = (time.monotonic() if start is None else start) + seconds

    def left(self) -> float:
        """Seconds until the deadline; 0 or less once it has passed."""
        return self.end - time.monotonic()

    @property
    def expired(self) -> bool:
        return self.left() <= 0


class Alarm:
    """One armed action. ``cancel()`` returns False when the action already ran; when the
    action is running, it waits for it to finish, so after ``cancel()`` it never acts."""

    __slots__ = ("_action", "_cancelled", "_fired", "_lock", "when")

    def __init__(self, when: float, action: Callable[[], None]) -> None:
        self.when = when
        self._action = action
        self._lock = threading.Lock()
        self._cancelled = False
        self._fired = False

    def cancel(self) -> bool:
        with self._lock:
            if self._fired:
                return False
            self._cancelled = True
            return True

    @property
    def fired(self) -> bool:
        return self._fired

    def _fire(self) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._fired = True
            try:
                self._action()
            except Exception:  # an alarm's bug must not stop every other alarm
                log.exception("watchdog action failed")


class Watchdog:
    """A heap of alarms and the daemon thread that fires them (started on first use)."""

    def __init__(self, name: str = "edgesla-watchdog") -> None:
        self._name = name
        self._heap: list[tuple[float, int, Alarm]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def at(self, when: float, action: Callable[[], None]) -> Alarm:
        alarm = Alarm(when, action)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return alarm

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                _, _, alarm = heapq.heappop(self._heap)
            alarm._fire()


_WATCHDOG = Watchdog()


def watchdog() -> Watchdog:
    """The process's watchdog, shared by the drivers and the exporter."""
    return _WATCHDOG
