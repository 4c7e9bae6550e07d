"""``edgesla scrape-config``: Prometheus scrape config + file-SD targets from the fleet file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click

from edgesla._errors import ConfigError
from edgesla.deploy import SCRAPE_CONFIG_FILE, TARGETS_DIR, ScrapeSettings, write_scrape_config
from edgesla.durations import parse_duration
from edgesla.fleet import load_fleet

__all__ = ["scrape_config"]


def _seconds(option: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from exc


@click.command("scrape-config")
@click.option(
    "--fleet",
    "fleet_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fleet inventory (examples/fleet.yaml).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory for {SCRAPE_CONFIG_FILE} and {TARGETS_DIR}/<region>.json (created).",
)
@click.option("--scrape-interval", default="15s", show_default=True)
@click.option(
    "--scrape-timeout", default="10s", show_default=True, help="Must be below the interval."
)
@click.option("--scheme", type=click.Choice(["http", "https"]), default="http", show_default=True)
@click.option(
    "--tls-ca",
    help="CA file on the Prometheus host that signed the exporters' "
    "certificates (with --scheme https).",
)
@click.option("--basic-auth-user", help="Basic-auth user of the exporters' web-config.")
@click.option(
    "--basic-auth-password-file",
    help="File on the Prometheus host holding the "
    "password; Prometheus reads it, edgesla never does.",
)
@click.option(
    "--refresh-interval",
    default="1m",
    show_default=True,
    help="Prometheus re-reads the target files at least this often.",
)
@click.option(
    "--targets-path",
    help="The targets directory as Prometheus will see it "
    "(default: the absolute path of OUT/targets).",
)
def scrape_config(
    fleet_path: Path,
    out_dir: Path,
    scrape_interval: str,
    scrape_timeout: str,
    scheme: str,
    tls_ca: str | None,
    basic_auth_user: str | None,
    basic_auth_password_file: str | None,
    refresh_interval: str,
    targets_path: str | None,
) -> None:
    """Write the Prometheus scrape config for every PoP of the fleet inventory.

    \b
    OUT/scrape-config.yml      the edgesla-exporter job (file_sd_configs), DO NOT EDIT
    OUT/targets/<region>.json  one file-SD file per region: each PoP's exporter with the
                               labels pop, region and its extra labels
    Files are replaced atomically, so a running Prometheus can watch them; region files of
    regions gone from the fleet are removed. Exit 2 on bad input.
    """
    settings = ScrapeSettings(
        scrape_interval=_seconds("--scrape-interval", scrape_interval),
        scrape_timeout=_seconds("--scrape-timeout", scrape_timeout),
        scheme=cast(Literal["http", "https"], scheme),
        tls_ca_file=tls_ca,
        basic_auth_user=basic_auth_user,
        basic_auth_password_file=basic_auth_password_file,
        refresh_interval=_seconds("--refresh-interval", refresh_interval),
        targets_path=targets_path,
    ).check()
    fleet = load_fleet(fleet_path)
    written = write_scrape_config(fleet, settings, out_dir)
    regions = len(written) - 1
    click.echo(f"{len(fleet.pops)} PoP(s) in {regions} region(s); wrote:")
    for path in written:
        click.echo(f"  {path}")
