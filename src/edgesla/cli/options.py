"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path

import click

from edgesla._errors import ConfigError
from edgesla.durations import parse_duration
from edgesla.stack.layout import DEFAULT_BASE_PORT, Layout, default_state_dir


def positive_seconds(option: str, text: str, *, allow_zero: bool = False) -> float:
    """A duration option (``90s``, ``5m``) in seconds, above 0 (or 0 with ``allow_zero``);
    ConfigError naming it."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from exc
    if seconds < 0 or (seconds == 0 and not allow_zero):
        least = "0 or more" if allow_zero else "above 0"
        raise ConfigError(f"{option}: must be {least}, got {text!r}")
    return seconds


state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_state_dir,
    show_default=".edgesla, or $EDGESLA_STATE_DIR",
    help="Directory holding the stack's data, logs, state file and PoP config.",
)
base_port_option = click.option(
    "--base-port",
    type=click.IntRange(1024, 65000),
    default=DEFAULT_BASE_PORT,
    envvar="EDGESLA_BASE_PORT",
    show_default=True,
    help="First of the 14 consecutive ports on 127.0.0.1 the stack uses (base to base+13).",
)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a machine-readable JSON document instead."
)


def layout_of(state_dir: Path, base_port: int = DEFAULT_BASE_PORT) -> Layout:
    return Layout(state_dir.absolute(), base_port)
