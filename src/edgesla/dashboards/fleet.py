"""Fleet overview: every PoP as one table row, worst first, plus fleet-wide stats.

No panel per PoP: with 2,000 PoPs only a table (paginated, filterable, sorted) stays
usable. The PoP cell links to the PoP detail dashboard.
"""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builder

from edgesla import conventions as conv
from edgesla.dashboards import _query as q
from edgesla.dashboards import pop_detail
from edgesla.dashboards._panels import (
    Item,
    assemble,
    series,
    stat_panel,
    thresholds,
    timeseries_panel,
)
from edgesla.dashboards._table import Column, fleet_table
from edgesla.dashboards._variables import DATASOURCE_VARIABLE, datasource, label_variable
from edgesla.slo.spec import DEFAULT_LAG_THRESHOLD_SECONDS

__all__ = ["TITLE", "UID", "build"]

UID: Final = "edgesla-fleet-overview"
TITLE: Final = "edgesla / Fleet overview"

_BY: Final = (conv.LABEL_POP, conv.LABEL_REGION)
_BY_POP: Final = f"by ({', '.join(_BY)})"
_OBJECTIVE: Final = conv.AVAILABILITY_OBJECTIVE


def _availability(by: str) -> str:
    """Successful probe runs over all runs in the time range: exact counts, not a mean."""
    success = q.selector(conv.PROBE_RESULTS_TOTAL, q.REGION, f'{conv.LABEL_RESULT}="success"')
    runs = q.selector(conv.PROBE_RESULTS_TOTAL, q.REGION)
    return f"sum {by} (increase({success}[{q.RANGE}])) / sum {by} (increase({runs}[{q.RANGE}]))"


def _columns() -> list[Column]:
    region = (q.REGION,)
    worst_p99 = q.quantile(
        0.99, conv.PROBE_LATENCY_SECONDS, (*_BY, conv.LABEL_TARGET), *region, window=q.RANGE
    )
    return [
        Column(
            "Availability",
            _availability(_BY_POP),
            unit="percentunit",
            decimals=4,
            steps=((_OBJECTIVE, "green"),),
            base="red",
        ),
        Column(
            "Error budget left (worst SLO)",
            f"min {_BY_POP} ({q.selector(conv.RULE_POP_BUDGET_REMAINING, *region)})",
            unit="percentunit",
            decimals=1,
            steps=((0.0, "orange"), (0.25, "green")),
            base="red",
        ),
        Column(
            "Worst p99 latency",
            f"max {_BY_POP} ({worst_p99})",
            unit="s",
            steps=(
                (conv.EDGE_QUERY_LATENCY_SECONDS, "yellow"),
                (conv.CUSTOMER_CARE_LATENCY_SECONDS, "red"),
            ),
        ),
        Column(
            "Worst replication lag",
            f"max {_BY_POP} (max_over_time("
            f"{q.selector(conv.PG_REPLICATION_LAG_SECONDS, *region)}[{q.RANGE}]))",
            unit="s",
            steps=((DEFAULT_LAG_THRESHOLD_SECONDS, "red"),),
        ),
        Column(
            "Targets down",
            f"count {_BY_POP} ({q.selector(conv.PROBE_UP, *region)} == 0) "
            f"or max {_BY_POP} ({q.selector(conv.PROBE_UP, *region)}) * 0",
            steps=((1, "red"),),
        ),
        Column(
            "etcd quorum",
            f"min {_BY_POP} ({q.selector(conv.ETCD_QUORUM_OK, *region)})",
            words={"1": ("ok", "green"), "0": ("LOST", "red")},
        ),
        Column(
            "etcd leader",
            f"min {_BY_POP} ({q.selector(conv.ETCD_MEMBER_HAS_LEADER, *region)})",
            words={"1": ("yes", "green"), "0": ("NONE", "red")},
        ),
        Column(
            "Failures tolerated",
            q.tolerated(*region, by=_BY),
            steps=((1, "green"),),
            base="red",
        ),
    ]


def _count_pops(condition: str) -> str:
    """How many PoPs meet ``condition`` (a per-PoP vector filtered by a comparison); 0, not
    "no data", when none does."""
    return f"count({condition}) or vector(0)"


def _stats() -> list[Item]:
    region = (q.REGION,)
    bad = thresholds((1, "red"))
    return [
        builder.Row("Fleet"),
        stat_panel(
            "PoPs reporting",
            "PoPs whose exporter Prometheus scrapes now.",
            series(f"count(count {_BY_POP} ({q.selector(conv.PROBE_UP, *region)}))"),
            limits=thresholds(base="blue"),
        ),
        stat_panel(
            "Fleet availability",
            "Successful probe runs over all runs of every PoP in the time range (exact counts).",
            series(_availability("")),
            unit="percentunit",
            decimals=5,
            limits=thresholds((_OBJECTIVE, "green"), base="red"),
        ),
        stat_panel(
            "PoPs below objective",
            f"PoPs whose availability over the time range is below {_OBJECTIVE:.3%}.",
            series(_count_pops(f"{_availability(_BY_POP)} < {_OBJECTIVE}")),
            limits=bad,
        ),
        stat_panel(
            "PoPs with budget spent",
            "PoPs where some SLO's error budget is used up.",
            series(
                _count_pops(
                    f"min {_BY_POP} ({q.selector(conv.RULE_POP_BUDGET_REMAINING, *region)}) <= 0"
                )
            ),
            limits=bad,
        ),
        stat_panel(
            "PoPs without etcd quorum",
            "PoPs whose etcd cluster has lost quorum now.",
            series(_count_pops(f"min {_BY_POP} ({q.selector(conv.ETCD_QUORUM_OK, *region)}) == 0")),
            limits=bad,
        ),
        stat_panel(
            "PoPs with a single point of failure",
            "PoPs where one more control-plane member failure loses etcd quorum or the API server.",
            series(_count_pops(f"{q.tolerated(*region, by=_BY)} <= 0")),
            limits=bad,
        ),
        timeseries_panel(
            "Fleet error ratio (1 h) by SLO",
            "Bad events of every PoP over all events of every "
            "PoP, per SLO (recording rule; not narrowed by region).",
            series(conv.RULE_FLEET_ERROR_RATIO.format(window="1h"), "{{slo}}"),
            unit="percentunit",
            width=24,
        ),
    ]


def build() -> builder.Dashboard:
    link = (
        f"/d/{pop_detail.UID}?var-{DATASOURCE_VARIABLE}=${{{DATASOURCE_VARIABLE}}}"
        f"&var-{conv.LABEL_POP}=${{__value.raw}}&${{__url_time_range}}"
    )
    dash = (
        builder.Dashboard(TITLE)
        .uid(UID)
        .tags(["edgesla", "fleet"])
        .description("Every PoP as one row, worst availability first; fleet-wide stats.")
        .time("now-24h", "now")
        .refresh("5m")
        .with_variable(datasource())
        .with_variable(label_variable(conv.LABEL_REGION, conv.PROBE_UP, label="Region"))
    )
    table = fleet_table(
        "PoPs, worst first",
        "One row per PoP over the dashboard's time range; sorted by availability, lowest "
        "first. Click a PoP for its detail dashboard.",
        _columns(),
        sort_by="Availability",
        link=link,
    )
    return assemble(dash, [*_stats(), builder.Row("PoPs"), table])
