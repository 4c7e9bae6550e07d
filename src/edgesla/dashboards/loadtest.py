"""Load-test run: what the load generator (`edgesla loadtest --metrics-listen`) achieved
against what the traffic shape intended, response times against the SLA thresholds, and
whether the generator itself kept up (late starts, CPU)."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builder

from edgesla import conventions as conv
from edgesla.dashboards import _query as q
from edgesla.dashboards._panels import (
    Item,
    assemble,
    latency_thresholds,
    series,
    stat_panel,
    thresholds,
    timeseries_panel,
)
from edgesla.dashboards._variables import datasource, label_variable

__all__ = ["TITLE", "UID", "build"]

UID: Final = "edgesla-loadtest-run"
TITLE: Final = "edgesla / Load-test run"

_RUN: Final = (q.POP, q.PROFILE)
_BY_OP: Final = (conv.LABEL_OPERATION,)
#: Above this share of a core the generator, not the system under test, limits the rate.
_CPU_SATURATED: Final = 0.8


def _rate(metric: str, *matchers: str, by: str = "operation") -> str:
    return f"sum by ({by}) (rate({q.selector(metric, *_RUN, *matchers)}[{q.RATE}]))"


def _panels() -> list[Item]:
    failure = f'{conv.LABEL_RESULT}="failure"'
    return [
        builder.Row("Throughput"),
        timeseries_panel(
            "Request rate: achieved vs intended",
            "Solid: requests completed per second; intended: the traffic shape's arrival rate "
            "at that moment. Achieved below intended means the system or the generator lags.",
            series(_rate(conv.LOADTEST_REQUESTS_TOTAL), "{{operation}} achieved"),
            series(
                f"sum by (operation) ({q.selector(conv.LOADTEST_TARGET_RATE, *_RUN)})",
                "{{operation}} intended",
            ),
            unit="reqps",
            width=24,
        ),
        stat_panel(
            "Achieved / intended",
            "All operations, now. Below 1: requests could not be sent at the intended rate.",
            series(
                f"sum({_rate(conv.LOADTEST_REQUESTS_TOTAL)}) / "
                f"sum({q.selector(conv.LOADTEST_TARGET_RATE, *_RUN)})"
            ),
            unit="percentunit",
            limits=thresholds((0.95, "yellow"), (0.99, "green"), base="red"),
        ),
        stat_panel(
            "Failure ratio",
            "Failed requests over all requests in the time range.",
            series(
                f"sum(increase({q.selector(conv.LOADTEST_REQUESTS_TOTAL, *_RUN, failure)}"
                f"[{q.RANGE}])) / sum(increase("
                f"{q.selector(conv.LOADTEST_REQUESTS_TOTAL, *_RUN)}[{q.RANGE}]))"
            ),
            unit="percentunit",
            decimals=4,
            limits=thresholds((1 - conv.AVAILABILITY_OBJECTIVE, "red")),
        ),
        stat_panel(
            "Users",
            "Simulated users now (all generator processes).",
            series(f"sum({q.selector(conv.LOADTEST_USERS, *_RUN)})"),
            limits=thresholds(base="blue"),
        ),
        builder.Row("Response time (from the intended start: coordinated omission corrected)"),
        *(
            timeseries_panel(
                f"Response time p{label} by operation",
                f"histogram_quantile({quant}) of edgesla_loadtest_latency_seconds; dashed: the "
                "10 ms (edge query) and 200 ms (care lookup) SLA thresholds.",
                series(
                    q.quantile(quant, conv.LOADTEST_LATENCY_SECONDS, _BY_OP, *_RUN),
                    "{{operation}}",
                ),
                unit="s",
                limits=latency_thresholds(),
                width=8,
            )
            for quant, label in ((0.5, "50"), (0.99, "99"), (0.999, "99.9"))
        ),
        timeseries_panel(
            "Share of requests slower than the thresholds",
            "Exact: the thresholds are bucket bounds.",
            *(
                series(
                    q.share_slower(limit, conv.LOADTEST_LATENCY_SECONDS, _BY_OP, *_RUN),
                    f"{{{{operation}}}} > {limit * 1000:g} ms",
                )
                for limit in (conv.EDGE_QUERY_LATENCY_SECONDS, conv.CUSTOMER_CARE_LATENCY_SECONDS)
            ),
            unit="percentunit",
            width=24,
        ),
        builder.Row("Failures and the generator itself"),
        timeseries_panel(
            "Failures by operation",
            "Failed requests per second.",
            series(_rate(conv.LOADTEST_REQUESTS_TOTAL, failure), "{{operation}}"),
            unit="reqps",
            width=8,
        ),
        timeseries_panel(
            "Late starts by operation",
            "Requests that could not start at their intended time per second: the generator "
            "fell behind the open-model schedule.",
            series(_rate(conv.LOADTEST_LATE_STARTS_TOTAL), "{{operation}}"),
            unit="reqps",
            width=8,
        ),
        timeseries_panel(
            "Generator CPU",
            "Share of a core each generator process uses; above 80 % the generator, not the "
            "PoP, may limit the rate and inflate response times.",
            series(
                f"max by (pop, instance) ({q.selector(conv.LOADTEST_GENERATOR_CPU_RATIO, *_RUN)})",
                "{{pop}} {{instance}}",
            ),
            unit="percentunit",
            limits=thresholds((_CPU_SATURATED, "red")),
            width=8,
        ),
    ]


def build() -> builder.Dashboard:
    dash = (
        builder.Dashboard(TITLE)
        .uid(UID)
        .tags(["edgesla", "loadtest"])
        .description("One load-test run: achieved vs intended rate, response times vs SLA.")
        .time("now-1h", "now")
        .refresh("10s")
        .with_variable(datasource())
        .with_variable(label_variable(conv.LABEL_REGION, conv.LOADTEST_USERS, label="Region"))
        .with_variable(
            label_variable(
                conv.LABEL_POP, conv.LOADTEST_USERS, label="PoP", depends_on=(conv.LABEL_REGION,)
            )
        )
        .with_variable(
            label_variable(
                conv.LABEL_PROFILE,
                conv.LOADTEST_USERS,
                label="Profile",
                depends_on=(conv.LABEL_POP,),
            )
        )
    )
    return assemble(dash, _panels())
