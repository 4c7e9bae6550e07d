"""The ``edgesla`` command line. Thin: parse, call the library, print, exit with meaning."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from edgesla import __version__, exitcodes
from edgesla._errors import EdgeslaError

__all__ = ["cli", "main"]

#: Each command and the module that defines it, imported only when that command runs or a
#: help page lists it: `edgesla rules` never loads the stack's server drivers, and the command
#: modules import their heavy libraries inside the commands (tests/cli/test_startup.py).
COMMANDS = {
    "dashboards": "edgesla.cli.dashboards",
    "demo": "edgesla.cli.demo",
    "exporter": "edgesla.cli.exporter",
    "loadtest": "edgesla.cli.loadtest",
    "probe": "edgesla.cli.exporter",
    "report": "edgesla.cli.report",
    "rules": "edgesla.cli.rules",
    "scenario": "edgesla.cli.scenario",
    "scrape-config": "edgesla.cli.scrape_config",
    "slo": "edgesla.cli.slo",
    "stack": "edgesla.cli.stack",
}


class _Group(click.Group):
    """Loads each command from its module on first use (``COMMANDS``); turns an EdgeslaError
    into one clear message on stderr and its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:  # one added with cli.add_command(), loaded already
            return super().get_command(ctx, cmd_name)
        command = getattr(importlib.import_module(module), cmd_name.replace("-", "_"))
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EdgeslaError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.secho("interrupted", fg="red", err=True)
            ctx.exit(130)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "Exit codes: 0 ok, 1 failure (something is down), 2 bad input or failed precondition, "
        "3 inconclusive (not enough evidence)."
    ),
)
@click.version_option(__version__, prog_name="edgesla")
def cli() -> None:
    """Observability and SLA verification for ISP carrier edge PoPs.

    \b
    Start here:
      edgesla stack up       start a miniature PoP on 127.0.0.1 (PostgreSQL x2, MongoDB-wire,
                             etcd x3, Prometheus) and write its PoP config
      edgesla stack status   is every component answering?
      edgesla stack restart pg-b   (stop | start | restart NAME: fault drills)
      edgesla probe --config .edgesla/pop.yaml      run every probe once and show the results
      edgesla exporter --config .edgesla/pop.yaml   serve /metrics for Prometheus
      edgesla loadtest --config .edgesla/pop.yaml --profile peak --duration 5m --out DIR
      edgesla scenario conflict --config .edgesla/pop.yaml   both masters write the same rows
      edgesla report --prometheus URL --fleet FLEET --month 2026-11 --out DIR   SLA report
      edgesla rules --slo examples/slo.yaml --out rules/   Prometheus rules and alerts
      edgesla slo import examples/openslo.yaml -o slo.yaml   an SLO spec from OpenSLO v1
      edgesla dashboards generate | push --grafana URL --token-file FILE   Grafana dashboards
      edgesla scrape-config --fleet examples/fleet.yaml --out DIR   file-SD scrape config
      edgesla demo           the whole job on the local stack (what `make demo` runs)
      edgesla stack down     stop exactly what `stack up` started
    """


def main() -> None:
    sys.exit(cli.main(prog_name="edgesla", standalone_mode=True) or exitcodes.OK)
