"""Report roll-ups: recording rules that let a fleet report skip 30 days of raw samples.

``fleet.availability_fleet`` takes its exact counts from each counter's value at the window's
end and start (two instant queries), but must also prove the counts clean: no counter reset,
no scrape gap. Over raw samples that is a scan of every sample of the window (``resets``,
``count_over_time``), which grows with the scrape rate: about 530 s for 2,000 PoPs x 30 days
at 15 s. These rules record the same facts per PoP every 5 minutes as the data arrives; the
report then scans 8,640 points a PoP whatever the scrape interval (``scan``).

What each rule answers (``conventions.ROLLUP_*``):

* resets: counter resets in the last 6 min (windows overlap by 1 min, so a reset between two
  evaluations is never missed; scrape intervals up to 1 min);
* fewest samples of any target in 5 min (a gap), and how many targets had any sample;
* samples with ``up == 0`` of the PoP's worst target in each 5 min: summed over the window this
  is an upper bound of the worst target's downtime (the worst target may change between
  slices), never an underestimate;
* failures summed per PoP: the budget-burn chart only, never a verdict.

The last partial slice before the window's end is checked over raw samples (10 minutes:
cheap). A PoP whose roll-ups do not cover the window (rules loaded later, evaluations missed)
goes to the exact per-PoP path, like a PoP with a reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgesla import conventions as conv
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs._common import range_ms

__all__ = ["GROUP_NAME", "Scan", "raw_scan", "rollup_scan", "rule_group"]

GROUP_NAME = "edgesla-report-rollups"
_STEP = conv.ROLLUP_INTERVAL_SECONDS
_RESULTS, _UP = conv.PROBE_RESULTS_TOTAL, conv.PROBE_UP
#: Raw samples checked before the end, past the last roll-up slice (two slices: cheap).
_TAIL = 2 * _STEP
_BY_POP = f"by ({conv.LABEL_POP}, {conv.LABEL_REGION})"


def rule_group() -> dict[str, Any]:
    """The Prometheus rule group (``groups:`` item) that records the roll-ups."""
    rules = [
        (conv.ROLLUP_RESETS, f"sum {_BY_POP} (resets({_RESULTS}[6m]))"),
        (conv.ROLLUP_MIN_SAMPLES, f"min {_BY_POP} (count_over_time({_UP}[5m]))"),
        (conv.ROLLUP_TARGETS, f"count {_BY_POP} (count_over_time({_UP}[5m]))"),
        (
            conv.ROLLUP_DOWN_SAMPLES,
            f"max {_BY_POP} (count_over_time({_UP}[5m]) - sum_over_time({_UP}[5m]))",
        ),
        (
            conv.ROLLUP_FAILURES,
            f'sum {_BY_POP} ({_RESULTS}{{{conv.LABEL_RESULT}!="success"}})',
        ),
    ]
    return {
        "name": GROUP_NAME,
        "interval": f"{_STEP // 60}m",
        "rules": [{"record": record, "expr": expr} for record, expr in rules],
    }


@dataclass
class Scan:
    """What the window's samples say per PoP, beyond the counters' end values."""

    #: PoPs whose counts cannot be taken from end - start (reset, gap, no cover)
    suspect: set[str] = field(default_factory=set)
    #: seconds with up == 0 of the worst target (raw: exact; roll-ups: an upper bound)
    downtime: dict[str, float] = field(default_factory=dict)
    queries: int = 0
    source: str = "raw samples"


def _pop(labels: dict[str, str]) -> str:
    return labels.get(conv.LABEL_POP, "")


def raw_scan(
    client: PrometheusClient,
    start: float,
    end: float,
    scrape_interval: float,
    lookback: float,
    targets: Sequence[str] | None,
) -> Scan:
    """Every raw sample of the window: exact, and as slow as the window is long."""
    scan = Scan(queries=3)
    window = range_ms(end - start)
    keep = _keep(targets)
    resets = client.vector(f"resets({_RESULTS}[{range_ms(end - start + lookback)}])", end)
    seen = client.vector(f"count_over_time({_UP}[{window}])", end)
    ups = {_key(labels): v for labels, v in client.vector(f"sum_over_time({_UP}[{window}])", end)}
    expected = int((end - start) // scrape_interval)
    scan.suspect |= {_pop(labels) for labels, n in resets if n > 0 and keep(labels)}
    for labels, n in seen:
        if not keep(labels):
            continue
        if n < expected - 1:
            scan.suspect.add(_pop(labels))
        zeros = (n - ups.get(_key(labels), n)) * scrape_interval
        scan.downtime[_pop(labels)] = max(scan.downtime.get(_pop(labels), 0.0), zeros)
    return scan


def rollup_scan(
    client: PrometheusClient,
    start: float,
    end: float,
    scrape_interval: float,
    lookback: float,
    targets: Sequence[str] | None,
) -> Scan | None:
    """The roll-ups over the window, or None when Prometheus has none (rules not loaded).

    Only for the whole PoP: with ``targets`` given, the roll-ups (per PoP) do not apply.
    """
    if targets is not None:
        return None
    window = range_ms(end - start)
    covered = client.vector(f"count_over_time({conv.ROLLUP_MIN_SAMPLES}[{window}])", end)
    if not covered:
        return None
    scan = Scan(queries=8, source="report roll-ups (recording rules) and the last 10 min")
    slices = int((end - start) // _STEP)
    scan.suspect |= {_pop(labels) for labels, n in covered if n < slices - 1}

    def per_pop(expr: str, at: float = end) -> dict[str, float]:
        return {_pop(labels): value for labels, value in client.vector(expr, at)}

    resets = per_pop(f"sum_over_time({conv.ROLLUP_RESETS}[{window}])")
    fewest = per_pop(f"min_over_time({conv.ROLLUP_MIN_SAMPLES}[{window}])")
    least_targets = per_pop(f"min_over_time({conv.ROLLUP_TARGETS}[{window}])")
    targets_now = per_pop(f"count {_BY_POP} ({_UP})")
    down = per_pop(f"sum_over_time({conv.ROLLUP_DOWN_SAMPLES}[{window}])")
    tail = _tail(client, end, scrape_interval, lookback)
    per_slice = _STEP / scrape_interval
    for pop in set(resets) | set(fewest) | set(targets_now) | tail:
        if (
            resets.get(pop, 0) > 0
            or fewest.get(pop, 0) < per_slice - 1
            or least_targets.get(pop, 0) < targets_now.get(pop, 0)
            or pop in tail
        ):
            scan.suspect.add(pop)
    scan.downtime = {pop: n * scrape_interval for pop, n in down.items()}
    return scan


def _tail(
    client: PrometheusClient, end: float, scrape_interval: float, lookback: float
) -> set[str]:
    """PoPs with a reset or a gap in the raw samples of the last ``_TAIL`` seconds."""
    tail = range_ms(_TAIL + lookback)
    resets = client.vector(f"sum {_BY_POP} (resets({_RESULTS}[{tail}]))", end)
    fewest = client.vector(f"min {_BY_POP} (count_over_time({_UP}[{range_ms(_TAIL)}]))", end)
    expected = _TAIL / scrape_interval
    bad: set[str] = {_pop(labels) for labels, n in resets if n > 0}
    return bad | {_pop(labels) for labels, n in fewest if n < expected - 1}


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _keep(targets: Sequence[str] | None) -> Any:
    def keep(labels: dict[str, str]) -> bool:
        return targets is None or labels.get(conv.LABEL_TARGET) in targets

    return keep
