"""Reports for the chart tests, judged by the real evaluators (``edgesla.report.evaluate``).

Unlike ``conftest.build_report`` (hand-made results), every result here comes from
``evaluate.latency`` / ``availability`` / ``replication_lag`` on evidence shaped like the
inputs': load-test latency through a real ``edgesla.loadtests.histograms.Recorder``, a results
directory and ``edgesla.report.inputs.loadtest.latency`` (hundreds of HdrHistogram buckets);
exporter latency as Prometheus ``le`` buckets at ``conventions.LATENCY_BUCKETS_SECONDS``;
bad-event series through the inputs' own ``downsample_cumulative``.

    latency-1          1 request (load test)
    latency-12         12 requests, one of them slower than 200 ms (load test)
    latency-1e6        10^6 probes spread log-uniformly over 1 ms .. 10 s (le buckets)
    latency-1e6-hdr    the same 10^6 requests in an HdrHistogram (thousands of buckets)
    latency-hdr        20,000 edge queries, hundreds of HdrHistogram buckets (load test)
    latency-empty      an operation planned but never run: no requests
    latency-mixed      `make demo`'s evidence before the fix: cumulative counts that fall
    latency-mismatch   buckets from another series: their total is not the judged total
    burn-31d           a 31-day calendar month of 15 s probes with three outages
    burn-1min          a 1-minute period, four probes, one failed
    burn-overspent     a week in which the budget ran out on day 3
    lag-stall          a day of lag at 15 s with a 25-minute stall and unknown samples
    lag-1min           a 1-minute period of lag
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped,unused-ignore]

from edgesla import conventions as conv
from edgesla.loadtests.histograms import HIGHEST_US, LOWEST_US, SIGNIFICANT_DIGITS, Recorder
from edgesla.loadtests.results import (
    GeneratorHealth,
    GeneratorHost,
    RunMeta,
    read_results,
    write_results,
)
from edgesla.report import evaluate
from edgesla.report.inputs import loadtest as loadtest_input
from edgesla.report.inputs._counters import downsample_cumulative
from edgesla.report.model import (
    AvailabilityEvidence,
    LagEvidence,
    LatencyEvidence,
    ObjectiveResult,
    Report,
)

CONFIDENCE = 0.95
MONTH = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))
MINUTE = (datetime(2024, 1, 15, 12, 0, tzinfo=UTC), datetime(2024, 1, 15, 12, 1, tzinfo=UTC))
DAY = (datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 1, 16, tzinfo=UTC))
WEEK = (datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC))


def _loadtest(
    tmp: Path, name: str, requests: list[float], threshold: float
) -> tuple[LatencyEvidence, tuple[datetime, datetime]]:
    """Latency evidence of ``requests`` (seconds) read back from a real results directory."""
    recorder = Recorder()
    recorder.add_operation("query")
    for seconds in requests:
        recorder.record("query", 0.0, 0.0, seconds, True)
    started = MINUTE[0]
    meta = RunMeta(
        profile="peak",
        target_rates={"query": 1.0},
        duration_seconds=60,
        started_at=started,
        ended_at=started + timedelta(seconds=60),
        generators=(GeneratorHost("localhost", 1),),
        command_line=("edgesla", "loadtest"),
        health=GeneratorHealth(cpu_saturated=False, too_few_users=False),
        pop=f"pop-{name}",
    )
    results = read_results(write_results(tmp / name, meta, recorder))
    evidence = loadtest_input.latency(results, threshold, ["query"], sli="loadtest_query")
    return evidence, (meta.started_at, meta.ended_at)


def _latency(name: str, evidence: LatencyEvidence, percentile: float = 99.0) -> ObjectiveResult:
    return evaluate.latency(name, evidence, percentile, CONFIDENCE)


def _prometheus_buckets(values: numpy.ndarray) -> tuple[tuple[float, int], ...]:
    """Cumulative ``le`` buckets of ``values`` at the exporter's bounds, +Inf last."""
    bounds = [*conv.LATENCY_BUCKETS_SECONDS, math.inf]
    return tuple((b, int(numpy.count_nonzero(values <= b))) for b in bounds)


def latency_1(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    evidence, period = _loadtest(tmp, "latency-1", [0.0031], 0.2)
    return _latency("Customer care latency (1 request)", evidence), period


def latency_12(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    ms = [18, 22, 25, 31, 40, 44, 52, 63, 90, 120, 185, 480]
    evidence, period = _loadtest(tmp, "latency-12", [m / 1000 for m in ms], 0.2)
    return _latency("Customer care latency (12 requests)", evidence), period


def latency_million(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    values = numpy.logspace(-3, 1, 1_000_000)  # 1 ms .. 10 s, log-uniform
    buckets = _prometheus_buckets(values)
    threshold = conv.CUSTOMER_CARE_LATENCY_SECONDS
    within = dict(buckets)[threshold]
    evidence = LatencyEvidence(
        "probe_latency",
        "pop-1e6",
        threshold,
        len(values) - within,
        len(values),
        buckets,
        source="prometheus (test)",
    )
    return _latency("Probe latency (10^6 probes)", evidence), MONTH


def latency_million_hdr(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    """10^6 requests in an HdrHistogram of the recorder's configuration, turned into
    cumulative buckets the way ``inputs.loadtest.latency`` does (non-empty buckets, by their
    highest equivalent value); ``over`` is exact, as the recorder's counter at the threshold
    is. (A Recorder takes one request per call: 10^6 calls would take the test seconds.)"""
    hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    values_us = numpy.rint(numpy.logspace(3, 7, 20_000)).astype(int)  # 1 ms .. 10 s
    for value in values_us:
        hdr.record_value(int(value), 50)
    buckets, running = [], 0
    for index, n in enumerate(list(hdr.counts)):
        if n:
            running += int(n)
            high = hdr.get_highest_equivalent_value(hdr.get_value_from_index(index))
            buckets.append((int(high) / 1_000_000, running))
    threshold = conv.CUSTOMER_CARE_LATENCY_SECONDS
    over = 50 * int(numpy.count_nonzero(values_us > threshold * 1_000_000))
    evidence = LatencyEvidence(
        "loadtest_response_time",
        "pop-1e6-hdr",
        threshold,
        over,
        running,
        tuple(buckets),
        source="loadtest (test)",
    )
    return _latency("Customer care latency (10^6 requests)", evidence), MINUTE


def latency_hdr(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    rnd = random.Random(12)
    requests = []
    for _ in range(20_000):
        seconds = rnd.lognormvariate(math.log(0.0018), 0.45)
        if rnd.random() < 0.012:  # a slow tail: 1.2 % of queries at 10-400 ms
            seconds = math.exp(rnd.uniform(math.log(0.01), math.log(0.4)))
        requests.append(seconds)
    threshold = conv.EDGE_QUERY_LATENCY_SECONDS
    evidence, period = _loadtest(tmp, "latency-hdr", requests, threshold)
    return _latency("Edge NoSQL query latency (HdrHistogram)", evidence), period


def latency_empty(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    evidence, period = _loadtest(tmp, "latency-empty", [], 0.01)
    return _latency("Edge NoSQL query latency (no requests)", evidence), period


def latency_mixed(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    """What `make demo` showed: a whole PoP's extrapolated buckets beside one target's
    exact counts (12 requests, none slower than 200 ms)."""
    buckets = ((0.005, 3), (0.01, 8), (0.025, 40), (0.05, 31), (0.1, 52), (0.2, 12),
               (0.5, 60), (1.0, 61), (math.inf, 12))  # fmt: skip
    evidence = LatencyEvidence("probe_latency", "pop-mixed", 0.2, 0, 12, buckets)
    return _latency("Customer care latency (mixed series)", evidence), MINUTE


def latency_mismatch(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    buckets = ((0.001, 10), (0.0025, 30), (0.005, 55), (0.01, 58), (0.025, 60), (math.inf, 60))
    evidence = LatencyEvidence("probe_latency", "pop-mismatch", 0.01, 0, 12, buckets)
    return _latency("Edge NoSQL query latency (other series)", evidence), MINUTE


def _probes(
    name: str,
    pop: str,
    period: tuple[datetime, datetime],
    interval: float,
    bad_at: list[datetime],
    objective: float = 0.99999,
) -> ObjectiveResult:
    start, end = (t.timestamp() for t in period)
    total = round((end - start) / interval)
    increments = [(t.timestamp(), 1) for t in bad_at]
    chart = downsample_cumulative(increments, start, end, 500)
    evidence = AvailabilityEvidence(
        "probe_success",
        pop,
        total - len(bad_at),
        total,
        period[0],
        period[1],
        bad_over_time=tuple((datetime.fromtimestamp(t, UTC), float(n)) for t, n in chart),
        downtime_seconds=interval * len(bad_at),
        source="prometheus (test)",
    )
    return evaluate.availability(name, evidence, objective, CONFIDENCE)


def burn_month(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    start = MONTH[0]
    bad = [start + timedelta(days=4, hours=3, seconds=15 * i) for i in range(2)]
    bad += [start + timedelta(days=17, hours=22, seconds=15 * i) for i in range(3)]
    bad += [start + timedelta(days=26, hours=9)]
    return _probes("Probe availability (31 days)", "pop-month", MONTH, 15.0, bad), MONTH


def burn_minute(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    bad = [MINUTE[0] + timedelta(seconds=31)]
    return _probes("Probe availability (1 minute)", "pop-minute", MINUTE, 15.0, bad), MINUTE


def burn_overspent(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    start = WEEK[0]
    bad = [start + timedelta(days=1, hours=h) for h in range(0, 48, 3)]
    bad += [start + timedelta(days=5, minutes=m) for m in range(0, 30, 2)]
    result = _probes(
        "Probe availability (budget overspent)", "pop-week", WEEK, 15.0, bad, objective=0.9999
    )
    return result, WEEK


def lag_stall(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    start, step = DAY[0], 15.0
    samples = []
    for i in range(int(86400 / step)):
        t = start + timedelta(seconds=i * step)
        lag = 0.04 + 0.02 * math.sin(i / 50)
        if 3000 <= i < 3100:  # a 25-minute stall: the heartbeat age grows with the clock
            lag = (i - 3000) * step
        elif 4200 <= i < 4204:
            lag = math.nan  # the lag is unknown: counted as over the threshold
        samples.append((t, lag))
    evidence = LagEvidence("pg_replication_lag", "pop-lag", tuple(samples), step)
    result = evaluate.replication_lag("Replication lag (stall)", evidence, 0.999, 1.0, CONFIDENCE)
    return result, DAY


def lag_minute(tmp: Path) -> tuple[ObjectiveResult, tuple[datetime, datetime]]:
    start, step = MINUTE[0], 1.0
    samples = tuple(
        (start + timedelta(seconds=i), 0.08 + (1.4 if 20 <= i < 24 else 0.0)) for i in range(60)
    )
    evidence = LagEvidence("pg_replication_lag", "pop-lag-minute", samples, step)
    result = evaluate.replication_lag("Replication lag (1 minute)", evidence, 0.99, 1.0, CONFIDENCE)
    return result, MINUTE


SCENARIOS: dict[str, Callable[[Path], tuple[ObjectiveResult, tuple[datetime, datetime]]]] = {
    "latency-1": latency_1,
    "latency-12": latency_12,
    "latency-1e6": latency_million,
    "latency-1e6-hdr": latency_million_hdr,
    "latency-hdr": latency_hdr,
    "latency-empty": latency_empty,
    "latency-mixed": latency_mixed,
    "latency-mismatch": latency_mismatch,
    "burn-31d": burn_month,
    "burn-1min": burn_minute,
    "burn-overspent": burn_overspent,
    "lag-stall": lag_stall,
    "lag-1min": lag_minute,
}


def report_of(name: str, tmp: Path) -> Report:
    """A one-objective report of scenario ``name`` over its own period."""
    result, (start, end) = SCENARIOS[name](tmp)
    return evaluate.build_report(
        [result],
        title=f"Chart test: {name}",
        generated_at=end,
        window_start=start,
        window_end=end,
        confidence=CONFIDENCE,
        sources=(result.evidence.source,) if result.evidence and result.evidence.source else (),
    )
