"""``edgesla scenario``: the seed's own warnings, exercised on a PoP (``conflict``, ``sync``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import click

from edgesla import exitcodes, wording
from edgesla.atomic import write_atomic
from edgesla.cli.options import positive_seconds
from edgesla.cli.render import err_console
from edgesla.config import PostgresConvergenceTarget, PostgresReplicationTarget, load_config
from edgesla.durations import format_duration

__all__ = ["scenario"]


@click.group()
def scenario() -> None:
    """Scenarios from the seed's design: what last-write-wins must survive.

    \b
      edgesla scenario conflict --config .edgesla/pop.yaml --out results/conflict-1
      edgesla scenario sync --config .edgesla/pop.yaml --share 0.2 --out results/sync-1
    """


def _write_results(path: Path, document: Mapping[str, object]) -> None:
    """A scenario's results file, written atomically into its (created) directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(document, indent=2, default=str) + "\n")
    err_console.print(f"results: {path}")


@scenario.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PoP config: its postgres_replication target names the masters.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True, max=1000),
    default=20.0,
    show_default=True,
    help="Conflicting pairs per second (one write per master).",
)
@click.option("--duration", default="20s", show_default=True, help="Writing time, e.g. 20s, 2m.")
@click.option(
    "--rows",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Hot rows the pairs cycle over (the last subscribers of the table).",
)
@click.option(
    "--settle",
    default="10s",
    show_default=True,
    help="Longest wait for the masters to agree after the last write.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Which master wins each pair.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write conflict.json (counts, verdict, the rows named) here.",
)
def conflict(
    config_path: Path,
    rate: float,
    duration: str,
    rows: int,
    settle: str,
    seed: int,
    out_dir: Path | None,
) -> None:
    """The same subscriber rows updated at once on both PostgreSQL masters, then checked.

    Each pair writes one hot row on every master at the same instant, with modification
    timestamps that make the newest write known (1 µs apart; the winner picked at random
    from --seed). After the run, both masters must hold identical rows (the hot rows
    exactly; whole tables by key-range checksums when the config has a
    postgres_convergence target) and every hot row its newest write.

    \b
    Every planned write is counted: applied, refused by last-write-wins (a newer version
    was already there), or failed. Exit 0 PASS, 1 FAIL (rows diverged or went stale; named),
    3 INCONCLUSIVE (a write failed, or the comparison could not run), 2 bad input.
    It writes to the PoP's own rows (the email of the hot subscribers): a drill for a test
    PoP or the local stack, not for production.
    """
    from edgesla.loadtests.conflict import ConflictSettings, Master, run_conflict
    from edgesla.loadtests.conflict_check import check_conflict, counts
    from edgesla.loadtests.plan import endpoints_of

    config = load_config(config_path)
    settings = ConflictSettings(
        rate,
        positive_seconds("--duration", duration),
        rows,
        positive_seconds("--settle", settle),
        seed,
    )
    dsns = endpoints_of(config, str(config_path)).pg_dsns  # ConfigError without the masters
    replication = next(t for t in config.targets if isinstance(t, PostgresReplicationTarget))
    masters = [Master(n.name, dsn) for n, dsn in zip(replication.nodes, dsns, strict=True)]
    convergence = next(
        (t for t in config.targets if isinstance(t, PostgresConvergenceTarget)), None
    )
    pairs = round(settings.rate * settings.duration)
    err_console.print(
        f"conflict: {pairs:,} pairs over {settings.rows} hot rows on "
        f"{', '.join(m.name for m in masters)} for {format_duration(settings.duration)}"
    )
    run = run_conflict(masters, settings)
    tally = counts(run)
    err_console.print(
        f"writes: {tally['planned']:,} planned = {tally['applied']:,} applied + "
        f"{tally['refused']:,} refused by last-write-wins + {tally['failed']:,} failed"
    )
    verdict = check_conflict(masters, run, settings.settle, convergence)
    document = {
        "scenario": "conflict",
        "settings": vars(settings),
        "masters": [m.name for m in masters],
        "writes": dict(tally),
        "verdict": verdict.verdict,
        "converged_after_seconds": verdict.converged_after,
        "divergent_rows": verdict.divergent,
        "stale_rows": verdict.stale,
        "divergent_rows_by_table": verdict.tables,
        "reasons": verdict.reasons,
    }
    for row, states in list(verdict.divergent.items())[:5]:
        err_console.print(f"  divergent {row}: " + "; ".join(f"{n}={s}" for n, s in states.items()))
    for row, seen in list(verdict.stale.items())[:5]:
        err_console.print(f"  stale {row}: holds {seen['holds']}, newest {seen['newest']}")
    for reason in verdict.reasons:
        err_console.print(f"  {reason}")
    if out_dir is not None:
        _write_results(out_dir / "conflict.json", document)
    after = verdict.converged_after
    agreed = (
        f"masters agreed {after:.1f}s after the last write"
        if after is not None
        else (f"masters did not agree within {format_duration(settings.settle)}")
    )
    err_console.print(
        f"{verdict.verdict}: {agreed}; {len(verdict.divergent)} divergent, "
        f"{len(verdict.stale)} stale hot rows"
    )
    raise SystemExit(exitcodes.of_verdict(verdict.verdict))


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else wording.measured_seconds(seconds)


@scenario.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PoP config: its mongodb_query target is the subscriber store, its "
    "postgres_replication target the masters (the first gets the master rows).",
)
@click.option(
    "--share",
    type=click.FloatRange(min=0, min_open=True, max=1),
    default=0.2,
    show_default=True,
    help="Share of the subscribers the sync rewrites (0 < share <= 1).",
)
@click.option(
    "--sync-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=2000.0,
    show_default=True,
    help="Documents (and master rows) per second.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Documents per bulk upsert.",
)
@click.option(
    "--lookup-rate",
    type=click.FloatRange(min=0, min_open=True, max=5000),
    default=50.0,
    show_default=True,
    help="Customer-care lookups per second, before, during and after the sync.",
)
@click.option("--before", default="5s", show_default=True, help="Lookups before the sync.")
@click.option("--after", default="5s", show_default=True, help="Lookups after the sync.")
@click.option(
    "--threshold",
    default="200ms",
    show_default=True,
    help="FAIL when the lookups' p99 during the sync is over this.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write sync.json (windows, counts, verdict) here.",
)
def sync(
    config_path: Path,
    share: float,
    sync_rate: float,
    batch: int,
    lookup_rate: float,
    before: str,
    after: str,
    threshold: str,
    out_dir: Path | None,
) -> None:
    """A core→edge batch sync while customer-care lookups go on.

    Lookups (one subscriber document by its id, open model: latency from each lookup's
    intended start) run for --before, through the sync (--share of the subscribers upserted
    into MongoDB in batches, their master rows rewritten on the first PostgreSQL master, at
    --sync-rate) and for --after. The answer is the lookups' latency before, during and
    after the sync, side by side.

    \b
    Exit 0 PASS, 1 FAIL (p99 during the sync over --threshold), 3 INCONCLUSIVE (a lookup
    failed or never started, a batch failed, a window empty), 2 bad input. It writes to the
    PoP's data (a coreSync field on the documents): a drill for a test PoP or the local
    stack, not for production.
    """
    from edgesla.loadtests.plan import endpoints_of
    from edgesla.loadtests.sync import SyncSettings, run_sync
    from edgesla.loadtests.sync_summary import WINDOWS, summarize

    config = load_config(config_path)
    limit = positive_seconds("--threshold", threshold)
    settings = SyncSettings(
        share,
        sync_rate,
        batch,
        lookup_rate,
        positive_seconds("--before", before),
        positive_seconds("--after", after),
    )
    ends = endpoints_of(config, str(config_path))  # ConfigError without the stores
    err_console.print(
        f"sync: {share:.0%} of the subscribers at {sync_rate:g} documents/s, "
        f"{lookup_rate:g} lookups/s from {format_duration(settings.before)} before to "
        f"{format_duration(settings.after)} after"
    )
    run = run_sync(
        ends.mongo_uri, ends.mongo_database, ends.mongo_collection, ends.pg_dsns[0], settings
    )
    summary = summarize(run, lookup_rate, limit)
    took = run.sync.end - run.sync.start
    err_console.print(
        f"synced {run.synced_documents:,} of {run.planned_documents:,} documents and "
        f"{run.synced_rows:,} master rows in {took:.1f}s "
        f"({run.synced_documents / took if took else 0:,.0f} documents/s); "
        f"lookups {len(run.lookups):,} of {summary.planned_lookups:,} planned"
    )
    for name in WINDOWS:
        w = summary.windows[name]
        err_console.print(
            f"  {name:<6} {w.lookups:>6,} lookups, {w.failed} failed: p50 {_ms(w.p50)}, "
            f"p99 {_ms(w.p99)}, max {_ms(w.max)}"
        )
    for reason in summary.reasons:
        err_console.print(f"  {reason}")
    if out_dir is not None:
        document = {
            "scenario": "sync", "settings": vars(settings), "threshold_seconds": limit,
            "verdict": summary.verdict,
            "sync_window_seconds": [run.sync.start, run.sync.end],
            "documents": {"planned": run.planned_documents, "synced": run.synced_documents},
            "master_rows": run.synced_rows,
            "lookups": {"planned": summary.planned_lookups, "made": len(run.lookups),
                        "not_started": summary.not_started},
            "windows": {n: vars(w) for n, w in summary.windows.items()},
            "reasons": summary.reasons,
        }  # fmt: skip
        _write_results(out_dir / "sync.json", document)
    err_console.print(
        f"{summary.verdict}: p99 during the sync {_ms(summary.windows['during'].p99)} "
        f"(threshold {wording.seconds(limit)}; before {_ms(summary.windows['before'].p99)}, "
        f"after {_ms(summary.windows['after'].p99)})"
    )
    raise SystemExit(exitcodes.of_verdict(summary.verdict))
