"""The one live progress line of a load test, instead of Locust's stats table every 2 s.

    load test 0:42 / 5:00 (4:18 left) | 98.7 req/s of 100.0 | errors 0 (0.00%) |
        late 3 (0.03%) | workers 2/2                    (on one line)

On a terminal the line rewrites itself every second; anywhere else (CI, ``make demo`` piped
into a file) a plain line is printed every ``LOG_INTERVAL_SECONDS``, never carriage returns.
``format_progress`` is a pure function of a ``Progress`` snapshot; ``ProgressPrinter`` is the
greenlet that prints it.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TextIO

import gevent

__all__ = [
    "LOG_INTERVAL_SECONDS",
    "TTY_INTERVAL_SECONDS",
    "Progress",
    "ProgressPrinter",
    "clock",
    "format_progress",
]

TTY_INTERVAL_SECONDS: Final = 1.0
LOG_INTERVAL_SECONDS: Final = 5.0
#: a worker whose newest report is older than this is shown as silent
SILENT_AFTER_SECONDS: Final = 8.0


@dataclass(frozen=True)
class Progress:
    """What the progress line shows; times are seconds into the schedule."""

    elapsed: float | None  # None: not started yet
    duration: float
    requests: int
    failures: int
    late: int
    rate: float | None  # requests/s achieved so far
    target_rate: float | None  # mean target rate over the same time
    #: distributed runs: workers expected, final reports in, and the silent ones by name
    workers: int | None = None
    finals: int = 0
    silent: tuple[str, ...] = field(default=())


def clock(seconds: float) -> str:
    """``0:42``, ``1:05:00``: elapsed and remaining time for people."""
    whole = max(0, math.floor(seconds + 1e-9))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def clock_up(seconds: float) -> str:
    """``clock`` rounded up: the time left never reads 0:00 before the end."""
    return clock(math.ceil(seconds - 1e-9))


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.2%})" if whole else f"{part}"


def format_progress(p: Progress) -> str:
    if p.elapsed is None:
        return "load test: starting (users connect, then the schedule begins)"
    if p.elapsed < 0:
        return f"load test: schedule starts in {-p.elapsed:.1f} s"
    done = p.elapsed >= p.duration
    when = (
        f"{clock(p.duration)} / {clock(p.duration)} done"
        if done
        else f"{clock(p.elapsed)} / {clock(p.duration)} ({clock_up(p.duration - p.elapsed)} left)"
    )
    rate = "-" if p.rate is None else f"{p.rate:.1f}"
    target = "" if p.target_rate is None else f" of {p.target_rate:.1f}"
    parts = [
        f"load test {when}",
        f"{rate} req/s{target}",
        f"errors {_share(p.failures, p.requests)}",
        f"late {_share(p.late, p.requests)}",
    ]
    if p.workers is not None:
        if done:
            parts.append(f"final reports {p.finals}/{p.workers}")
        else:
            parts.append(f"workers {p.workers - len(p.silent)}/{p.workers}")
        if p.silent:
            parts.append(f"silent: {', '.join(p.silent)}")
    return " | ".join(parts)


class ProgressPrinter:
    """Prints ``format_progress(snapshot())`` on ``stream`` until ``close()``."""

    def __init__(self, snapshot: Callable[[], Progress], stream: TextIO) -> None:
        self._snapshot = snapshot
        self._stream = stream
        self._tty = stream.isatty()
        self._greenlet: gevent.Greenlet | None = None
        self._width = 0

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        interval = TTY_INTERVAL_SECONDS if self._tty else LOG_INTERVAL_SECONDS
        while True:
            gevent.sleep(interval)
            self._show(format_progress(self._snapshot()), final=False)

    def _show(self, line: str, *, final: bool) -> None:
        if self._tty:
            line = line[: max(20, shutil.get_terminal_size().columns - 1)]  # no wrapping
            pad = " " * max(0, self._width - len(line))
            self._stream.write(f"\r{line}{pad}" + ("\n" if final else ""))
            self._width = 0 if final else len(line)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self, line: str | None = None) -> None:
        """Stop, and end with ``line`` (default: the progress now) on a line of its own."""
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
        self._show(line if line is not None else format_progress(self._snapshot()), final=True)
