"""Terminal and JSON views of the stack's state."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stack (drivers for every server) is not loaded for every command
    from rich.console import Console

    from edgesla.stack.components import ComponentStatus

__all__ = [
    "LazyConsole",
    "err_console",
    "out_console",
    "print_json",
    "stack_document",
    "stack_table",
]


class LazyConsole:
    """A rich ``Console`` made on first use: a command that prints nothing through it (and
    ``edgesla --help``) does not load rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        """The console itself, for rich objects that take one (``Progress(console=...)``)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.rich.print(*objects, **options)


#: soft_wrap: lines are never broken by rich (at 80 columns when piped, mid-word for a long
#: path or a name); the terminal wraps them, a log or a CI page keeps each message whole
err_console = LazyConsole(stderr=True, highlight=False, soft_wrap=True)
out_console = LazyConsole(highlight=False)


def stack_document(
    state_dir: Path, statuses: list[ComponentStatus], pop_config: str | None
) -> dict[str, object]:
    return {
        "state_dir": str(state_dir),
        "pop_config": pop_config,
        "up": bool(statuses) and all(s.up for s in statuses),
        "components": [asdict(s) for s in statuses],
    }


def print_json(document: object) -> None:
    print(json.dumps(document, indent=2))


def stack_table(statuses: list[ComponentStatus], title: str) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("component", "kind", "address", "pid", "state", "detail"):
        table.add_column(column, no_wrap=column != "detail")
    for s in statuses:
        state = "[green]up[/]" if s.up else "[bold red]DOWN[/]"
        pid = "-" if s.pid is None else str(s.pid)
        table.add_row(s.name, s.kind, s.address, pid, state, s.detail)
    out_console.print(table)
