"""A fleet's month of exporter data, as OpenMetrics for ``promtool tsdb create-blocks-from``.

Every PoP has what a real edgesla exporter sends for one PostgreSQL target and one
replication pair, scraped every ``step`` seconds:

* ``edgesla_probe_results_total{result}`` and ``edgesla_probe_up`` (3 series);
* ``edgesla_probe_latency_seconds_bucket`` at every bound of the exporter's histogram and
  ``+Inf`` (12 series): 4 ms mostly, every 10th probe 50 ms, every 100th 300 ms;
* ``edgesla_pg_replication_lag_seconds`` for both directions (2 series): 50 ms.

One probe run per scrape; a run fails when ``fails(pop, k)``. One PoP in a hundred is
*troubled*: its exporter restarts in the middle of the period (every counter from 0), misses
ten scrapes while it keeps probing (a gap), and stops for 20 minutes (nothing probed: an
unobserved span), and its replication stalls for 10 minutes (the lag grows a second a second).

Text is written in 2-hour chunks (promtool reads its whole input into memory), each backfilled
as soon as it is written while the next one is generated.
"""

from __future__ import annotations

import math
import random
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

BOUNDS = ("0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.2", "0.5", "1.0",
          "2.5", "+Inf")  # fmt: skip
CHUNK = 7200
#: probe indices (k) of a troubled PoP's events, as fractions of the period
_RESET, _GAP, _DOWN, _STALL = 0.5, 0.3, 0.7, 0.4
_GAP_SCRAPES = 10
_DOWN_SECONDS, _STALL_SECONDS = 1200, 600


_INV7 = pow(7, -1, 997)


def fails(pop: int, k: int) -> bool:
    return (k * 7 + pop * 13) % 997 == 0


def _failures_between(pop: int, lo: int, hi: int) -> int:
    """Failing indices in [lo, hi]: one every 997, at a residue fixed by the PoP."""
    if hi < lo:
        return 0
    residue = (-13 * pop * _INV7) % 997
    return (hi - residue) // 997 - (lo - 1 - residue) // 997


def _buckets_between(lo: int, hi: int) -> list[int]:
    """Cumulative bucket counts of the runs ``lo .. hi``: every 10th index 50 ms, every 100th
    300 ms, the rest 4 ms."""
    n = max(0, hi - lo + 1)

    def multiples(m: int) -> int:
        return (hi // m - (lo - 1) // m) if n else 0

    slow = multiples(100)
    medium = multiples(10) - slow
    fast = n - slow - medium
    out = []
    for bound in BOUNDS:
        limit = math.inf if bound == "+Inf" else float(bound)
        out.append(
            (fast if limit >= 0.004 else 0)
            + (medium if limit >= 0.05 else 0)
            + (slow if limit >= 0.3 else 0)
        )
    return out


@dataclass(frozen=True)
class Fleet:
    pops: int
    start: int  # unix seconds: the period's start (data begins a day before)
    days: int
    step: int
    troubled: frozenset[int]

    @property
    def first(self) -> int:
        return self.start - 86400

    @property
    def last(self) -> int:
        return self.start + self.days * 86400 + 3600

    def k(self, t: int) -> int:
        return (t - self.first) // self.step

    def events(self, pop: int) -> tuple[int | None, range, range, range]:
        """(reset index, gap indices, down indices, stall times) of a PoP (empty if clean)."""
        if pop not in self.troubled:
            return None, range(0), range(0), range(0)
        span = self.days * 86400
        at = [
            self.start + round(span * f / self.step) * self.step
            for f in (_RESET, _GAP, _DOWN, _STALL)
        ]
        reset = self.k(at[0])
        gap = range(self.k(at[1]), self.k(at[1]) + _GAP_SCRAPES)
        down = range(self.k(at[2]), self.k(at[2] + _DOWN_SECONDS))
        stall = range(at[3], at[3] + _STALL_SECONDS)
        return reset, gap, down, stall

    def counters(self, pop: int, k: int) -> tuple[int, int, list[int]]:
        """(runs, failures, cumulative latency buckets) the exporter's counters hold at
        scrape ``k``: since its last restart, without the runs it missed while down."""
        reset, _, down, _ = self.events(pop)
        base = reset if reset is not None and k >= reset else 0
        lo, hi = max(base, down.start), min(k, down.stop - 1) if len(down) else -1
        runs = k - base + 1 - max(0, hi - lo + 1)
        failures = _failures_between(pop, base, k) - _failures_between(pop, lo, hi)
        buckets = _buckets_between(base, k)
        if hi >= lo:
            buckets = [a - b for a, b in zip(buckets, _buckets_between(lo, hi), strict=True)]
        return runs, failures, buckets

    def expected(self, pop: int) -> tuple[int, int]:
        """(good, total) probe runs of a clean PoP in the period (start, end]."""
        end = self.start + self.days * 86400
        runs_end, fail_end, _ = self.counters(pop, self.k(end))
        runs_start, fail_start, _ = self.counters(pop, self.k(self.start))
        total, bad = runs_end - runs_start, fail_end - fail_start
        return total - bad, total

    def chunk(self, lo: int, hi: int) -> Iterator[str]:
        """The OpenMetrics lines of the scrapes at times [lo, hi)."""
        times = range(max(lo, self.first), min(hi, self.last), self.step)
        families = (
            ("edgesla_probe_results", "counter"), ("edgesla_probe_up", "gauge"),
            ("edgesla_probe_latency_seconds", "histogram"),
            ("edgesla_pg_replication_lag_seconds", "gauge"),
        )  # fmt: skip
        for index, (family, kind) in enumerate(families):
            yield f"# TYPE {family} {kind}\n"
            for pop in range(self.pops):
                yield self._series(index, pop, times)
        yield "# EOF\n"

    def _series(self, index: int, pop: int, times: range) -> str:
        labels = f'pop="pop-{pop:04d}",region="region-{pop % 10}"'
        probe = f'{labels},target="pg",prober="postgres_query"'
        _, gap, down, stall = self.events(pop)
        lines: list[str] = []
        for t in times:
            k = self.k(t)
            if k in gap or k in down:
                continue
            if index == 1:
                lines.append(f"edgesla_probe_up{{{probe}}} {0 if fails(pop, k) else 1} {t}\n")
            elif index == 3:
                lag = float(t - stall.start) if t in stall else 0.05
                pair = f'{labels},target="pg-repl",prober="postgres_replication"'
                name = "edgesla_pg_replication_lag_seconds"
                lines.append(f'{name}{{{pair},origin="pg-a",peer="pg-b"}} {lag} {t}\n')
                lines.append(f'{name}{{{pair},origin="pg-b",peer="pg-a"}} 0.05 {t}\n')
            else:
                runs, failures, buckets = self.counters(pop, k)
                if index == 0:
                    name = "edgesla_probe_results_total"
                    lines.append(f'{name}{{{probe},result="success"}} {runs - failures} {t}\n')
                    lines.append(f'{name}{{{probe},result="failure"}} {failures} {t}\n')
                else:
                    name = "edgesla_probe_latency_seconds_bucket"
                    lines += [
                        f'{name}{{{probe},le="{b}"}} {n} {t}\n'
                        for b, n in zip(BOUNDS, buckets, strict=True)
                    ]
        return "".join(lines)


def troubled_pops(pops: int, seed: int = 5) -> frozenset[int]:
    return frozenset(random.Random(seed).sample(range(pops), max(1, pops // 100)))


def backfill(fleet: Fleet, tsdb: Path, work: Path, progress: bool = True) -> dict[str, float]:
    """Write and backfill every 2-hour chunk; the next one is generated while promtool
    ingests the last. Returns samples written and seconds taken."""
    t0 = time.perf_counter()
    starts = range(fleet.first - fleet.first % CHUNK, fleet.last, CHUNK)
    samples = 0

    def write(index: int, lo: int) -> tuple[Path, int]:
        path = work / f"chunk-{index % 2}.om"
        lines = 0
        with path.open("w", encoding="utf-8") as out:
            for text in fleet.chunk(lo, lo + CHUNK):
                out.write(text)
                lines += text.count("\n")
        return path, lines

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(write, 0, starts[0])
        for index in range(len(starts)):
            path, lines = pending.result()
            if index + 1 < len(starts):
                pending = pool.submit(write, index + 1, starts[index + 1])
            subprocess.run(
                [
                    "promtool",
                    "tsdb",
                    "create-blocks-from",
                    "openmetrics",
                    "-q",
                    str(path),
                    str(tsdb),
                ],
                check=True,
                capture_output=True,
            )
            samples += lines
            if progress and index % max(1, len(starts) // 25) == 0:
                print(
                    f"  backfill {index + 1}/{len(starts)} 2-hour blocks, {samples:,} samples, "
                    f"{time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
    return {"samples": samples, "seconds": round(time.perf_counter() - t0, 1)}
