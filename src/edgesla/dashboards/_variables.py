"""Template variables: a Prometheus datasource picked by uid, then region, PoP and profile."""

from __future__ import annotations

from typing import Final

from grafana_foundation_sdk.builders import dashboard as builder
from grafana_foundation_sdk.models import dashboard as model

__all__ = ["DATASOURCE", "DATASOURCE_VARIABLE", "datasource", "label_variable"]

#: Name of the datasource variable; `edgesla dashboards push --datasource-uid` sets it.
DATASOURCE_VARIABLE: Final = "datasource"
#: What every panel and query variable points at: the datasource the variable holds.
DATASOURCE: Final = model.DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")


def datasource() -> builder.DatasourceVariable:
    """The Prometheus datasource, chosen from the Grafana instance's datasources."""
    return (
        builder.DatasourceVariable(DATASOURCE_VARIABLE)
        .label("Prometheus")
        .type("prometheus")
        .description("Prometheus that scrapes the edgesla exporters")
    )


def label_variable(
    name: str, metric: str, *, label: str, depends_on: tuple[str, ...] = (), multi: bool = True
) -> builder.QueryVariable:
    """Values of label ``name`` on ``metric``, narrowed by earlier variables ``depends_on``.

    With ``multi``, "All" is offered and matches every value (``.*``), so a selector
    ``name=~"$name"`` works for one, several or all values.
    """
    matchers = ", ".join(f'{dep}=~"${dep}"' for dep in depends_on)
    series = f"{metric}{{{matchers}}}" if matchers else metric
    variable = (
        builder.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(f"label_values({series}, {name})")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        .multi(multi)
    )
    if multi:
        variable = variable.include_all(True).all_value(".*")
    return variable
