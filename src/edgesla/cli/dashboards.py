"""``edgesla dashboards``: write the Grafana dashboards as JSON, push them into Grafana."""

from __future__ import annotations

from pathlib import Path

import click

from edgesla.cli.render import err_console

__all__ = ["dashboards"]

_DIR_HELP = "Directory of the dashboard JSON files."


@click.group()
def dashboards() -> None:
    """Grafana dashboards as code: fleet overview, PoP detail, load-test run.

    \b
    The dashboards are built in Python (grafana-foundation-sdk, Grafana 11.6 schema) from the
    metric names in edgesla.conventions, and committed as JSON under dashboards/.
    Each has a fixed uid and a "datasource" variable: pick the Prometheus that scrapes the
    edgesla exporters (and the load generator).

    \b
    Typical use:
      edgesla dashboards generate                    rewrite dashboards/*.json after a change
      edgesla dashboards push --grafana https://grafana.example.net \\
          --token-file ~/.config/edgesla/grafana-token --datasource-uid prometheus-edge
    Or provision the JSON files with Grafana's file provisioning instead of pushing.
    """


@dashboards.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dashboards"),
    show_default=True,
    help="Where <uid>.json files are written (created if missing).",
)
def generate(out_dir: Path) -> None:
    """Write every dashboard as <uid>.json into --out.

    The committed files under dashboards/ must equal this output; a test fails until you
    run this command and commit the result.
    """
    from edgesla.dashboards import generate as write

    for path in write(out_dir):
        click.echo(f"wrote {path}")


@dashboards.command()
@click.option(
    "--grafana",
    "url",
    required=True,
    metavar="URL",
    help="Grafana's base URL, e.g. https://grafana.example.net or http://127.0.0.1:3000.",
)
@click.option(
    "--token-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding a Grafana service-account token with the Editor role (kept out of "
    "the command line and shell history).",
)
@click.option(
    "--folder",
    default="edgesla",
    show_default=True,
    help="Folder the dashboards go to; created when no top-level folder has this name.",
)
@click.option(
    "--datasource-uid",
    metavar="UID",
    help="uid of the Prometheus datasource the dashboards should use (checked to exist); "
    "default: leave the choice to the dashboard's datasource picker.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dashboards"),
    show_default=True,
    help=_DIR_HELP,
)
def push(
    url: str, token_file: Path, folder: str, datasource_uid: str | None, directory: Path
) -> None:
    """Create or update the dashboards in Grafana; safe to run again.

    \b
    Idempotent: a dashboard already stored as it is here is left alone (its version does
    not change); a different one is overwritten (Grafana keeps the old version in its
    history). The folder is found by name or created.
    Exit codes: 0 pushed, 1 Grafana failed (5xx), 2 bad input: bad URL, Grafana
    unreachable, token rejected, datasource uid unknown, token file unreadable or empty.
    """
    from edgesla.dashboards.push import load_dashboards, read_token
    from edgesla.dashboards.push import push as upsert

    token = read_token(token_file)
    docs = load_dashboards(directory)
    err_console.print(f"pushing {len(docs)} dashboards from {directory} to {url} …")
    results = upsert(
        url, token, docs, folder=folder, datasource_uid=datasource_uid, progress=err_console.print
    )
    changed = sum(r.action != "unchanged" for r in results)
    click.echo(
        f"{len(results)} dashboards in folder {folder!r}: {changed} written, "
        f"{len(results) - changed} unchanged"
    )
