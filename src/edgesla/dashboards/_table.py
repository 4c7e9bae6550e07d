"""The fleet table: one row per PoP, one column per instant query, worst PoP first.

Each column is its own instant query aggregated ``by (pop, region)``; Grafana's *merge*
transformation joins them on those labels into one row per PoP, *organize* names and orders
the columns. A table of instant queries stays usable with thousands of PoPs, where one panel
per PoP would not.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import common, dashboard

from edgesla import conventions as conv
from edgesla.dashboards._panels import table_query
from edgesla.dashboards._variables import DATASOURCE

__all__ = ["Column", "fleet_table"]


@dataclass(frozen=True)
class Column:
    """One column: its header, the PromQL giving one value per (pop, region), its display."""

    header: str
    expr: str
    unit: str = "short"
    decimals: int | None = None
    #: (value, colour) steps above ``base``; the cell background takes the colour.
    steps: tuple[tuple[float, str], ...] = ()
    base: str = "green"
    #: value -> (text, colour), e.g. {"1": ("ok", "green")}.
    words: dict[str, tuple[str, str]] = field(default_factory=dict)


def _overrides(column: Column) -> list[dashboard.DynamicConfigValue]:
    properties = [dashboard.DynamicConfigValue("unit", column.unit)]
    if column.decimals is not None:
        properties.append(dashboard.DynamicConfigValue("decimals", column.decimals))
    if column.steps or column.words:
        steps: list[dict[str, object]] = [{"value": None, "color": column.base}]
        steps += [{"value": value, "color": colour} for value, colour in column.steps]
        properties += [
            dashboard.DynamicConfigValue("thresholds", {"mode": "absolute", "steps": steps}),
            dashboard.DynamicConfigValue(
                "custom.cellOptions", {"type": "color-background", "mode": "basic"}
            ),
        ]
    if column.words:
        options = {
            value: {"text": text, "color": colour, "index": i}
            for i, (value, (text, colour)) in enumerate(column.words.items())
        }
        properties.append(
            dashboard.DynamicConfigValue("mappings", [{"type": "value", "options": options}])
        )
    return properties


def fleet_table(
    title: str, description: str, columns: Sequence[Column], *, sort_by: str, link: str
) -> table.Panel:
    """The table; rows sorted ascending by column ``sort_by`` (worst first), the PoP cell
    links to ``link`` (a URL where ``${__value.raw}`` is the row's PoP)."""
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .span(24)
        .height(20)
        .filterable(True)
        .sort_by([common_builder.TableSortByFieldState().display_name(sort_by).desc(False)])
        .footer(common_builder.TableFooterOptions().show(False).enable_pagination(True))
    )
    renames: dict[str, str] = {conv.LABEL_POP: "PoP", conv.LABEL_REGION: "Region"}
    order: dict[str, int] = {conv.LABEL_POP: 0, conv.LABEL_REGION: 1}
    for i, (ref_id, column) in enumerate(zip(string.ascii_uppercase, columns, strict=False)):
        panel = panel.with_target(table_query(column.expr).ref_id(ref_id))
        renames[f"Value #{ref_id}"] = column.header
        order[f"Value #{ref_id}"] = i + 2
        panel = panel.override_by_name(column.header, _overrides(column))
    panel = panel.override_by_name(
        "PoP",
        [
            dashboard.DynamicConfigValue(
                "links", [{"title": "PoP detail: ${__value.raw}", "url": link}]
            )
        ],
    )
    return (
        panel.with_transformation(dashboard.DataTransformerConfig("merge", options={}))
        .with_transformation(
            dashboard.DataTransformerConfig(
                "organize",
                options={
                    "excludeByName": {"Time": True},
                    "indexByName": order,
                    "renameByName": renames,
                },
            )
        )
        .cell_height(common.TableCellHeight.SM)
    )
