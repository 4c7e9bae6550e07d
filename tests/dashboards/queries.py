"""Every PromQL expression of a dashboard, and how Grafana would substitute its variables."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["expressions", "label_values_selector", "substitute"]


def expressions(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(panel title, refId, expr) of every query target, top to bottom."""
    found = []
    for panel in doc.get("panels", []):
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append(
                    (str(panel.get("title", "")), str(target["refId"]), str(target["expr"]))
                )
    return found


def label_values_selector(query: str) -> tuple[str, str]:
    """``label_values(selector, label)`` of a query variable -> (selector, label)."""
    match = re.fullmatch(r"label_values\((.*), (\w+)\)", query)
    assert match, f"not a label_values() query: {query!r}"
    return match.group(1), match.group(2)


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace ``$name`` / ``${name}`` as Grafana does, longest names first."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace(f"${{{name}}}", values[name]).replace(f"${name}", values[name])
    assert "$" not in expr, f"unsubstituted variable in {expr!r}"
    return expr
