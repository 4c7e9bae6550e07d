"""November 2025 of a small fleet, as OpenMetrics for a backfilled Prometheus.

One scrape a minute (each a probe run) from 31 October to 1 December 2025, so the report can
judge the calendar month and must leave out the days around it:

* ``pop-a``: targets ``pg`` (a few failures; latency mostly 4 ms, every 10th 50 ms, every
  100th 300 ms) and ``mongo`` (never fails; 1 ms, but every 1000th exactly 200 ms: at the
  threshold, which counts as within); replication lag 50 ms with a 20-minute stall on
  15 November (the lag grows a minute per minute).
* ``pop-b``: target ``pg``; its exporter is down on 10 November 00:00-02:00 (no probe runs,
  no samples) and restarts on 20 November (every counter from 0).
* ``pop-late``: target ``pg``; its exporter starts on 10 November.
* ``pop-extra``: target ``pg``, clean: in the data but not in the test's fleet inventory.

``EXPECTED`` holds the exact November counts per PoP, target and series the report must find.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from edgesla import conventions as conv

M0 = datetime(2025, 11, 1, tzinfo=UTC)
M1 = datetime(2025, 12, 1, tzinfo=UTC)
STEP = 60
FIRST = int(M0.timestamp()) - 86400  # 31 October
LAST = int(M1.timestamp()) + 86400  # 1 December
BOUNDS = [*(f"{b:g}" for b in conv.LATENCY_BUCKETS_SECONDS), "+Inf"]
_DAY = 86400


def _at(day: int, hour: int = 0, minute: int = 0) -> int:
    """Unix seconds of November ``day`` 2025, ``hour``:``minute`` UTC."""
    return int(M0.timestamp()) + (day - 1) * _DAY + hour * 3600 + minute * 60


@dataclass(frozen=True)
class Target:
    pop: str
    name: str
    prober: str
    fails: Callable[[int], bool] = lambda t: False
    latency: Callable[[int], float] = lambda t: 0.004
    #: exporter not running in these [lo, hi) spans: no probe runs, no samples
    down: tuple[tuple[int, int], ...] = ()
    restart_at: int | None = None
    begins: int = FIRST


def _pg_latency(t: int) -> float:
    k = t // STEP
    return 0.3 if k % 100 == 0 else 0.05 if k % 10 == 0 else 0.004


def _mongo_latency(t: int) -> float:
    return 0.2 if (t // STEP) % 1000 == 3 else 0.001


TARGETS = (
    Target("pop-a", "pg", "postgres_query", lambda t: (t // STEP) % 5000 == 7, _pg_latency),
    Target("pop-a", "mongo", "mongodb_query", latency=_mongo_latency),
    Target(
        "pop-b",
        "pg",
        "postgres_query",
        lambda t: (t // STEP) % 3000 == 11,
        down=((_at(10), _at(10, 2)),),
        restart_at=_at(20),
    ),
    Target("pop-late", "pg", "postgres_query", begins=_at(10)),
    Target("pop-extra", "pg", "postgres_query"),
)
STALL = (_at(15, 12), _at(15, 12, 20))


def lag(t: int) -> float:
    lo, hi = STALL
    return float(t - lo) if lo <= t < hi else 0.05


@dataclass
class Counts:
    """Exact counts over (M0, M1] for one target (what a sample at t adds belongs to t)."""

    success: int = 0
    failure: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BOUNDS, 0))


def _runs(target: Target) -> Iterator[tuple[int, bool, float]]:
    for t in range(max(FIRST, target.begins), LAST + 1, STEP):
        if any(lo <= t < hi for lo, hi in target.down):
            continue
        yield t, target.fails(t), target.latency(t)


def openmetrics() -> tuple[str, dict[tuple[str, str], Counts]]:
    """The OpenMetrics text, and the exact November counts by (pop, target)."""
    families: dict[str, list[str]] = defaultdict(list)
    expected: dict[tuple[str, str], Counts] = {}
    lo, hi = int(M0.timestamp()), int(M1.timestamp())
    for target in TARGETS:
        labels = f'pop="{target.pop}",region="eu",target="{target.name}",prober="{target.prober}"'
        counts = {"success": 0, "failure": 0}
        buckets = dict.fromkeys(BOUNDS, 0)
        mine = expected[(target.pop, target.name)] = Counts()
        for t, failed, latency in _runs(target):
            if target.restart_at is not None and t == target.restart_at:
                counts = dict.fromkeys(counts, 0)
                buckets = dict.fromkeys(BOUNDS, 0)
            result = "failure" if failed else "success"
            counts[result] += 1
            inside = lo < t <= hi
            if inside:
                setattr(mine, result, getattr(mine, result) + 1)
            for bound in BOUNDS:
                if bound == "+Inf" or latency <= float(bound):
                    buckets[bound] += 1
                    if inside:
                        mine.buckets[bound] += 1
            for name, n in counts.items():
                families["results"].append(
                    f'{conv.PROBE_RESULTS_TOTAL}{{{labels},result="{name}"}} {n} {t}'
                )
            for bound, n in buckets.items():
                families["latency"].append(
                    f'{conv.PROBE_LATENCY_SECONDS}_bucket{{{labels},le="{bound}"}} {n} {t}'
                )
            families["up"].append(f"{conv.PROBE_UP}{{{labels}}} {0 if failed else 1} {t}")
    for origin, peer in (("pg-a", "pg-b"), ("pg-b", "pg-a")):
        name = (
            f'{conv.PG_REPLICATION_LAG_SECONDS}{{pop="pop-a",region="eu",target="pg-repl",'
            f'prober="postgres_replication",origin="{origin}",peer="{peer}"}}'
        )
        families["lag"] += [f"{name} {lag(t)} {t}" for t in range(FIRST, LAST + 1, STEP)]
    head = {
        "results": "# TYPE edgesla_probe_results counter",
        "latency": "# TYPE edgesla_probe_latency_seconds histogram",
        "up": "# TYPE edgesla_probe_up gauge",
        "lag": "# TYPE edgesla_pg_replication_lag_seconds gauge",
    }
    lines = [line for key, rows in families.items() for line in (head[key], *rows)]
    return "\n".join([*lines, "# EOF"]) + "\n", expected


FLEET = """version: 1
pops:
  - {name: pop-a, region: eu, exporter: "pop-a.example.net:9830"}
  - {name: pop-b, region: eu, exporter: "pop-b.example.net:9830"}
  - {name: pop-late, region: eu, exporter: "pop-late.example.net:9830"}
  - {name: pop-silent, region: eu, exporter: "pop-silent.example.net:9830"}
"""
