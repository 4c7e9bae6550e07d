"""Panel builders the three dashboards share: queries, time series, stats, state timelines.

Each helper returns an SDK builder, so a dashboard can still add what is particular to it.
Every panel queries the datasource of the ``datasource`` template variable.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import TypeVar

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard as builder
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import common, dashboard
from grafana_foundation_sdk.models import prometheus as prometheus_model

from edgesla import conventions as conv
from edgesla.dashboards._variables import DATASOURCE

__all__ = [
    "Item",
    "Query",
    "assemble",
    "latency_thresholds",
    "mapping",
    "series",
    "stat_panel",
    "state_timeline",
    "table_query",
    "thresholds",
    "timeseries_panel",
]

Query = prometheus.Dataquery
#: What a dashboard is made of, top to bottom: panels, and rows that start a new section.
Item = Builder[dashboard.Panel] | builder.Row


def assemble(dash: builder.Dashboard, items: Sequence[Item]) -> builder.Dashboard:
    """Add ``items`` in order; the SDK lays them out left to right, top to bottom."""
    for item in items:
        dash = dash.with_row(item) if isinstance(item, builder.Row) else dash.with_panel(item)
    return dash


def series(expr: str, legend: str = "") -> Query:
    """A range query drawn as time series; ``legend`` like ``{{target}}``."""
    query = prometheus.Dataquery().expr(expr).range()
    return query.legend_format(legend) if legend else query


def table_query(expr: str) -> Query:
    """An instant query returned as a table (one row per series, labels as columns)."""
    return (
        prometheus.Dataquery().expr(expr).instant().format(prometheus_model.PromQueryFormat.TABLE)
    )


def thresholds(*steps: tuple[float, str], base: str = "green") -> builder.ThresholdsConfig:
    """Absolute thresholds: ``base`` below the first step, then each ``(value, color)``."""
    return (
        builder.ThresholdsConfig()
        .mode(dashboard.ThresholdsMode.ABSOLUTE)
        .steps([dashboard.Threshold(color=base), *(dashboard.Threshold(v, c) for v, c in steps)])
    )


def latency_thresholds() -> builder.ThresholdsConfig:
    """The two SLA latency thresholds: edge NoSQL queries 10 ms, customer-care lookups 200 ms."""
    return thresholds(
        (conv.EDGE_QUERY_LATENCY_SECONDS, "yellow"), (conv.CUSTOMER_CARE_LATENCY_SECONDS, "red")
    )


def mapping(values: dict[str, tuple[str, str]]) -> list[dashboard.ValueMapping]:
    """Value mappings ``{"1": ("ok", "green")}``: show words and colours instead of 0/1."""
    return [
        dashboard.ValueMap(
            options={
                value: dashboard.ValueMappingResult(text=text, color=color, index=i)
                for i, (value, (text, color)) in enumerate(values.items())
            }
        )
    ]


_P = TypeVar("_P", timeseries.Panel, stat.Panel, statetimeline.Panel)


def _with_queries(panel: _P, title: str, description: str, queries: Sequence[Query]) -> _P:
    panel = panel.title(title).description(description).datasource(DATASOURCE)
    for ref_id, query in zip(string.ascii_uppercase, queries, strict=False):
        panel = panel.with_target(query.ref_id(ref_id))
    return panel


def timeseries_panel(
    title: str,
    description: str,
    *queries: Query,
    unit: str = "short",
    limits: builder.ThresholdsConfig | None = None,
    width: int = 12,
) -> timeseries.Panel:
    """A time series; ``limits`` are drawn as dashed lines (SLO thresholds)."""
    panel = _with_queries(timeseries.Panel(), title, description, queries)
    panel = (
        panel.unit(unit)
        .span(width)
        .height(8)
        .fill_opacity(10)
        .legend(
            common_builder.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
    )
    if limits is not None:
        panel = panel.thresholds(limits).thresholds_style(
            common_builder.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    return panel


def stat_panel(
    title: str,
    description: str,
    query: Query,
    *,
    unit: str = "short",
    limits: builder.ThresholdsConfig | None = None,
    decimals: int | None = None,
    width: int = 4,
) -> stat.Panel:
    """One number, coloured by ``limits``."""
    panel = _with_queries(stat.Panel(), title, description, [query])
    panel = panel.unit(unit).span(width).height(4).color_mode(common.BigValueColorMode.BACKGROUND)
    panel = panel.graph_mode(common.BigValueGraphMode.NONE)
    if limits is not None:
        panel = panel.thresholds(limits)
    return panel.decimals(decimals) if decimals is not None else panel


def state_timeline(
    title: str,
    description: str,
    *queries: Query,
    states: dict[str, tuple[str, str]],
    width: int = 12,
) -> statetimeline.Panel:
    """Up/down style signals over time, one lane per series, coloured by ``states``."""
    panel = _with_queries(statetimeline.Panel(), title, description, queries)
    return (
        panel.mappings(mapping(states))
        .span(width)
        .height(8)
        .show_value(common.VisibilityMode.NEVER)
    )
