"""A worker runs the master's plan: the options that shape the schedule come from the master.

Locust copies the master's custom options over a worker's when it hands out users (its
"spawn" message), so a worker started with another ``--duration``, profile, rate or
``--sync-*`` would otherwise build a schedule the master never planned — every request of
it "unaccounted for". Instead the worker rebuilds its plan from the master's options when
the run starts, says on its stderr which of its own it replaced, and keeps only what is
local to its host: its PoP config and traffic file (paths on its own disk).

    group.add_argument("--pop-config", action=KeepOwn)   # remembers this process's value
    restore_own(options)                                 # after Locust's copy
    changed = differences(before, plan_options(options)) # ["--duration 5m → 20s", ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, Final

from edgesla.durations import format_duration, parse_duration
from edgesla.loadtests.timeline import LEAD_SECONDS

__all__ = ["HOST_LOCAL", "PLAN_OPTIONS", "KeepOwn", "differences", "plan_options", "restore_own"]

#: the options (argparse ``dest``) a process's schedule is derived from
PLAN_OPTIONS: Final = (
    "schedule_duration", "load_profile", "subscribers", "arrivals", "max_user_rate",
    "operations", "rate_scale", "sync_at", "sync_share", "sync_rate",
)  # fmt: skip
#: options naming files on this process's host: never taken from the master
HOST_LOCAL: Final = ("pop_config", "traffic")
#: the flags of ``edgesla loadtest`` a user gave, where they differ from Locust's
_FLAGS: Final = {"schedule_duration": "--duration", "load_profile": "--profile"}

_own: dict[str, Any] = {}


class KeepOwn(argparse.Action):
    """An ordinary ``store`` that also remembers the value this process was started with."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        _own[self.dest] = values
        setattr(namespace, self.dest, values)


def restore_own(options: Any) -> None:
    """Put back this process's own host-local options (Locust copied the master's over)."""
    for dest in HOST_LOCAL:
        if dest in _own:
            setattr(options, dest, _own[dest])


def plan_options(options: Any) -> dict[str, Any]:
    return {dest: getattr(options, dest, None) for dest in PLAN_OPTIONS}


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """``--flag OLD → NEW`` for every plan option that differs, in PLAN_OPTIONS' order."""
    return [
        f"{_FLAGS.get(dest, '--' + dest.replace('_', '-'))} "
        f"{_shown(dest, before.get(dest))} → {_shown(dest, after.get(dest))}"
        for dest in PLAN_OPTIONS
        if before.get(dest) != after.get(dest)
    ]


def _shown(dest: str, value: Any) -> str:
    if value is None:
        return "none"
    if dest == "schedule_duration":  # the run time the user gave: without the lead
        return format_duration(parse_duration(str(value)) - LEAD_SECONDS)
    return str(value)
