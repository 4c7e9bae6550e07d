"""Exact latency recording for the load tests: HdrHistograms, mergeable across processes.

Why not Locust's statistics: Locust rounds every response time to about two significant digits
(195-205 ms are all stored as 200 ms), so it cannot say whether p99 is under a 200 ms target,
and it times from the actual send, so a stalled target that delays the next requests hides
the stall (coordinated omission). Here every request is recorded twice, per operation:

* **response time**, from the request's *intended* start (its slot in the open-model arrival
  schedule) to its end: what a subscriber waiting for that slot saw, stall included;
* **service time**, from the *actual* start to the end: what the target took once asked.

Response time >= service time always; the difference is the wait for a late start. Only
successful requests enter the histograms: a fast "connection refused" must not make latency
look good. Failures are counted by cause, and late starts are counted for every request.

Precision. Values are whole microseconds in an HdrHistogram tracking 1 us .. 1 hour with
3 significant digits. HdrHistogram turns "3 digits" into 2048 sub-buckets per power of two
(the next power of two above 2 x 10^3): below 2048 us every microsecond has its own bucket,
and above it a bucket is at most 1/1024 of its value wide (< 0.1 %), so any two values that
differ in their third significant digit never share a bucket — 195.0, 199.9, 200.1 and
205.0 ms stay distinct, and p99 can be compared with 200 ms. Percentiles are reported as the
*upper* edge of their bucket (never understated, overstated by < 0.1 %). Values over one hour
are recorded as one hour (still counted).

Thresholds. "Share of requests over 200 ms" read from a histogram is exact only when the
threshold is a bucket edge, and 200 000 us sits inside the bucket 199 936..200 063 us. So
``Recorder`` also keeps an exact counter per SLA threshold (by default the 10 ms and 200 ms of
``edgesla.conventions``) for each latency kind, like Prometheus buckets placed at the
thresholds; ``OperationResult.over(threshold)`` uses it, and for any other threshold returns
the histogram's bracket ``at_least <= count <= at_most`` (one bucket wide).

Merging is exact: ``Recorder.encode()`` gives a JSON-safe dict (each histogram in HdrHistogram's
compressed base64 form, plus the counts: the format is ``histogram_format.OperationWire``), and
``Recorder.merge(encoded)`` validates it (nothing is added unless all of it is valid) and adds
it. A Locust worker sends its whole ``recorder.encode()`` in its live and final reports
(loadtests/wire.py); the master merges the newest one of every worker. Recording everything in
one recorder and merging the pieces of many (``drain()``: encode and reset) give identical
counts and percentiles.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy

from edgesla.conventions import CUSTOMER_CARE_LATENCY_SECONDS, EDGE_QUERY_LATENCY_SECONDS
from edgesla.loadtests.histogram_format import (
    HIGHEST_US,
    LOWEST_US,
    SIGNIFICANT_DIGITS,
    LatencyKind,
    OperationWire,
    check_operation_name,
    new_hdr,
    parse_operation,
    parse_recorder,
)

__all__ = [
    "DEFAULT_THRESHOLDS_SECONDS",
    "HIGHEST_US",
    "LOWEST_US",
    "SIGNIFICANT_DIGITS",
    "Bucket",
    "CumulativeCounts",
    "LatencyDistribution",
    "LatencyKind",
    "LatencySummary",
    "OperationResult",
    "OperationStats",
    "OverThreshold",
    "Recorder",
    "Totals",
    "check_operation_name",
    "decode_operation",
    "normalize_cause",
]

#: Thresholds with exact "over" counters unless a Recorder is given others (seconds).
DEFAULT_THRESHOLDS_SECONDS: Final = (EDGE_QUERY_LATENCY_SECONDS, CUSTOMER_CARE_LATENCY_SECONDS)

_KINDS: Final[tuple[LatencyKind, ...]] = ("response", "service")
_CAUSE_DISALLOWED = re.compile(r"[^a-z0-9_.:-]+")


def _to_us(seconds: float) -> int:
    """Whole microseconds, clamped to what the histogram tracks."""
    return min(max(round(seconds * 1_000_000), 0), HIGHEST_US)


def _encode_hdr(hdr: Any) -> str:
    encoded: bytes = hdr.encode()
    return encoded.decode("ascii")


def _buckets(hdr: Any) -> tuple[Bucket, ...]:
    """The non-empty buckets of a histogram, lowest first."""
    out = []
    for index, count in enumerate(list(hdr.counts)):
        if count:
            value = hdr.get_value_from_index(index)
            low = int(hdr.get_lowest_equivalent_value(value))
            out.append(Bucket(low, int(hdr.get_highest_equivalent_value(value)), int(count)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Bucket:
    """``count`` recorded values, each between ``low_us`` and ``high_us`` inclusive."""

    low_us: int
    high_us: int
    count: int


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Percentiles in seconds (upper bucket edges); all None when nothing was recorded."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    p99_9: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class OverThreshold:
    """How many of ``total`` requests took longer than ``threshold_seconds``.

    ``at_least == at_most`` when the count is exact (an exact counter, or a threshold on a
    bucket edge); otherwise the true count lies between them (the bucket holding the threshold).
    """

    threshold_seconds: float
    total: int
    at_least: int
    at_most: int

    @property
    def exact(self) -> bool:
        return self.at_least == self.at_most

    @property
    def share_at_least(self) -> float | None:
        """Lower bound of the share over the threshold; None when there were no requests."""
        return self.at_least / self.total if self.total else None

    @property
    def share_at_most(self) -> float | None:
        """Upper bound of the share over the threshold; None when there were no requests."""
        return self.at_most / self.total if self.total else None


@dataclass(frozen=True, slots=True)
class LatencyDistribution:
    """A read-only histogram: the non-empty buckets, for percentiles, thresholds and charts."""

    buckets: tuple[Bucket, ...]

    @property
    def count(self) -> int:
        return sum(b.count for b in self.buckets)

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile (0 < q <= 1) in seconds, the upper edge of its bucket."""
        if not 0 < q <= 1:
            raise ValueError(f"quantile must be in (0, 1], got {q}")
        total = self.count
        if not total:
            return None
        rank = max(1, math.ceil(round(q * total, 9)))  # round: 0.99 * 100 is 99.00000000000001
        seen = 0
        for bucket in self.buckets:
            seen += bucket.count
            if seen >= rank:
                return bucket.high_us / 1_000_000
        raise AssertionError("unreachable: rank <= total")

    def summary(self) -> LatencySummary:
        top = self.buckets[-1].high_us / 1_000_000 if self.buckets else None
        q = self.quantile
        return LatencySummary(self.count, q(0.5), q(0.9), q(0.99), q(0.999), top)

    def over(self, threshold_seconds: float) -> OverThreshold:
        """Values over the threshold, bracketed by the bucket that holds the threshold."""
        limit = _to_us(threshold_seconds)
        at_least = sum(b.count for b in self.buckets if b.low_us > limit)
        at_most = sum(b.count for b in self.buckets if b.high_us > limit)
        return OverThreshold(threshold_seconds, self.count, at_least, at_most)


@dataclass(frozen=True, slots=True)
class OperationResult:
    """Everything measured for one operation: what the runner's table and the SLA report read."""

    name: str
    successes: int
    failures: Mapping[str, int]  # cause -> count
    late_starts: int
    response: LatencyDistribution  # from the intended start; successes only
    service: LatencyDistribution  # from the actual start; successes only
    #: exact counts of successes over each threshold: kind -> (threshold in us -> count)
    exact_over: Mapping[LatencyKind, Mapping[int, int]]

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def requests(self) -> int:
        return self.successes + self.failed

    @property
    def error_ratio(self) -> float | None:
        """Failed / all requests; None when there were none (missing data is not a pass)."""
        return self.failed / self.requests if self.requests else None

    def over(self, threshold_seconds: float, kind: LatencyKind = "response") -> OverThreshold:
        """Successful requests slower than the threshold: exact when it has a counter."""
        counted = self.exact_over[kind].get(_to_us(threshold_seconds))
        if counted is not None:
            return OverThreshold(threshold_seconds, self.successes, counted, counted)
        return (self.response if kind == "response" else self.service).over(threshold_seconds)


@dataclass(frozen=True, slots=True)
class Totals:
    """All operations' requests, failures and late starts together."""

    requests: int = 0
    failures: int = 0
    late_starts: int = 0

    @classmethod
    def of(cls, operations: Iterable[Mapping[str, Any]]) -> Totals:
        """From encoded operations (``OperationStats.encode()``, or just its counters)."""
        requests = failures = late = 0
        for op in operations:
            failed = sum(op["failures"].values())
            requests += op["successes"] + failed
            failures += failed
            late += op["late_starts"]
        return cls(requests, failures, late)


_MIDPOINTS: list[Any] = []


def _midpoints_us() -> Any:
    """The midpoint value of every bucket of the (one) histogram configuration, computed once
    (hdrh's own get_mean_value walks the 23 552 buckets in Python on every call)."""
    if not _MIDPOINTS:
        hdr = new_hdr()
        values = [hdr.get_value_from_index(i) for i in range(hdr.counts_len)]
        _MIDPOINTS.append(
            numpy.array(
                [
                    (hdr.get_lowest_equivalent_value(v) + hdr.get_highest_equivalent_value(v)) / 2
                    for v in values
                ]
            )
        )
    return _MIDPOINTS[0]


@dataclass(frozen=True, slots=True)
class CumulativeCounts:
    """One operation's counters and its successes at or below each bound: the shape of a
    Prometheus histogram (``Recorder.cumulative``), cheap enough to compute on every scrape."""

    successes: int
    failed: int
    late_starts: int
    #: successes whose latency is at most each bound, in the order of the bounds given
    at_or_below: tuple[int, ...]
    #: sum of the successes' latencies, seconds (from bucket midpoints: within 0.1 %)
    sum_seconds: float


class OperationStats:
    """The mutable counters and histograms of one operation (not thread-safe: see Recorder)."""

    def __init__(self, thresholds_us: tuple[int, ...]) -> None:
        self.thresholds_us = thresholds_us
        self.successes = 0
        self.failures: dict[str, int] = {}
        self.late_starts = 0
        self.hdr: dict[LatencyKind, Any] = {kind: new_hdr() for kind in _KINDS}
        self.over: dict[LatencyKind, list[int]] = {k: [0] * len(thresholds_us) for k in _KINDS}

    def record(self, response_us: int, service_us: int, cause: str | None, late: bool) -> None:
        if late:
            self.late_starts += 1
        if cause is not None:
            self.failures[cause] = self.failures.get(cause, 0) + 1
            return
        self.successes += 1
        pairs: tuple[tuple[LatencyKind, int], ...] = (
            ("response", response_us),
            ("service", service_us),
        )
        for kind, value in pairs:
            self.hdr[kind].record_value(value)
            over = self.over[kind]
            for i, limit in enumerate(self.thresholds_us):
                if value > limit:
                    over[i] += 1

    def cumulative(self, kind: LatencyKind, bounds_us: tuple[int, ...]) -> CumulativeCounts:
        """Successes at or below each bound: exact at a threshold with a counter and at a
        bucket edge; elsewhere the values of the bucket holding the bound are left out (a
        slight undercount of fast requests, never an overcount)."""
        hdr = self.hdr[kind]
        # the counts array seen by numpy without a copy, summed once (C speed: no gevent stall)
        running = numpy.ctypeslib.as_array(hdr.counts).cumsum()
        exact = dict(zip(self.thresholds_us, self.over[kind], strict=True))
        below = []
        for bound in bounds_us:
            if bound in exact:
                below.append(self.successes - exact[bound])
                continue
            index = hdr.get_counts_array_index(bound)
            if hdr.get_highest_equivalent_value(bound) != bound:
                index -= 1  # the bucket straddles the bound: leave it out
            below.append(int(running[index]) if index >= 0 else 0)
        monotonic = tuple(itertools.accumulate(below, max))
        total_us = float(numpy.ctypeslib.as_array(hdr.counts) @ _midpoints_us())
        return CumulativeCounts(
            successes=self.successes,
            failed=sum(self.failures.values()),
            late_starts=self.late_starts,
            at_or_below=monotonic,
            sum_seconds=total_us / 1_000_000,
        )

    def encode_counts(self) -> dict[str, Any]:
        """The counters of ``encode()``, without the histograms."""
        return {
            "successes": self.successes,
            "failures": self.failures,
            "late_starts": self.late_starts,
        }

    def encode(self) -> dict[str, Any]:
        """JSON-safe form (``OperationWire``); ``add`` of it to an empty one gives this one back."""
        return {
            "successes": self.successes,
            "failures": dict(sorted(self.failures.items())),
            "late_starts": self.late_starts,
            "thresholds_us": list(self.thresholds_us),
            **{
                f"{kind}_time": {
                    "hdr": _encode_hdr(self.hdr[kind]),
                    "count_over": {
                        str(t): n for t, n in zip(self.thresholds_us, self.over[kind], strict=True)
                    },
                }
                for kind in _KINDS
            },
        }

    def add(self, parsed: OperationWire) -> None:
        """Add a validated encoding with this one's thresholds (``Recorder.merge`` checks)."""
        self.successes += parsed.successes
        for cause, count in parsed.failures.items():
            self.failures[cause] = self.failures.get(cause, 0) + count
        self.late_starts += parsed.late_starts
        for kind in _KINDS:
            self.hdr[kind].add(parsed.latency(kind).hdr)
            pairs = zip(self.over[kind], parsed.over(kind), strict=True)
            self.over[kind] = [a + b for a, b in pairs]

    def result(self, name: str) -> OperationResult:
        exact = {
            k: MappingProxyType(dict(zip(self.thresholds_us, self.over[k], strict=True)))
            for k in _KINDS
        }
        return OperationResult(
            name=name,
            successes=self.successes,
            failures=MappingProxyType(dict(sorted(self.failures.items()))),
            late_starts=self.late_starts,
            response=LatencyDistribution(_buckets(self.hdr["response"])),
            service=LatencyDistribution(_buckets(self.hdr["service"])),
            exact_over=MappingProxyType(exact),
        )


def decode_operation(name: str, encoded: Mapping[str, Any] | OperationWire) -> OperationResult:
    """The OperationResult of one ``OperationStats.encode()``; ValueError when malformed."""
    parsed = encoded if isinstance(encoded, OperationWire) else parse_operation(encoded)
    stats = OperationStats(parsed.thresholds_us)
    stats.add(parsed)
    return stats.result(name)


def normalize_cause(cause: str | None) -> str:
    """A short label-like cause: lower case, [a-z0-9_.:-], at most 64 characters."""
    cleaned = _CAUSE_DISALLOWED.sub("_", (cause or "").strip().lower()).strip("_")[:64]
    return cleaned or "error"


class Recorder:
    """Per-operation OperationStats behind one lock (Locust's greenlets and real threads).

    ``record`` takes ``time.perf_counter()`` values in seconds.
    """

    def __init__(self, thresholds: Iterable[float] = DEFAULT_THRESHOLDS_SECONDS) -> None:
        thresholds_us = tuple(sorted({_to_us(t) for t in thresholds}))
        if any(not 0 < t < HIGHEST_US for t in thresholds_us):
            raise ValueError(f"thresholds must lie between 1 us and 1 hour, got {thresholds}")
        self.thresholds_us: Final = thresholds_us
        self._lock = threading.Lock()
        self._ops: dict[str, OperationStats] = {}

    def _stats(self, op: str) -> OperationStats:
        stats = self._ops.get(op)
        if stats is None:
            stats = self._ops[check_operation_name(op)] = OperationStats(self.thresholds_us)
        return stats

    def record(
        self,
        op: str,
        intended_start: float,
        actual_start: float,
        end: float,
        ok: bool,
        cause: str | None = None,
        late: bool = False,
    ) -> None:
        """Record one request. A failure's cause is normalized (see ``normalize_cause``)."""
        if end < actual_start:
            raise ValueError(f"{op}: end {end} is before the actual start {actual_start}")
        if ok and cause is not None:
            raise ValueError(f"{op}: a successful request has no failure cause ({cause!r})")
        response_us = _to_us(end - min(intended_start, actual_start))
        service_us = _to_us(end - actual_start)
        failure = None if ok else normalize_cause(cause)
        with self._lock:
            self._stats(op).record(response_us, service_us, failure, late)

    def add_operation(self, op: str) -> None:
        """Make an operation known with zero requests, so its absence shows in the results."""
        with self._lock:
            self._stats(op)

    @property
    def operations(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._ops))

    def encode(self) -> dict[str, Any]:
        """JSON-safe ``{"operations": {name: encoded OperationStats}}``."""
        with self._lock:
            return {"operations": {name: s.encode() for name, s in sorted(self._ops.items())}}

    def drain(self) -> dict[str, Any]:
        """``encode()`` and start afresh, atomically: the delta a Locust worker sends."""
        with self._lock:
            encoded = {"operations": {name: s.encode() for name, s in sorted(self._ops.items())}}
            self._ops = {}
        return encoded

    def merge(self, encoded: Mapping[str, Any]) -> None:
        """Add another recorder's ``encode()``/``drain()``; ValueError when it is malformed.

        Every operation is validated before anything is added, so a bad message changes nothing.
        """
        parsed = parse_recorder(encoded)
        for name, op in parsed.items():
            if op.thresholds_us != self.thresholds_us:
                raise ValueError(
                    f"operation {name!r}: thresholds_us: {list(op.thresholds_us)} differ from "
                    f"this recorder's {list(self.thresholds_us)}; recorders can only be merged "
                    "with the same thresholds"
                )
        with self._lock:
            for name, part in parsed.items():
                self._stats(name).add(part)

    def cumulative(
        self, bounds_seconds: Iterable[float], kind: LatencyKind = "response"
    ) -> dict[str, CumulativeCounts]:
        """Operation name -> its counts at or below each bound (Prometheus histogram form)."""
        bounds_us = tuple(_to_us(b) for b in bounds_seconds)
        _midpoints_us()  # computed once, outside the lock
        with self._lock:
            return {name: s.cumulative(kind, bounds_us) for name, s in sorted(self._ops.items())}

    def totals(self) -> Totals:
        """Requests, failures and late starts of all operations: cheap (no histogram is read),
        for a progress line. ``results()`` walks every bucket (about 100 ms)."""
        with self._lock:
            return Totals.of(s.encode_counts() for s in self._ops.values())

    def results(self) -> dict[str, OperationResult]:
        """A consistent read-only snapshot: operation name -> OperationResult."""
        with self._lock:
            return {name: s.result(name) for name, s in sorted(self._ops.items())}
