"""Where in a config document a validation error is, spelled the way its author reads it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from edgesla._errors import ConfigError

__all__ = ["describe_errors", "error_location", "printable", "pydantic_message", "validate_model"]

M = TypeVar("M", bound=BaseModel)


def printable(text: object) -> str:
    """``text`` fit for a one-line message: control characters escaped (``\\n``, ``\\x1b``),
    so a value from a config file cannot forge extra lines in an error or a log."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)


def error_location(
    loc: tuple[int | str, ...], data: object = None, branches: Collection[str] = ()
) -> str:
    """A pydantic location as ``targets[2] (name: pg-a).prober``.

    ``data`` (the parsed document) lets list items be named by their ``name`` key;
    ``branches`` are discriminator values pydantic puts in the location (``etcd`` in
    ``targets.2.etcd.endpoints``); they and validator wrappers (``function-after[...]``)
    are noise to the reader and are left out.
    """
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] = f"{parts[-1]}[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and "name" in node:
                parts[-1] += f" (name: {printable(node['name'])})"
        elif item in branches or str(item).startswith("function-"):
            continue
        else:
            parts.append(printable(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"


def validate_model(
    model: type[M],
    data: object,
    source: str,
    what: str,
    message: Callable[[Any], str],
    branches: Collection[str] = (),
    *,
    name_items: bool = True,
) -> M:
    """``model.model_validate(data)``, or one ConfigError listing every bad key as
    ``source: invalid <what>:`` then ``  <location>: <message(err)>`` lines.

    ``name_items`` names list items by their ``name`` key from ``data``; turn it off when
    ``data`` has defaults merged in, whose items are not the author's.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        doc = data if name_items else None
        errors = _without_echoes(exc.errors())
        lines = [f"  {error_location(e['loc'], doc, branches)}: {message(e)}" for e in errors]
        raise ConfigError(f"{source}: invalid {what}:\n" + "\n".join(lines)) from exc


def pydantic_message(err: Any) -> str:
    """pydantic's own words for one error, without its "Value error, " prefix."""
    return str(err["msg"]).removeprefix("Value error, ")


def describe_errors(exc: ValidationError, message: Callable[[Any], str] = pydantic_message) -> str:
    """Every error of ``exc`` on one line, ``key.path: <message(err)>; ...``, for a format a
    program writes (the load-test results, the histograms a worker sends).

    An object's unknown and missing keys are one entry, ``unknown keys [...], missing keys
    [...]``: such a document is usually another version of the format, and the two lists say
    which. A dict key that fails its own check is located at the key.
    """
    keys: dict[tuple[int | str, ...], tuple[list[str], list[str]]] = {}
    entries: list[tuple[tuple[int | str, ...], str | None]] = []
    for err in _without_echoes(exc.errors()):
        loc = tuple(part for part in err["loc"] if part != "[key]")
        if err["type"] in ("extra_forbidden", "missing"):
            parent = loc[:-1]
            if parent not in keys:
                keys[parent] = ([], [])
                entries.append((parent, None))
            keys[parent][err["type"] == "missing"].append(str(loc[-1]))
        else:
            entries.append((loc, message(err)))
    lines = []
    for loc, text in entries:
        if text is None:
            unknown, missing = keys[loc]
            text = f"unknown keys {sorted(unknown)}, missing keys {sorted(missing)}"
        lines.append(f"{error_location(loc)}: {text}" if loc else text)
    return "; ".join(lines)


def _without_echoes(errors: list[Any]) -> list[Any]:
    """Drop a "too short" error that only echoes errors inside it.

    pydantic counts a list's *valid* items against ``min_length``: one target with an
    unknown key also yields "targets: Tuple should have at least 1 item", which is false.
    """
    return [
        err
        for err in errors
        if err["type"] != "too_short"
        or not any(
            len(other["loc"]) > len(err["loc"]) and other["loc"][: len(err["loc"])] == err["loc"]
            for other in errors
        )
    ]
