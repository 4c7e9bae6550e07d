"""``edgesla demo``: the main job on the local stack (what `make demo` runs)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import click

from edgesla import exitcodes
from edgesla.cli.exporter import probe_once
from edgesla.cli.options import base_port_option, layout_of, state_dir_option
from edgesla.cli.render import err_console
from edgesla.cli.report import make_report
from edgesla.cli.stack import stack_up
from edgesla.stack.layout import DEFAULT_SUBSCRIBERS

__all__ = ["demo"]


@click.command()
@state_dir_option
@base_port_option
@click.option(
    "--subscribers",
    type=click.IntRange(1),
    default=DEFAULT_SUBSCRIBERS,
    show_default=True,
    help="Synthetic subscribers to seed.",
)
@click.option(
    "--duration", default="60s", show_default=True, help="Length of the demo's peak load test."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Where the run goes; default: STATE_DIR/demo-<time>.",
)
def demo(
    state_dir: Path, base_port: int, subscribers: int, duration: str, out_dir: Path | None
) -> None:
    """The main job on the local stack, end to end, ending with an SLA report on disk.

    \b
    1. stack up: a miniature PoP of real servers, with its exporter scraped by Prometheus
    2. every probe once (the table)
    3. a short `peak` load test against MongoDB, both PostgreSQL masters and the self-care
       service (open model, exact histograms)
    4. the SLA report over that run (Prometheus + load-test results): verdict, HTML, PDF
    Exit 0 when the job ran (whatever the verdict, which the report explains); stop the
    stack afterwards with `edgesla stack down` (or `make stack-down`).
    """
    layout = layout_of(state_dir, base_port)
    code = stack_up(state_dir, base_port, subscribers, as_json=False)
    if code != exitcodes.OK:
        raise SystemExit(code)
    probe_once(layout.pop_config)
    run_dir = out_dir or layout.state_dir / f"demo-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    loadtest_dir = run_dir / "loadtest"
    err_console.print(f"load test: profile peak for {duration} …")
    lt = subprocess.run(
        [
            sys.executable,
            "-m",
            "edgesla",
            "loadtest",
            "--config",
            str(layout.pop_config),
            "--profile",
            "peak",
            "--duration",
            duration,
            "--out",
            str(loadtest_dir),
        ],
        check=False,
    )
    if not (loadtest_dir / "meta.json").exists():
        err_console.print(f"[red]the load test produced no results (exit {lt.returncode})[/]")
        raise SystemExit(exitcodes.FAILURE)
    _, paths, verdict = make_report(
        _demo_spec(),
        f"http://127.0.0.1:{layout.prometheus_port}",
        (loadtest_dir,),
        run_dir / "report",
    )
    click.echo(f"\nverdict: {verdict}")
    click.echo(f"report:  {paths['html']}")
    if "pdf" in paths:
        click.echo(f"pdf:     {paths['pdf']}")
    click.echo(f"stop the stack with: edgesla stack down --state-dir {layout.state_dir}")


def _demo_spec() -> Path:
    """examples/slo-demo.yaml beside the package, or the copy shipped inside it."""
    shipped = resources.files("edgesla.report").joinpath("slo-demo.yaml")
    return Path(str(shipped))
