"""A real Prometheus serving a TSDB backfilled with promtool from generated OpenMetrics text.

Three PoPs, 15 s scrapes from T0 - 10 min to T0 + 4 h (the report window is T0 .. T0 + 4 h):

* ``pop-a``: clean; failures at window samples ``FAILS_A``; latency buckets 0.01/0.2/+Inf
  (every 10th probe 0.1 s, every 50th 0.5 s, the rest 5 ms); two replication-lag pairs.
* ``pop-b``: no scrape in (T0 + 1 h, T0 + 1.5 h) (the exporter kept probing), a counter
  reset (exporter restart) at T0 + 2 h, failures at ``FAILS_B``.
* ``pop-c``: clean, no failures.
* ``pop-d``: two targets, ``pg`` failing at ``FAILS_D_PG`` and ``mongo`` at ``FAILS_D_MONGO``
  (overlapping): the PoP is down while either is, 7 samples (105 s), not the worst target's 5.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from edgesla.report.inputs import rollups
from tests.backfill import served_backfill
from tests.ports import port

T0 = datetime(2024, 1, 1, tzinfo=UTC)
START = int(T0.timestamp())
STEP = 15
WINDOW_SAMPLES = 4 * 3600 // STEP  # 960 probe runs in (T0, T0 + 4 h]
BEFORE = 40  # samples before T0 (10 min)
FAILS_A = frozenset({10, 11, 12, 500, 900})
FAILS_B = frozenset({100, 300, 700})  # 300 lies in the gap: counted by the counter anyway
FAILS_D_PG = frozenset({100, 101, 102, 103})
FAILS_D_MONGO = frozenset({102, 103, 104, 105, 106})
GAP_B = (START + 3600, START + 5400)
RESET_B = START + 7200
PORTS = range(port(470), port(480))


def _latency(k: int) -> float:
    return 0.5 if k % 50 == 0 else 0.1 if k % 10 == 0 else 0.005


def _series(
    pop: str,
    fails: frozenset[int],
    gap: tuple[int, int] | None,
    reset: int | None,
    target: str = "pg",
) -> dict[str, list[str]]:
    """OpenMetrics lines per family for one PoP (k = index of the probe run; 0 at T0)."""
    out: dict[str, list[str]] = {"results": [], "up": [], "latency": []}
    counts = {"success": 0, "failure": 0}
    buckets = {"0.01": 0, "0.2": 0, "+Inf": 0}
    lines: dict[str, list[str]] = {key: [] for key in [*counts, *(f"le{b}" for b in buckets)]}
    ups = []
    for k in range(-BEFORE, WINDOW_SAMPLES + 1):
        t = START + k * STEP
        if reset is not None and t == reset + STEP:
            counts = dict.fromkeys(counts, 0)
            buckets = dict.fromkeys(buckets, 0)
        failed = k in fails
        counts["failure" if failed else "success"] += 1
        for bound in buckets:
            if bound == "+Inf" or _latency(k) <= float(bound):
                buckets[bound] += 1
        if gap is not None and gap[0] < t < gap[1]:
            continue
        for result, n in counts.items():
            lines[result].append(f"{n} {t}")
        for bound, n in buckets.items():
            lines[f"le{bound}"].append(f"{n} {t}")
        ups.append(f"{0 if failed else 1} {t}")
    labels = f'pop="{pop}",region="eu",target="{target}",prober="postgres_query"'
    for result in counts:
        name = f'edgesla_probe_results_total{{{labels},result="{result}"}}'
        out["results"] += [f"{name} {line}" for line in lines[result]]
    for bound in buckets:
        name = f'edgesla_probe_latency_seconds_bucket{{{labels},le="{bound}"}}'
        out["latency"] += [f"{name} {line}" for line in lines[f"le{bound}"]]
    out["up"] += [f"edgesla_probe_up{{{labels}}} {line}" for line in ups]
    return out


def openmetrics() -> str:
    families: dict[str, list[str]] = {"results": [], "up": [], "latency": [], "lag": []}
    for pop, fails, gap, reset, target in (
        ("pop-a", FAILS_A, None, None, "pg"),
        ("pop-b", FAILS_B, GAP_B, RESET_B, "pg"),
        ("pop-c", frozenset[int](), None, None, "pg"),
        ("pop-d", FAILS_D_PG, None, None, "pg"),
        ("pop-d", FAILS_D_MONGO, None, None, "mongo"),
    ):
        for family, lines in _series(pop, fails, gap, reset, target).items():
            families[family] += lines
    for origin, peer, lag in (("pg-a", "pg-b", 0.25), ("pg-b", "pg-a", 0.5)):
        name = f'edgesla_pg_replication_lag_seconds{{pop="pop-a",origin="{origin}",peer="{peer}"}}'
        families["lag"] += [
            f"{name} {lag * (2 if k == 480 else 1)} {START + k * STEP}"
            for k in range(0, WINDOW_SAMPLES + 1)
        ]
    head = {
        "results": "# TYPE edgesla_probe_results counter",
        "up": "# TYPE edgesla_probe_up gauge",
        "latency": "# TYPE edgesla_probe_latency_seconds histogram",
        "lag": "# TYPE edgesla_pg_replication_lag_seconds gauge",
    }
    text = [line for family, lines in families.items() for line in (head[family], *lines)]
    return "\n".join([*text, "# EOF"]) + "\n"


@pytest.fixture(scope="session")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus on the backfilled TSDB; stopped (and its files removed) afterwards."""
    with served_backfill(tmp_path_factory.mktemp("prom"), openmetrics(), PORTS) as url:
        yield url


@pytest.fixture(scope="session")
def rollup_prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same data plus the report roll-ups, backfilled by ``promtool tsdb
    create-blocks-from rules`` (evaluated by a real Prometheus over the raw data, as a
    Prometheus with the rules loaded would have recorded them while scraping)."""
    span = (START - BEFORE * STEP, START + WINDOW_SAMPLES * STEP)
    with served_backfill(
        tmp_path_factory.mktemp("prom-rollups"),
        openmetrics(),
        PORTS,
        rules=[rollups.rule_group()],
        rules_span=span,
    ) as url:
        yield url
