"""Bounded, deadline-enforced probe runs: what the schedule and ``/probe`` share.

    Runner(max_concurrency, max_abandoned, tracer, pop)
    runner.submit(run)              start now, or when a place frees (scheduled runs, in order)
    runner.run_now(run, wait)       start within ``wait`` seconds or raise Busy (``/probe``,
                                    ``edgesla probe``); returns the run's Outcome

**Places.** At most ``max_concurrency`` runs are live at once, each in its own thread
(started when it gets a place). Runs that find no free place wait in arrival order.

**The deadline belongs to the framework.** A run is settled exactly once: by its prober
returning, or, if the prober has not returned ``DEADLINE_GRACE_SECONDS`` after the run's
timeout, by the watchdog (``edgesla.probes._deadline``), as a ``timeout`` failure at that moment —
whatever the prober does later. A result arriving after that is discarded (logged at debug).
The probers' own client-side deadlines make them return by their timeout; the framework's
is the guarantee for everything they cannot bound (a library blocking where no timeout
reaches, name resolution, a bug).

**Abandoned runs.** A run settled at its deadline whose prober still has not returned is
abandoned: its thread runs on until the prober returns (Python cannot stop a thread), and its
place is freed for other runs, for up to ``max_abandoned`` abandoned runs at once. Beyond
that bound an expired run keeps its place, so fewer runs run at once, and
``limit_reached`` counts it (``edgesla_exporter_abandoned_limit_reached_total``). Threads
running probers therefore never exceed ``max_concurrency + max_abandoned``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry import trace

from edgesla.config import Target
from edgesla.exporters.otel import span_attributes, span_outcome
from edgesla.probes._deadline import Alarm, Watchdog
from edgesla.probes._duty import ProbeFn
from edgesla.probes._result import ProbeResult, Reason

__all__ = ["DEADLINE_GRACE_SECONDS", "PROBE", "Busy", "Outcome", "ProbeFn", "Run", "Runner"]

log = logging.getLogger("edgesla.exporter")

#: The duty of a target's prober; background duties (heartbeats) have their own names.
PROBE = "probe"
#: How long past its timeout a run may take before the framework records it as a timeout.
DEADLINE_GRACE_SECONDS = 0.25
#: The runs' deadlines get a watchdog thread of their own: recording a timeout (metrics, a
#: log line) must never delay a driver's alarm that wakes a thread blocked on a socket.
_DEADLINES = Watchdog("edgesla-run-deadlines")


class Busy(Exception):
    """No place for a run freed within the wait (``/probe`` answers 503)."""


@dataclass(frozen=True)
class Outcome:
    result: ProbeResult
    #: Wall seconds: until the prober returned, or until the deadline when ``timed_out``.
    seconds: float
    #: Settled by the framework at the deadline: the prober had not returned.
    timed_out: bool = False


@dataclass(eq=False)
class Run:
    """One run of one duty (``PROBE`` or a background duty) of one target."""

    target: Target
    duty: str
    fn: ProbeFn
    timeout: float
    #: Called once with the outcome that counts (on the thread that settled it).
    on_outcome: Callable[[Run, Outcome], None] = lambda run, outcome: None
    #: Monotonic time by which the run must end whatever its timeout (``/probe``'s budget).
    not_after: float | None = None
    started: float | None = None
    outcome: Outcome | None = None
    finished: bool = False  # the prober returned
    abandoned: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    _alarm: Alarm | None = None


@dataclass(eq=False)
class _Waiter:
    run: Run
    event: threading.Event | None = None  # set: a caller waits for the place itself
    granted: bool = False


class Runner:
    def __init__(
        self,
        max_concurrency: int,
        max_abandoned: int,
        tracer: trace.Tracer,
        pop: str,
        grace: float = DEADLINE_GRACE_SECONDS,
        alarms: Watchdog | None = None,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.max_abandoned = max_abandoned
        self.grace = grace
        self._tracer = tracer
        self._pop = pop
        self._alarms = alarms or _DEADLINES
        self._lock = threading.Condition()
        self._live = 0
        self._waiting: deque[_Waiter] = deque()
        self._closed = False
        #: Abandoned runs whose prober has not returned yet.
        self.abandoned = 0
        #: Expired runs that kept their place because ``max_abandoned`` were out already.
        self.limit_reached = 0

    # --- getting a place ------------------------------------------------------------------

    def submit(self, run: Run) -> None:
        """Start ``run`` now, or when a place frees; never blocks."""
        with self._lock:
            if self._closed:
                return
            if self._live < self.max_concurrency and not self._waiting:
                self._live += 1
            else:
                self._waiting.append(_Waiter(run))
                return
        self._start(run)

    def run_now(self, run: Run, wait: float) -> Outcome:
        """Start ``run`` within ``wait`` seconds (else Busy) and return its outcome, which is
        settled by the run's deadline at the latest."""
        waiter = _Waiter(run, threading.Event())
        with self._lock:
            if self._closed:
                raise Busy("the exporter is stopping")
            if self._live < self.max_concurrency and not self._waiting:
                self._live += 1
                waiter.granted = True
            else:
                self._waiting.append(waiter)
        if not waiter.granted:
            assert waiter.event is not None
            waiter.event.wait(wait)
            with self._lock:
                if not waiter.granted:
                    if waiter in self._waiting:  # close() may have emptied the queue
                        self._waiting.remove(waiter)
                    raise Busy(
                        f"{self._live} probe runs in flight (max_concurrency "
                        f"{self.max_concurrency}), {len(self._waiting)} more waiting: no place "
                        f"freed within {wait:.2f}s"
                    )
        self._start(run)
        run.done.wait()
        assert run.outcome is not None
        return run.outcome

    def _grant(self) -> list[Run]:
        """Under the lock: hand free places to waiters; the runs to start (outside it)."""
        starts = []
        while self._waiting and self._live < self.max_concurrency and not self._closed:
            waiter = self._waiting.popleft()
            self._live += 1
            if waiter.event is not None:
                waiter.granted = True
                waiter.event.set()
            else:
                starts.append(waiter.run)
        return starts

    # --- running ---------------------------------------------------------------------------

    def _start(self, run: Run) -> None:
        run.started = time.monotonic()
        if run.not_after is not None:  # what is left of the budget, to the millisecond
            run.timeout = max(min(run.timeout, round(run.not_after - run.started, 3)), 0.001)
        run._alarm = self._alarms.at(
            run.started + run.timeout + self.grace, lambda: self._expire(run)
        )
        name = f"probe {run.target.name} {run.duty}"
        try:
            threading.Thread(target=self._work, args=(run,), name=name, daemon=True).start()
        except RuntimeError as exc:  # no thread to be had: a failed run, not a dead schedule
            log.error("cannot start a thread for %s: %s", name, exc)
            self._finish(run, ProbeResult.fail(Reason.ERROR, f"no thread: {exc}"), 0.0)

    def _work(self, run: Run) -> None:
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
            f"probe {run.target.prober} {run.target.name}",
            attributes=span_attributes(run.target, self._pop) | {"edgesla.duty": run.duty},
        ) as span:
            try:
                result = run.fn(run.target, run.timeout)
            except Exception as exc:  # a prober bug must not stop the schedule
                log.exception("prober %s raised on target %s", run.target.prober, run.target.name)
                result = ProbeResult.fail(
                    Reason.ERROR, f"prober raised {type(exc).__name__}: {exc}"
                )
            recorded = self._finish(run, result, time.perf_counter() - started)
            span_outcome(span, recorded.result)
            if recorded.result is not result:
                span.set_attribute("edgesla.late_result_discarded", True)

    def _finish(self, run: Run, result: ProbeResult, seconds: float) -> Outcome:
        """The prober returned: settle the run if its deadline did not; free its place."""
        with self._lock:
            run.finished = True
            won = run.outcome is None
            if won:
                run.outcome = Outcome(result, seconds)
            if run.abandoned:
                self.abandoned -= 1
            else:
                self._live -= 1
            starts = self._grant()
            self._lock.notify_all()
        if run._alarm is not None:
            run._alarm.cancel()
        assert run.outcome is not None
        if won:
            run.on_outcome(run, run.outcome)
            run.done.set()
        else:
            log.debug(
                "target %s: %s result after %.2fs discarded (recorded as a timeout): %s",
                run.target.name,
                run.duty,
                seconds,
                result.detail,
            )
        for start in starts:
            self._start(start)
        return run.outcome

    def _expire(self, run: Run) -> None:
        """On the watchdog: the run is past its deadline and its prober has not returned."""
        with self._lock:
            if run.outcome is not None or run.finished:
                return
            run.outcome = Outcome(
                ProbeResult.fail(
                    Reason.TIMEOUT,
                    f"no result within the timeout of {round(run.timeout, 3):g}s: recorded as a "
                    f"timeout at the deadline (+{self.grace:g}s grace); a late result is "
                    "discarded",
                ),
                run.timeout + self.grace,
                timed_out=True,
            )
            if self.abandoned < self.max_abandoned:
                run.abandoned = True
                self.abandoned += 1
                self._live -= 1
                starts = self._grant()
                self._lock.notify_all()
            else:
                self.limit_reached += 1
                starts = []
        log.info(
            "target %s: %s run cut off at its deadline; its thread is abandoned",
            run.target.name,
            run.duty,
        )
        run.on_outcome(run, run.outcome)
        run.done.set()
        for start in starts:
            self._start(start)

    # --- stopping ---------------------------------------------------------------------------

    def close(self, wait: float) -> None:
        """Start nothing more; wait up to ``wait`` s for the live runs (abandoned ones are
        daemon threads and are left to end on their own)."""
        deadline = time.monotonic() + wait
        with self._lock:
            self._closed = True
            self._waiting.clear()
            while self._live > 0 and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)

    @property
    def live(self) -> int:
        return self._live
