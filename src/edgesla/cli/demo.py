"""``edgesla demo``: the main job on the local stack (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import click

from edgesla import exitcodes
from edgesla.cli.exporter import probe_once
from edgesla.cli.options import base_port_option, layout_of, state_dir_option
from edgesla.cli.stack import stack_up
from edgesla.stack.orchestrator import DEFAULT_SUBSCRIBERS

__all__ = ["demo"]


@click.command()
@state_dir_option
@base_port_option
@click.option("--subscribers", type=click.IntRange(1), default=DEFAULT_SUBSCRIBERS,
              show_default=True, help="Synthetic subscribers to seed.")  # fmt: skip
def demo(state_dir: Path, base_port: int, subscribers: int) -> None:
    """Bring the local PoP stack up, show its status, and run every probe once.

    Later releases extend this to the full run: exporter, a short load test, an SLA report.
    Stop the stack afterwards with `edgesla stack down` (or `make stack-down`).
    """
    code = stack_up(state_dir, base_port, subscribers, as_json=False)
    if code == exitcodes.OK:
        pop_config = layout_of(state_dir, base_port).pop_config
        code = probe_once(pop_config)
        click.echo(
            f"next: `edgesla exporter --config {pop_config}` serves these as metrics to the "
            f"stack's Prometheus; `edgesla stack down` when you are done"
        )
    raise SystemExit(code)
