"""The stack's state file (``stack.json``): what was started, where, under which PID.

Written atomically after every process start (and every ``stack stop | start | restart``),
so a crash mid-way still leaves a record of every process that might be running, and
``edgesla stack down`` can stop them. The recorded PID is a hint, not the truth: a component
restarted by hand runs under another PID, and ``edgesla.stack.locate`` finds it by port and
data dir.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgesla._errors import StackError
from edgesla.atomic import write_atomic
from edgesla.stack.processes import ProcessRecord

__all__ = ["Component", "StackState", "read_state", "replace_component", "write_state"]

STATE_VERSION = 1


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    address: str
    url: str
    process: ProcessRecord
    log: str
    #: Stopped on purpose (``edgesla stack stop``): `status` says so, `up` is not "stale".
    stopped: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["pid"] = data["process"]["pid"]
        return data


@dataclass
class StackState:
    base_port: int
    pop_config: str
    run_as: str | None
    components: list[Component] = field(default_factory=list)
    ready: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "base_port": self.base_port,
            "pop_config": self.pop_config,
            "run_as": self.run_as,
            "ready": self.ready,
            "components": [c.as_json() for c in self.components],
        }


def replace_component(state: StackState, updated: Component) -> None:
    """Put ``updated`` in the place of the component of the same name."""
    state.components = [updated if c.name == updated.name else c for c in state.components]


def write_state(path: Path, state: StackState) -> None:
    """Replace ``path`` atomically: readers see the old or the new file, never half of one."""
    write_atomic(path, json.dumps(state.as_json(), indent=2) + "\n")


def read_state(path: Path) -> StackState | None:
    """The recorded stack, or None when there is no state file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StackError(
            f"{path}: unreadable stack state ({exc}); if no stack is running from this "
            "directory, delete the file and run `edgesla stack up` again"
        ) from exc
    try:
        components = [
            Component(
                name=c["name"],
                kind=c["kind"],
                address=c["address"],
                url=c["url"],
                process=ProcessRecord(**c["process"]),
                log=c["log"],
                stopped=bool(c.get("stopped", False)),  # absent in files of older versions
            )
            for c in data["components"]
        ]
        return StackState(
            base_port=data["base_port"],
            pop_config=data["pop_config"],
            run_as=data["run_as"],
            components=components,
            ready=data["ready"],
        )
    except (KeyError, TypeError) as exc:
        raise StackError(
            f"{path}: stack state of an unknown shape (missing {exc}); it was not written by "
            "this version of edgesla. Stop its processes by hand, delete the file, and retry."
        ) from exc
