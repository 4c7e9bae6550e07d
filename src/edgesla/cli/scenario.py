"""``edgesla scenario``: the seed's own warnings, exercised on a PoP (``conflict``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgesla import exitcodes
from edgesla._errors import ConfigError
from edgesla.atomic import write_atomic
from edgesla.cli.render import err_console
from edgesla.config import PostgresConvergenceTarget, PostgresReplicationTarget, load_config
from edgesla.durations import format_duration, parse_duration

__all__ = ["scenario"]

_EXIT = {"PASS": exitcodes.OK, "FAIL": exitcodes.FAILURE, "INCONCLUSIVE": exitcodes.INCONCLUSIVE}


@click.group()
def scenario() -> None:
    """Scenarios from the seed's design: what last-write-wins must survive.

    \b
      edgesla scenario conflict --config .edgesla/pop.yaml --out results/conflict-1
    """


def _seconds(option: str, text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from exc
    if value <= 0:
        raise ConfigError(f"{option}: must be above 0, got {text!r}")
    return value


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
    config_path: Path, rate: float, duration: str, rows: int, settle: str, seed: int,
    out_dir: Path | None,
) -> None:  # fmt: skip
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
    settings = ConflictSettings(rate, _seconds("--duration", duration), rows,
                                _seconds("--settle", settle), seed)  # fmt: skip
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
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "conflict.json"
        write_atomic(path, json.dumps(document, indent=2, default=str) + "\n")
        err_console.print(f"results: {path}")
    after = verdict.converged_after
    agreed = f"masters agreed {after:.1f}s after the last write" if after is not None else (
        f"masters did not agree within {format_duration(settings.settle)}"
    )  # fmt: skip
    err_console.print(
        f"{verdict.verdict}: {agreed}; {len(verdict.divergent)} divergent, "
        f"{len(verdict.stale)} stale hot rows"
    )
    raise SystemExit(_EXIT[verdict.verdict])
