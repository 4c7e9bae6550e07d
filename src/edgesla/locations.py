"""Where in a config document a validation error is, spelled the way its author reads it."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["error_location"]


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
                parts[-1] += f" (name: {node['name']})"
        elif item in branches or str(item).startswith("function-"):
            continue
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts) or "(top level)"
