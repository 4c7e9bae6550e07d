"""The SVG charts as data: bars never over 100 %, round ticks that fit, words for bad input.

Results come from the real evaluators (``scenarios.py``). Label widths here are the
renderer's own estimate; ``test_charts_in_browser.py`` checks the same on real layout.
"""

from __future__ import annotations

import dataclasses
import math
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgesla.report import evaluate
from edgesla.report.model import AvailabilityEvidence, LagEvidence, LatencyEvidence, Report
from edgesla.report.render import _axes, svg
from edgesla.report.render import _format as fmt
from edgesla.report.render._svgkit import text_width
from edgesla.report.render.html import render_html
from tests.report.render import scenarios

_W = 460.0


def _root(drawn: str | None) -> ET.Element:
    assert drawn is not None
    return ET.fromstring(drawn)  # noqa: S314 - our own output, not untrusted input


def _chart(name: str, tmp_path: Path) -> ET.Element:
    result, period = scenarios.SCENARIOS[name](tmp_path)
    return _root(svg.chart(result, period))


def _texts(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("text"))


def _words(root: ET.Element) -> str:
    return " ".join(t.text or "" for t in _texts(root))


def _box(text: ET.Element) -> tuple[float, float, float, float]:
    """Estimated (left, top, right, bottom) of a text, as the renderer estimated it."""
    size = float(text.get("font-size", "11"))
    width = text_width(text.text or "", size, bold=text.get("font-weight") == "bold")
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor", "start")]
    return left, y - 0.93 * size, left + width, y + 0.24 * size


def _x_ticks(root: ET.Element) -> list[ET.Element]:
    return [
        t for t in _texts(root) if t.get("class") == "ch-tick" and t.get("text-anchor") == "middle"
    ]


def _assert_labels_fit(root: ET.Element) -> None:
    boxes = [(t.text, _box(t)) for t in _texts(root)]
    for label, (left, _, right, _) in boxes:
        assert left >= 0, f"{label!r} leaves the chart on the left ({left:.1f})"
        assert right <= _W, f"{label!r} leaves the chart on the right ({right:.1f})"
    for i, (a, (l1, t1, r1, b1)) in enumerate(boxes):
        for b, (l2, t2, r2, b2) in boxes[i + 1 :]:
            overlap = min(r1, r2) - max(l1, l2) > 0.5 and min(b1, b2) - max(t1, t2) > 0.5
            assert not overlap, f"{a!r} overlaps {b!r}"


@pytest.mark.parametrize("name", sorted(scenarios.SCENARIOS))
def test_no_bar_over_100_percent_and_at_most_12_ticks(name: str, tmp_path: Path) -> None:
    root = _chart(name, tmp_path)
    plot = next((r for r in root.iter("rect") if r.get("class") == "ch-plot"), None)
    bars = [r for r in root.iter("rect") if r.get("class") == "ch-bar"]
    if plot is not None:
        top, height = float(plot.get("y", "0")), float(plot.get("height", "0"))
        y_top = float(plot.get("data-y-top", "nan"))
        assert 0 < y_top <= (100 if name.startswith("latency") else math.inf)
        for bar in bars:
            assert 0 < float(bar.get("data-share", "nan")) <= 1
            assert float(bar.get("y", "0")) >= top - 0.01  # inside the plot, under its top
            assert float(bar.get("height", "0")) <= height + 0.01
    assert len(_x_ticks(root)) <= _axes.MAX_TICKS
    _assert_labels_fit(root)
    assert "<" not in _words(root)  # one threshold convention: "≤" and "within", never "<"


@pytest.mark.parametrize(
    "name", ["latency-1", "latency-12", "latency-1e6", "latency-1e6-hdr", "latency-hdr"]
)
def test_latency_bars_hold_every_judged_request(name: str, tmp_path: Path) -> None:
    result, period = scenarios.SCENARIOS[name](tmp_path)
    evidence = result.evidence
    assert isinstance(evidence, LatencyEvidence)
    root = _root(svg.chart(result, period))
    bars = [r for r in root.iter("rect") if r.get("class") == "ch-bar"]
    assert sum(int(b.get("data-count", "0")) for b in bars) == result.total
    slower = sum(int(b.get("data-count", "0")) for b in bars if b.get("fill") == "#dc2626")
    # drawn as within: the buckets whose bound is <= the threshold; a bucket that straddles
    # it (an HdrHistogram bucket around 10 ms) is drawn as slower, never as within
    within_for_sure = max(
        (c for b, c in evidence.buckets if b <= evidence.threshold_seconds), default=0
    )
    assert slower == result.total - within_for_sure >= result.total - result.good
    shares = _words(root)
    within = fmt.share_text(result.good, result.total, digits=fmt.decimals_for(result.objective))
    assert f"{within} within ≤ {fmt.seconds_text(evidence.threshold_seconds)}" in shares


def test_prometheus_buckets_at_the_threshold_split_exactly(tmp_path: Path) -> None:
    result, _ = scenarios.latency_million(tmp_path)
    root = _root(svg.chart(result))
    bars = [r for r in root.iter("rect") if r.get("class") == "ch-bar"]
    slower = sum(int(b.get("data-count", "0")) for b in bars if b.get("fill") == "#dc2626")
    assert slower == result.total - result.good == 424_743
    words = _words(root)
    assert "1,000,000 probes: 575,257 within ≤ 200 ms, 424,743 slower" in words
    assert "> 2.5 s" in words  # the +Inf bucket, beside the axis
    assert "one bar per bucket" in words


def test_hundreds_of_hdr_buckets_become_few_bars(tmp_path: Path) -> None:
    result, _ = scenarios.latency_hdr(tmp_path)
    assert isinstance(result.evidence, LatencyEvidence)
    assert len(result.evidence.buckets) > 500
    root = _root(svg.chart(result))
    bars = [r for r in root.iter("rect") if r.get("class") == "ch-bar"]
    assert 10 <= len(bars) <= 48
    assert all(float(b.get("width", "0")) >= 1.5 for b in bars)
    assert f"{len(result.evidence.buckets):,} histogram buckets in {len(bars)} bars" in _words(root)


def test_a_log_uniform_million_is_flat_on_the_log_axis(tmp_path: Path) -> None:
    """10^6 requests spread evenly over four decades, 10 bins a decade: 2.5 % in each bin."""
    result, _ = scenarios.latency_million_hdr(tmp_path)
    root = _root(svg.chart(result))
    shares = [
        float(b.get("data-share", "0")) for b in root.iter("rect") if b.get("class") == "ch-bar"
    ]
    inner = shares[1:-2]  # the first and the last bins hold the axis ends
    assert len(inner) >= 35
    assert all(abs(share - 0.025) < 0.0015 for share in inner), inner


def test_a_threshold_that_is_no_duration_is_said_not_drawn() -> None:
    evidence = LatencyEvidence("lat", "p", 0.0, 0, 3, ((0.001, 2), (0.002, 3)))
    root = _root(svg.latency_chart(evidence, evaluate.latency("x", evidence, 99.0, 0.95)))
    assert "the threshold (0 s) is not a positive duration" in " ".join(_words(root).split())


def test_twelve_requests_state_the_judged_shares(tmp_path: Path) -> None:
    result, _ = scenarios.latency_12(tmp_path)
    words = _words(_root(svg.chart(result)))
    assert "12 requests: 11 within ≤ 200 ms, 1 slower" in words
    assert "91.66 % within ≤ 200 ms" in words  # floored
    assert "8.34 % slower" in words  # rounded up: a bad share is never understated


_ROUND = re.compile(r"^(1|2|5)0* (µs|ms|s)$")


@pytest.mark.parametrize(
    ("lo", "hi", "n"),
    [
        (0.001, 0.003, 1),
        (0.0005, 0.002, 12),
        (1e-6, 3600.0, 400),
        (0.001, 10.0, 3000),
        (0.0001, 0.0004, 200),
        (0.3, 0.31, 50),
        (2.0, 1800.0, 80),
    ],
)
def test_latency_labels_fit_at_any_data_size(lo: float, hi: float, n: int) -> None:
    bounds = [lo * (hi / lo) ** (i / max(n - 1, 1)) for i in range(n)]
    threshold = 0.2
    buckets = tuple((b, 7 * (i + 1)) for i, b in enumerate(bounds))
    within = max((c for b, c in buckets if b <= threshold), default=0)
    evidence = LatencyEvidence("lat", "p", threshold, 7 * n - within, 7 * n, buckets)
    result = evaluate.latency("x", evidence, 99.0, 0.95)
    root = _root(svg.latency_chart(evidence, result))
    ticks = _x_ticks(root)
    assert 2 <= len(ticks) <= _axes.MAX_TICKS
    assert all(_ROUND.match(t.text or "") for t in ticks), [t.text for t in ticks]
    _assert_labels_fit(root)


_PERIODS = [timedelta(seconds=20), timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1),
            timedelta(hours=6), timedelta(days=1), timedelta(days=2), timedelta(days=7),
            timedelta(days=31), timedelta(days=92), timedelta(days=366)]  # fmt: skip


@pytest.mark.parametrize("length", _PERIODS, ids=[str(p) for p in _PERIODS])
def test_time_labels_fit_for_any_period(length: timedelta) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=7, minutes=13, seconds=11)
    end = start + length
    points = tuple((start + length * i / 50, float(min(i // 10, 4))) for i in range(51))
    evidence = AvailabilityEvidence("probe_success", "p", 10_000, 10_004, start, end, points)
    result = evaluate.availability("x", evidence, 0.999, 0.95)
    root = _root(svg.budget_burn_chart(evidence, result))
    ticks = _x_ticks(root)
    assert 2 <= len(ticks) <= _axes.MAX_TICKS, [t.text for t in ticks]
    _assert_labels_fit(root)
    assert f"period {fmt.period_text(start, end)}" in _words(root)
    assert "UTC" in _words(root)


def test_a_calendar_month_is_labelled_weekly(tmp_path: Path) -> None:
    root = _chart("burn-31d", tmp_path)
    assert [t.text for t in _x_ticks(root)] == ["1 Jan", "8 Jan", "15 Jan", "22 Jan", "29 Jan"]
    words = _words(root)
    assert "period 2024-01-01 00:00 → 2024-02-01 00:00 UTC (31 d)" in words
    assert "6 bad events of 1.8 allowed: 336 % of the error budget" in words


def test_a_minute_is_labelled_in_seconds(tmp_path: Path) -> None:
    root = _chart("burn-1min", tmp_path)
    labels = [t.text for t in _x_ticks(root)]
    assert labels[:2] == ["12:00:00", "12:00:10"]
    assert "1 bad event of 0.00004 allowed: 25,000 times the error budget" in _words(root)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("latency-mixed", "the cumulative count falls from 40 at ≤ 25 ms to 31 at ≤ 50 ms"),
        ("latency-mismatch", "the buckets hold 60 probes, the verdict counted 12"),
    ],
)
def test_inconsistent_buckets_are_said_not_drawn(name: str, why: str, tmp_path: Path) -> None:
    root = _chart(name, tmp_path)
    assert not [r for r in root.iter("rect") if r.get("class") == "ch-bar"]
    words = _words(root)
    assert "The latency distribution is not drawn" in " ".join(words.split())
    assert why in " ".join(words.split())
    assert "12 probes: 12 within" in words  # the verdict's own counts stay


def test_detail_is_not_read_off_inconsistent_buckets(tmp_path: Path) -> None:
    html = render_html(scenarios.report_of("latency-mixed", tmp_path))
    assert "histogram bucket bound" not in html
    assert "histogram bucket bound" in render_html(scenarios.report_of("latency-12", tmp_path))


def test_fleet_lag_with_one_pops_samples_is_said_not_drawn(report: Report) -> None:
    """A fleet lag result that carries pop-fra1's 43,200 samples beside 86,400 judged ones
    (made here: the roll-up itself carries no evidence): its chart says so, and no "worst
    lag" is read off them."""
    fra = next(r for r in report.objectives if r.name == "Replication lag" and r.pop == "pop-fra1")
    objectives = tuple(
        dataclasses.replace(r, evidence=fra.evidence)
        if (r.name, r.pop) == ("Replication lag", "fleet")
        else r
        for r in report.objectives
    )
    html = render_html(dataclasses.replace(report, objectives=objectives))
    card = html[html.index("Replication lag @ fleet") :]
    card = " ".join(re.sub(r"<[^>]+>", " ", card[: card.index("</section>")]).split())
    assert "the evidence has 43,200 samples, the verdict counted 86,400" in card
    assert "worst lag" not in card


def test_no_requests_says_so(tmp_path: Path) -> None:
    root = _chart("latency-empty", tmp_path)
    assert _words(root).strip() == "No requests in the period."


def test_budget_series_that_falls_or_disagrees_is_said_not_drawn() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=1)
    falls = ((start, 0.0), (start + timedelta(hours=3), 4.0), (start + timedelta(hours=5), 2.0))
    for points, why in (
        (falls, "falls from 4 to 2 at 2024-01-01 05:00 UTC"),
        (((start, 0.0), (end, 9.0)), "the series ends at 9 bad events, the verdict counted 2"),
    ):
        evidence = AvailabilityEvidence("probe_success", "p", 5758, 5760, start, end, points)
        result = evaluate.availability("x", evidence, 0.999, 0.95)
        root = _root(svg.budget_burn_chart(evidence, result))
        assert root.find(".//polyline") is None
        assert why in " ".join(_words(root).split())


def test_lag_stall_is_shaded_and_unknown_lag_shown(tmp_path: Path) -> None:
    result, _ = scenarios.lag_stall(tmp_path)
    root = _root(svg.chart(result, scenarios.DAY))
    classes = [r.get("class") for r in root.iter("rect")]
    assert classes.count("ch-over") == 1
    assert classes.count("ch-unknown") == 1
    words = _words(root)
    assert "Over 1 s for 25 min 45 s (103 of 5,760 samples), worst 24 min 45 s" in words
    assert "lag unknown (counted as over)" in words
    assert "threshold: within ≤ 1 s" in words


def test_lag_samples_not_the_judged_ones_are_said_not_drawn(tmp_path: Path) -> None:
    result, period = scenarios.lag_minute(tmp_path)
    assert isinstance(result.evidence, LagEvidence)
    other = LagEvidence("pg_replication_lag", "p", result.evidence.samples[:30], 1.0)
    root = _root(svg.lag_chart(other, result, period))
    assert root.find(".//polyline") is None
    assert "the evidence has 30 samples, the verdict counted 60" in " ".join(_words(root).split())


def test_share_text_never_shows_zero_or_all_unless_it_is() -> None:
    assert fmt.share_text(1, 1_000_000, up=True) == "0.0001 %"
    assert fmt.share_text(2_488, 1_000_000, up=True) == "0.25 %"
    assert fmt.share_text(999_999, 1_000_000) == "99.99 %"  # floored at 2 digits
    assert fmt.share_text(999_999, 1_000_000, digits=4) == "99.9999 %"
    assert fmt.share_text(999_999, 1_000_000, up=True) == "99.9999 %"
    assert (fmt.share_text(0, 12), fmt.share_text(12, 12), fmt.share_text(0, 0)) == (
        "0 %",
        "100 %",
        "n/a",
    )


def test_period_text_shows_seconds_only_when_there_are_some() -> None:
    start = datetime(2024, 1, 15, 12, tzinfo=UTC)
    assert fmt.period_text(start, start + timedelta(minutes=1)) == (
        "2024-01-15 12:00 → 12:01 UTC (1 min)"
    )
    assert fmt.period_text(start, start + timedelta(seconds=20)) == (
        "2024-01-15 12:00:00 → 12:00:20 UTC (20 s)"
    )
    assert fmt.period_text(start, start + timedelta(days=31)) == (
        "2024-01-15 12:00 → 2024-02-15 12:00 UTC (31 d)"
    )
