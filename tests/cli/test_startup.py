"""`edgesla --help` and each command start without the heavy libraries: commands load from
their module on first use (``edgesla.cli.COMMANDS``), and the command modules import the stack's
drivers, rich, numpy and the HTTP clients inside the commands that need them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from edgesla.cli import COMMANDS, cli

#: Libraries (and edgesla's own heavy layers) that no help page needs.
HEAVY = (
    "rich", "numpy", "scipy", "jinja2", "psycopg", "pymongo", "requests", "niquests", "locust",
    "gevent", "prometheus_client", "opentelemetry", "cheroot", "starlette", "grafana_client",
    "edgesla.stack.components", "edgesla.stack.orchestrator", "edgesla.rules",
    "edgesla.report.pipeline", "edgesla.report.inputs.loadtest",
)  # fmt: skip


#: ``python -m edgesla ARGS``, writing the names of the modules loaded by then to a file at exit
#: (``-X importtime`` does not see modules loaded through importlib, as the commands are).
_RUN = """
import atexit, json, runpy, sys
out, *args = sys.argv[1:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["edgesla", *args]
runpy.run_module("edgesla", run_name="__main__", alter_sys=True)
"""


def imported_by(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the ``edgesla`` command in a fresh interpreter; what it printed, what it imported."""
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", _RUN, str(out), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, set(json.loads(out.read_text(encoding="utf-8")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_lists_every_command_and_loads_no_heavy_library(tmp_path: Path) -> None:
    result, modules = imported_by(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert f"\n  {name} " in result.stdout
    assert heavy(modules) == []


def test_a_command_loads_only_its_own_module(tmp_path: Path) -> None:
    result, modules = imported_by(tmp_path, "report", "--help")
    assert result.returncode == 0, result.stderr
    assert "--loadtest" in result.stdout
    loaded = {m for m in modules if m.startswith("edgesla.cli.")}
    assert loaded == {"edgesla.cli.report", "edgesla.cli.render"}
    assert heavy(modules) == []
    assert "pydantic" not in modules


def test_every_listed_command_resolves_to_itself() -> None:
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert command.name == name


def test_an_unknown_command_is_still_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["stak", "up"])
    assert result.exit_code == 2
    assert "No such command 'stak'" in result.output
