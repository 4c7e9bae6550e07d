"""Exact latency recording: precision, coordinated omission, thresholds, exact merges."""

from __future__ import annotations

import json
import random

import pytest

from edgesla.loadtests.histograms import (
    Bucket,
    LatencyDistribution,
    OperationResult,
    Recorder,
    Totals,
)


def _summaries(result: OperationResult) -> tuple[object, ...]:
    return (
        result.response.summary(),
        result.service.summary(),
        result.successes,
        dict(result.failures),
        result.late_starts,
    )


def _synthetic(seed: int, n: int) -> list[tuple[str, float, float, float, bool, str | None, bool]]:
    """Requests with a log-normal service time, some late starts and some failures."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        op = rng.choice(["care_lookup", "session_start", "billing_write"])
        intended = i * 0.001
        wait = rng.expovariate(1 / 0.05) if rng.random() < 0.05 else 0.0
        service = rng.lognormvariate(-5, 1.2)
        ok = rng.random() > 0.01
        cause = None if ok else rng.choice(["timeout", "refused", "http_503"])
        rows.append((op, intended, intended + wait, intended + wait + service, ok, cause, wait > 0))
    return rows


def test_three_significant_digits_keep_locusts_rounded_values_apart() -> None:
    recorder = Recorder()
    for ms in (195.0, 199.9, 200.1, 205.0):
        recorder.record("care_lookup", 10.0, 10.0, 10.0 + ms / 1000, ok=True)
    buckets = recorder.results()["care_lookup"].response.buckets
    assert len(buckets) == 4  # Locust stores all four as 200 ms
    for bucket, ms in zip(buckets, (195.0, 199.9, 200.1, 205.0), strict=True):
        assert bucket.low_us <= ms * 1000 <= bucket.high_us
        assert (bucket.high_us - bucket.low_us + 1) / (ms * 1000) < 0.001


def test_relative_bucket_width_is_below_a_thousandth_across_the_range() -> None:
    recorder = Recorder()
    values_us = [1, 999, 2047, 2048, 10_000, 199_999, 1_000_000, 60_000_000, 3_599_000_000]
    for us in values_us:
        recorder.record("op", 0.0, 0.0, us / 1e6, ok=True)
    for bucket in recorder.results()["op"].service.buckets:
        width = bucket.high_us - bucket.low_us + 1
        assert width == 1 or width / bucket.low_us < 1 / 1000


def test_response_time_includes_the_wait_for_a_late_start() -> None:
    recorder = Recorder()
    # intended at 1.000, could only start at 1.300, took 5 ms
    recorder.record("care_lookup", 1.000, 1.300, 1.305, ok=True, late=True)
    result = recorder.results()["care_lookup"]
    assert result.late_starts == 1
    assert result.service.summary().max == pytest.approx(0.005, rel=1e-3)
    assert result.response.summary().max == pytest.approx(0.305, rel=1e-3)


def test_response_time_is_never_below_service_time() -> None:
    recorder = Recorder()
    for row in _synthetic(1, 3000):
        op, intended, actual, end, ok, cause, late = row
        recorder.record(op, intended, actual, end, ok, cause, late)
    # a request started early is charged from its actual start
    recorder.record("care_lookup", 2.0, 1.9, 1.95, ok=True)
    for result in recorder.results().values():
        for q in (0.5, 0.9, 0.99, 0.999, 1.0):
            response, service = result.response.quantile(q), result.service.quantile(q)
            assert response is not None
            assert service is not None
            assert response >= service


def test_failures_are_counted_by_cause_and_stay_out_of_the_histograms() -> None:
    recorder = Recorder()
    recorder.record("billing_write", 0, 0, 0.002, ok=True)
    recorder.record("billing_write", 0, 0, 5.0, ok=False, cause="timeout")
    recorder.record("billing_write", 0, 0, 0.001, ok=False, cause="Duplicate Key!")
    recorder.record("billing_write", 0, 0, 0.001, ok=False)
    result = recorder.results()["billing_write"]
    assert dict(result.failures) == {"duplicate_key": 1, "error": 1, "timeout": 1}
    assert (result.successes, result.failed, result.requests) == (1, 3, 4)
    assert result.error_ratio == 0.75
    assert result.response.count == result.service.count == 1


def test_contradictions_are_programming_errors() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match="a successful request has no failure cause"):
        recorder.record("op", 0, 0, 1, ok=True, cause="timeout")
    with pytest.raises(ValueError, match="is before the actual start"):
        recorder.record("op", 0, 2, 1, ok=True)
    with pytest.raises(ValueError, match="operation name 'Care Lookup'"):
        recorder.record("Care Lookup", 0, 0, 1, ok=True)


def test_percentiles_are_nearest_rank_upper_bucket_edges() -> None:
    recorder = Recorder()
    for ms in range(1, 1001):  # 1..1000 ms, one each
        recorder.record("op", 0.0, 0.0, ms / 1000, ok=True)
    summary = recorder.results()["op"].service.summary()
    assert summary.count == 1000
    for got, want in ((summary.p50, 0.5), (summary.p90, 0.9), (summary.p99, 0.99)):
        assert got is not None
        assert want <= got < want * 1.001
    assert summary.p99_9 is not None
    assert 0.999 <= summary.p99_9 < 0.999 * 1.001
    assert summary.max is not None
    assert 1.0 <= summary.max < 1.001


def test_empty_distribution_has_no_percentiles_and_no_share() -> None:
    empty = LatencyDistribution(())
    assert empty.summary().p99 is None
    assert empty.over(0.2).share_at_most is None


def test_share_over_threshold_is_exact_on_synthetic_data() -> None:
    recorder = Recorder()  # exact counters at 10 ms and 200 ms
    # times are whole microseconds: 200.0006 ms counts as 200.001 ms, 200.0004 ms as 200 ms
    slow = [0.2000006, 0.200001, 0.200063, 0.2001, 0.25, 3.0]
    at_or_below = [0.19995, 0.1999996, 0.2, 0.2000004, 0.010, 0.001]
    for seconds in slow + at_or_below:
        recorder.record("care_lookup", 0.0, 0.0, seconds, ok=True)
    result = recorder.results()["care_lookup"]
    over = result.over(0.200)
    assert (over.at_least, over.at_most, over.total) == (len(slow), len(slow), 12)
    assert over.exact
    assert over.share_at_least == 0.5
    # the histogram alone can only bracket it: 199.936 .. 200.063 ms is one bucket
    bracket = result.response.over(0.200)
    assert bracket.at_least < len(slow) < bracket.at_most
    # a threshold without a counter is bracketed by its bucket, and the truth lies inside
    other = result.over(0.19994)  # 199.94 ms: inside the bucket 199.936 .. 200.063 ms
    assert other.at_least <= 10 <= other.at_most
    assert (other.at_least, other.at_most) == (3, 10)  # 7 values share that bucket


def test_a_threshold_on_a_bucket_edge_is_exact_from_the_histogram() -> None:
    dist = LatencyDistribution((Bucket(9992, 9999, 3), Bucket(10_000, 10_007, 2)))
    over = dist.over(0.009999)  # 9999 us is the top of a bucket
    assert (over.at_least, over.at_most) == (2, 2)


def test_encode_is_json_safe_and_merge_restores_it() -> None:
    recorder = Recorder()
    for row in _synthetic(2, 500):
        op, intended, actual, end, ok, cause, late = row
        recorder.record(op, intended, actual, end, ok, cause, late)
    copy = Recorder()
    copy.merge(json.loads(json.dumps(recorder.encode())))
    assert copy.results() == recorder.results()


def test_merge_of_n_recorders_equals_one_recorder() -> None:
    rows = _synthetic(3, 20_000)
    whole = Recorder()
    parts = [Recorder() for _ in range(4)]
    for i, (op, intended, actual, end, ok, cause, late) in enumerate(rows):
        whole.record(op, intended, actual, end, ok, cause, late)
        parts[i % 4].record(op, intended, actual, end, ok, cause, late)
    merged = Recorder()
    for part in parts:
        merged.merge(json.loads(json.dumps(part.encode())))
    got, expected = merged.results(), whole.results()  # each call rebuilds every histogram
    assert got == expected  # every bucket, counter and cause
    for name, result in expected.items():
        assert _summaries(got[name]) == _summaries(result)
        for kind in ("response", "service"):
            for threshold in (0.010, 0.200, 0.05):
                assert got[name].over(threshold, kind) == result.over(threshold, kind)


def test_drain_then_merge_equals_no_drain() -> None:
    rows = _synthetic(4, 6000)
    whole, worker, master = Recorder(), Recorder(), Recorder()
    for i, (op, intended, actual, end, ok, cause, late) in enumerate(rows):
        whole.record(op, intended, actual, end, ok, cause, late)
        worker.record(op, intended, actual, end, ok, cause, late)
        if i % 1000 == 999:  # a worker's periodic report to the master
            master.merge(worker.drain())
    master.merge(worker.drain())
    assert worker.results() == {}
    assert master.results() == whole.results()


def test_zero_traffic_operation_is_kept() -> None:
    recorder = Recorder()
    recorder.add_operation("device_provision")
    result = recorder.results()["device_provision"]
    assert (result.requests, result.error_ratio, result.response.summary().p99) == (0, None, None)


def test_merge_rejects_malformed_input_and_changes_nothing() -> None:
    source = Recorder()
    source.record("op", 0, 0, 0.1, ok=True)
    good = source.encode()["operations"]["op"]
    target = Recorder()
    target.record("op", 0, 0, 0.1, ok=True)
    before = target.results()
    bad_hdr = {**good, "service_time": {**good["service_time"], "hdr": "not base64!"}}
    cases = {
        "operation 'op': service_time.hdr: not a valid encoded HdrHistogram": bad_hdr,
        "operation 'op': successes: expected a count": {**good, "successes": -1},
        "operation 'op': response_time.hdr: holds 1 values, but successes is 2": {
            **good,
            "successes": 2,
        },
        "operation 'op': unknown keys \\['extra'\\], missing keys \\[\\]": {**good, "extra": 1},
    }
    for message, op in cases.items():
        with pytest.raises(ValueError, match=message):
            target.merge({"operations": {"ok_op": good, "op": op}})
    with pytest.raises(ValueError, match="differ from this recorder's"):
        Recorder(thresholds=(0.05,)).merge(source.encode())
    assert target.results() == before


def test_totals_are_the_results_counters_without_reading_a_histogram() -> None:
    recorder = Recorder()
    recorder.record("care_lookup", 0.0, 0.0, 0.004, ok=True)
    recorder.record("care_lookup", 0.0, 0.1, 0.25, ok=True, late=True)
    recorder.record("billing_write", 0.0, 0.0, 0.5, ok=False, cause="timeout")
    results = recorder.results().values()
    assert recorder.totals() == Totals(
        requests=sum(r.requests for r in results),
        failures=sum(r.failed for r in results),
        late_starts=sum(r.late_starts for r in results),
    )
    assert recorder.totals() == Totals(3, 1, 1)
    assert Totals.of(recorder.encode()["operations"].values()) == recorder.totals()
