"""``edgesla report``: the SLA report, verdict first, for managers and for CI."""

from __future__ import annotations

from pathlib import Path

import click

from edgesla.cli.render import err_console

__all__ = ["make_report", "report"]


def make_report(
    slo: Path | None, prometheus: str | None, loadtest_dirs: tuple[Path, ...], out_dir: Path,
    pdf: bool = True,
) -> tuple[int, dict[str, Path], str]:  # fmt: skip
    """Build and write the report; (exit code, written files, overall verdict)."""
    from edgesla.report.pipeline import build
    from edgesla.report.render import exit_code, write_all
    from edgesla.report.render.terminal import print_terminal
    from edgesla.report.spec import default_spec, load_spec

    spec = load_spec(slo) if slo else default_spec()
    err_console.print(f"evaluating {len(spec.objectives)} objectives "
                      f"({slo or 'built-in defaults'}) …")  # fmt: skip
    built = build(spec, prometheus, loadtest_dirs)
    err_console.print("rendering HTML, PDF (headless Chromium), JSON and JUnit XML …")
    paths = write_all(built, out_dir, pdf=pdf)
    print_terminal(built)
    return exit_code(built), paths, built.verdict


@click.command()
@click.option(
    "--slo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SLO spec (examples/slo.yaml); default: five nines, p99 < 200 ms customer "
    "care, p99 < 10 ms edge queries, replication lag, over 30 days.",
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
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Where report.html, report.pdf, report.json and junit.xml go.",
)
@click.option("--no-pdf", is_flag=True, help="Skip the PDF (no headless Chromium needed).")
def report(
    slo: Path | None, prometheus: str | None, loadtest_dirs: tuple[Path, ...], out_dir: Path,
    no_pdf: bool,
) -> None:  # fmt: skip
    """Check measurements against five nines and the latency targets, per PoP and fleet.

    \b
    PASS only when the one-sided confidence bound clears the objective; FAIL when the data
    shows it broken; INCONCLUSIVE when there is too little evidence (the report says how many
    more events are needed). Missing data is never PASS.
    Exit codes: 0 all PASS, 1 any FAIL, 2 bad input, 3 INCONCLUSIVE without FAIL.
    """
    code, paths, _ = make_report(slo, prometheus, loadtest_dirs, out_dir, pdf=not no_pdf)
    for kind, path in paths.items():
        click.echo(f"{kind:6} {path}")
    raise SystemExit(code)
