"""``edgesla report``: the SLA report, verdict first, for managers and for CI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from edgesla.cli.render import err_console

__all__ = ["make_report", "report"]


def make_report(
    slo: Path | None,
    prometheus: str | None,
    loadtest_dirs: tuple[Path, ...],
    out_dir: Path,
    pdf: bool = True,
    *,
    fleet_path: Path | None = None,
    month: str | None = None,
    start: str | None = None,
    end: str | None = None,
    zone: str = "UTC",
    evidence: str = "fleet",
) -> tuple[int, dict[str, Path], str]:
    """Build and write the report; (exit code, written files, overall verdict)."""
    from edgesla.fleet import load_fleet
    from edgesla.loadtests.profile import OPERATIONS
    from edgesla.report.pipeline import Inputs, Request, build
    from edgesla.report.render import exit_code, write_all
    from edgesla.report.render.terminal import print_terminal
    from edgesla.slo.spec import default_spec, load_spec

    spec = load_spec(slo, OPERATIONS) if slo else default_spec()
    fleet = load_fleet(fleet_path) if fleet_path else None
    inputs = Inputs(
        spec_source=str(slo) if slo else "<built-in defaults>",
        spec_text=slo.read_text(encoding="utf-8") if slo else None,
        fleet_source=str(fleet_path or ""),
        fleet_text=fleet_path.read_text(encoding="utf-8") if fleet_path else "",
    )
    request = Request(month=month, start=start, end=end, zone=zone)
    where = f"{len(fleet.pops)} PoPs of {fleet_path}" if fleet else "the PoPs in the data"
    err_console.print(
        f"evaluating {len(spec.objectives)} objectives ({slo or 'built-in defaults'}) for {where} …"
    )
    built = build(
        spec,
        prometheus,
        loadtest_dirs,
        request=request,
        fleet=fleet,
        evidence="per-pop" if evidence == "per-pop" else "fleet",
        inputs=inputs,
        progress=lambda line: err_console.print(f"  {line} …"),
    )
    err_console.print(
        f"period: {built.period + ': ' if built.period else ''}"
        f"{_bounds(built.window_start, built.window_end)}"
    )
    err_console.print("rendering HTML, PDF (headless Chromium), JSON and JUnit XML …")
    paths = write_all(built, out_dir, pdf=pdf)
    print_terminal(built)
    return exit_code(built), paths, built.verdict


def _bounds(start: datetime, end: datetime) -> str:
    from edgesla.slo.period import utc_text

    return f"{utc_text(start)} – {utc_text(end)}"


@click.command()
@click.option(
    "--slo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SLO spec (examples/slo.yaml); default: five nines, p99 ≤ 200 ms customer "
    "care, p99 ≤ 10 ms edge queries, replication lag, over the last 30 days.",
)
@click.option("--prometheus", help="Prometheus base URL holding the exporters' metrics.")
@click.option(
    "--loadtest",
    "loadtest_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A results directory of `edgesla loadtest` (repeatable).",
)
@click.option(
    "--fleet",
    "fleet_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fleet inventory (examples/fleet.yaml): every PoP listed is judged, a silent one is "
    "INCONCLUSIVE; default: the PoPs in the data and those the spec names.",
)
@click.option(
    "--month",
    metavar="YYYY-MM",
    help="Judge this calendar month (its boundaries at midnight in --tz).",
)
@click.option(
    "--from",
    "start",
    metavar="TIME",
    help="Start of the period: ISO-8601 (2026-11-01, 2026-11-01T00:00:00Z, ...+01:00); a time "
    "without an offset is in --tz.",
)
@click.option("--to", "end", metavar="TIME", help="End of the period (default: now).")
@click.option(
    "--tz",
    "zone",
    default="UTC",
    show_default=True,
    metavar="ZONE",
    help="Time zone of --month's boundaries and of --from/--to without an offset "
    "(IANA name, e.g. Europe/Berlin).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Where report.html, report.pdf, report.json and junit.xml go.",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDF (no headless Chromium needed).")
@click.option(
    "--evidence",
    type=click.Choice(["fleet", "per-pop"]),
    default="fleet",
    show_default=True,
    help="How Prometheus is read: fleet-wide in a few queries per objective (roll-ups where "
    "recorded), or every raw sample PoP by PoP (slow: the reference the fleet path is "
    "tested against).",
)
def report(
    slo: Path | None,
    prometheus: str | None,
    loadtest_dirs: tuple[Path, ...],
    fleet_path: Path | None,
    month: str | None,
    start: str | None,
    end: str | None,
    zone: str,
    out_dir: Path,
    no_pdf: bool,
    evidence: str,
) -> None:
    """Check measurements against five nines and the latency targets, per PoP and fleet.

    \b
    The period: --month 2026-11, or --from/--to, else the spec's window (default: the
    last 30 days). Every PoP of --fleet is judged; one without data is INCONCLUSIVE.
    PASS only when the one-sided confidence bound clears the objective; FAIL when the data
    shows it broken; INCONCLUSIVE when there is too little evidence (the report says how many
    more events are needed). Missing data is never PASS.
    Exit codes: 0 all PASS, 1 any FAIL, 2 bad input, 3 INCONCLUSIVE without FAIL.

    \b
    Examples:
      edgesla report --prometheus http://prom:9090 --fleet fleet.yaml --month 2026-11 --out r/
      edgesla report --slo slo.yaml --prometheus http://prom:9090 --from 2026-11-03 \\
          --to 2026-11-10 --tz Europe/Berlin --out r/
    """
    code, paths, _ = make_report(
        slo,
        prometheus,
        loadtest_dirs,
        out_dir,
        pdf=not no_pdf,
        fleet_path=fleet_path,
        month=month,
        start=start,
        end=end,
        zone=zone,
        evidence=evidence,
    )
    for kind, path in paths.items():
        click.echo(f"{kind:6} {path}")
    raise SystemExit(code)
