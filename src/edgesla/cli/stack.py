"""``edgesla stack up | status | down``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from edgesla import exitcodes
from edgesla.cli.options import base_port_option, json_option, layout_of, state_dir_option
from edgesla.cli.render import err_console, print_json, stack_document, stack_table
from edgesla.stack import orchestrator
from edgesla.stack.orchestrator import DEFAULT_SUBSCRIBERS

__all__ = ["stack", "stack_up"]


@click.group()
def stack() -> None:
    """Run a miniature edge PoP of real servers on 127.0.0.1.

    \b
    Components: two PostgreSQL masters (pg-a, pg-b) in bi-directional logical replication
    with last-write-wins, a MongoDB-wire server with N synthetic subscribers, a three-member
    etcd cluster, and Prometheus scraping etcd and the PoP's exporter.
    """


def stack_up(state_dir: Path, base_port: int, subscribers: int, as_json: bool) -> int:
    layout = layout_of(state_dir, base_port)
    say = err_console.print
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err_console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("seeding subscriber documents", total=subscribers, visible=False)

        def seeded(n: int) -> None:
            bar.update(task, advance=n, visible=True)

        result = orchestrator.up(layout, subscribers, say=say, seeded=seeded)
    doc = stack_document(layout.state_dir, result.statuses, result.pop_config)
    if as_json:
        print_json({**doc, "already_running": result.already_running})
    else:
        title = "stack already running" if result.already_running else "stack started"
        stack_table(result.statuses, f"{title} ({layout.state_dir})")
        click.echo(f"PoP config: {result.pop_config}")
    return exitcodes.OK if doc["up"] else exitcodes.FAILURE


@stack.command("up")
@state_dir_option
@base_port_option
@click.option(
    "--subscribers", type=click.IntRange(1, 5_000_000), default=DEFAULT_SUBSCRIBERS,
    show_default=True, help="Synthetic subscribers seeded into MongoDB and PostgreSQL.",
)  # fmt: skip
@json_option
def up_command(state_dir: Path, base_port: int, subscribers: int, as_json: bool) -> None:
    """Start the stack, wait until every component answers, write its PoP config.

    Idempotent: when the stack is already running, reports it and changes nothing.
    On any failure, everything started so far is stopped again.
    """
    raise SystemExit(stack_up(state_dir, base_port, subscribers, as_json))


@stack.command("status")
@state_dir_option
@json_option
def status_command(state_dir: Path, as_json: bool) -> None:
    """Ask every component a real query. Exit 0 when all answer, 1 otherwise."""
    layout = layout_of(state_dir)
    statuses = orchestrator.status(layout)
    if statuses is None:
        if as_json:
            print_json(stack_document(layout.state_dir, [], None))
        else:
            err_console.print(
                f"no stack recorded in {layout.state_dir}; start one with `edgesla stack up`"
            )
        raise SystemExit(exitcodes.FAILURE)
    doc = stack_document(layout.state_dir, statuses, str(layout.pop_config))
    if as_json:
        print_json(doc)
    else:
        stack_table(statuses, f"stack in {layout.state_dir}")
        click.echo(f"PoP config: {layout.pop_config}")
    raise SystemExit(exitcodes.OK if doc["up"] else exitcodes.FAILURE)


@stack.command("down")
@state_dir_option
@json_option
def down_command(state_dir: Path, as_json: bool) -> None:
    """Stop exactly the processes `stack up` started (by PID), and wait for them to exit.

    Exit 1 when a process could not be stopped; its PID is reported and the state is kept.
    """
    layout = layout_of(state_dir)
    if not as_json:
        err_console.print(f"stopping the stack in {layout.state_dir} …")
    result = orchestrator.down(layout)
    if as_json:
        print_json({
            "state_dir": str(layout.state_dir), "had_stack": result.had_stack,
            "stopped": result.stopped,
            "not_stopped": [{"name": n, "pid": p} for n, p in result.not_stopped],
        })  # fmt: skip
    elif not result.had_stack:
        click.echo(f"no stack recorded in {layout.state_dir}; nothing to stop")
    else:
        click.echo(f"stopped: {', '.join(result.stopped) or 'nothing'}")
        for name, pid in result.not_stopped:
            click.secho(f"could not stop {name} (pid {pid}); stop it by hand", fg="red", err=True)
    raise SystemExit(exitcodes.FAILURE if result.not_stopped else exitcodes.OK)
