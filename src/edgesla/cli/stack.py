"""``edgesla stack up | status | down | stop | start | restart``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgesla import exitcodes
from edgesla.cli.options import base_port_option, json_option, layout_of, state_dir_option
from edgesla.cli.render import err_console, print_json, stack_document, stack_table
from edgesla.stack.layout import DEFAULT_SUBSCRIBERS

if TYPE_CHECKING:  # the stack's server drivers load only in the commands that use them
    from edgesla.stack.control import OperationResult

__all__ = ["stack", "stack_up"]


@click.group()
def stack() -> None:
    """Run a miniature edge PoP of real servers on 127.0.0.1.

    \b
    Components: two PostgreSQL masters (pg-a, pg-b) in bi-directional logical replication
    with last-write-wins, a MongoDB-wire server with N synthetic subscribers, a three-member
    etcd cluster, Prometheus scraping etcd and the PoP's exporter, and Alertmanager
    receiving its alerts (EDGESLA_ALERT_WEBHOOK=URL: pages to URL/page, tickets to URL/ticket);
    with `up --with-victoria-metrics`, VictoriaMetrics, which Prometheus remote-writes to.

    \b
    Fault drills: `stack stop NAME`, `stack start NAME`, `stack restart NAME` act on one
    component (pg-a, pg-b, etcd1..etcd3, mongo, alertmanager, prometheus, selfcare,
    exporter; victoriametrics with `stack up --with-victoria-metrics`).
    """


def stack_up(
    state_dir: Path,
    base_port: int,
    subscribers: int,
    as_json: bool,
    victoria_metrics: bool = False,
) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from edgesla.stack import orchestrator

    layout = layout_of(state_dir, base_port)
    say = err_console.print
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console.rich,
        transient=True,
    ) as bar:
        task = bar.add_task("seeding subscriber documents", total=subscribers, visible=False)

        def seeded(n: int) -> None:
            bar.update(task, advance=n, visible=True)

        result = orchestrator.up(
            layout, subscribers, say=say, seeded=seeded, victoria_metrics=victoria_metrics
        )
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
    "--subscribers",
    type=click.IntRange(1, 5_000_000),
    default=DEFAULT_SUBSCRIBERS,
    show_default=True,
    help="Synthetic subscribers seeded into MongoDB and PostgreSQL.",
)
@click.option(
    "--with-victoria-metrics",
    "victoria_metrics",
    is_flag=True,
    help="Also run VictoriaMetrics (Debian victoria-metrics) on base port + 14; the stack's "
    "Prometheus remote-writes to it, and `edgesla report --prometheus URL` reads it.",
)
@json_option
def up_command(
    state_dir: Path, base_port: int, subscribers: int, victoria_metrics: bool, as_json: bool
) -> None:
    """Start the stack, wait until every component answers, write its PoP config.

    Idempotent: when the stack is already running, reports it and changes nothing.
    On any failure, everything started so far is stopped again.
    """
    raise SystemExit(stack_up(state_dir, base_port, subscribers, as_json, victoria_metrics))


@stack.command("status")
@state_dir_option
@json_option
def status_command(state_dir: Path, as_json: bool) -> None:
    """Ask every component a real query. Exit 0 when all answer, 1 otherwise.

    The process of each component is found by its port and data dir, not only by the PID
    recorded at start, so a component restarted by hand is seen as it is. A component
    stopped with `stack stop` is DOWN, "stopped (edgesla stack stop)" (`--json`: state
    "stopped").
    """
    from edgesla.stack import orchestrator

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
    """Stop every component, wait for it to exit, then remove the stack's data.

    A component is found by its port and data dir (so one restarted by hand is stopped too),
    or by its recorded PID. The data is removed only once no process runs in the data dirs.
    Exit 1 when a process could not be stopped or still runs there; the state is then kept.
    """
    from edgesla.stack import orchestrator

    layout = layout_of(state_dir)
    if not as_json:
        err_console.print(f"stopping the stack in {layout.state_dir} …")
    result = orchestrator.down(layout)
    if as_json:
        print_json(
            {
                "state_dir": str(layout.state_dir),
                "had_stack": result.had_stack,
                "stopped": result.stopped,
                "not_running": result.not_running,
                "not_stopped": [{"name": n, "pid": p} for n, p in result.not_stopped],
                "data_kept_for": [{"pid": p, "command": c} for p, c in result.kept_for],
            }
        )
    elif not result.had_stack:
        click.echo(f"no stack recorded in {layout.state_dir}; nothing to stop")
        for pid, command in result.kept_for:
            click.secho(
                f"but pid {pid} ({command}) runs in {layout.data_dir}: not started by a stack "
                "recorded here, so neither stopped nor deleted; stop it by hand",
                fg="red",
                err=True,
            )
    else:
        click.echo(f"stopped: {', '.join(result.stopped) or 'nothing'}")
        if result.not_running:
            click.echo(f"not running, nothing to stop: {', '.join(result.not_running)}")
        for name, pid in result.not_stopped:
            click.secho(f"could not stop {name} (pid {pid}); stop it by hand", fg="red", err=True)
        for pid, command in result.kept_for:
            click.secho(
                f"data kept: pid {pid} ({command}) still runs in {layout.data_dir}; stop it, "
                "then run `edgesla stack down` again",
                fg="red",
                err=True,
            )
    raise SystemExit(exitcodes.OK if result.ok else exitcodes.FAILURE)


_NAME = click.argument("name", metavar="NAME")


def _report(result: OperationResult, as_json: bool, code: int) -> None:
    if as_json:
        print_json(
            {
                "name": result.name,
                "changed": result.changed,
                "message": result.message,
                "component": asdict(result.status),
            }
        )
    else:
        click.echo(result.message)
        stack_table([result.status], "")
    raise SystemExit(code)


@stack.command("stop")
@_NAME
@state_dir_option
@json_option
def stop_command(name: str, state_dir: Path, as_json: bool) -> None:
    """Stop one component NAME and record it as stopped on purpose.

    NAME as `stack status` lists it: pg-a, pg-b, etcd1, etcd2, etcd3, mongo, alertmanager,
    prometheus, selfcare, exporter; victoriametrics in a stack up --with-victoria-metrics.

    `stack status` then shows it DOWN, "stopped (edgesla stack stop)", and exits 1 until
    `stack start NAME`. Stopping a component that does not run changes nothing. Exit 0 when
    it no longer runs.
    """
    from edgesla.stack import control

    result = control.stop(layout_of(state_dir), name)
    _report(result, as_json, exitcodes.OK)


@stack.command("start")
@_NAME
@state_dir_option
@json_option
def start_command(name: str, state_dir: Path, as_json: bool) -> None:
    """Start one component NAME again on its existing data, and wait until it answers.

    NAME as `stack status` lists it: pg-a, pg-b, etcd1, etcd2, etcd3, mongo, alertmanager,
    prometheus, selfcare, exporter; victoriametrics in a stack up --with-victoria-metrics.

    A component that already runs is left alone (the message says so). Exit 0 when it runs
    and is healthy, 1 when it runs but is not healthy yet (the detail says why) or did not
    come up.
    """
    from edgesla.stack import control

    result = control.start(layout_of(state_dir), name)
    _report(result, as_json, exitcodes.OK if result.status.up else exitcodes.FAILURE)


@stack.command("restart")
@_NAME
@state_dir_option
@json_option
def restart_command(name: str, state_dir: Path, as_json: bool) -> None:
    """Stop one component NAME (whatever process runs it now), start it again, wait for it.

    NAME as `stack status` lists it: pg-a, pg-b, etcd1, etcd2, etcd3, mongo, alertmanager,
    prometheus, selfcare, exporter; victoriametrics in a stack up --with-victoria-metrics.

    Exit 0 when it runs and is healthy again, 1 otherwise.
    """
    from edgesla.stack import control

    result = control.restart(layout_of(state_dir), name)
    _report(result, as_json, exitcodes.OK if result.status.up else exitcodes.FAILURE)
