"""PromQL building blocks shared by the dashboards: selectors, quantiles, exact shares.

Metric names come from ``edgesla.conventions``; this module only assembles them. Grafana's
built-in variables (``$__rate_interval``, ``$__range``) and the dashboards' own (``$pop``,
``$region``, ``$profile``) are left in the expressions for Grafana to substitute.
"""

from __future__ import annotations

from typing import Final

from edgesla import conventions as conv
from edgesla import promql

__all__ = [
    "POP",
    "PROFILE",
    "RANGE",
    "RATE",
    "REGION",
    "bucket",
    "le",
    "quantile",
    "selector",
    "share_slower",
    "tolerated",
]

#: Grafana's interval variables: a rate window that always spans several scrapes, and the
#: dashboard's whole time range (for "over the window" numbers in tables and stats).
RATE: Final = "$__rate_interval"
RANGE: Final = "$__range"
#: Matchers on the dashboards' template variables.
POP: Final = f'{conv.LABEL_POP}=~"$pop"'
REGION: Final = f'{conv.LABEL_REGION}=~"$region"'
PROFILE: Final = f'{conv.LABEL_PROFILE}=~"$profile"'


def selector(metric: str, *matchers: str) -> str:
    """``metric{m1, m2}``; ``metric`` alone without matchers."""
    return f"{metric}{{{', '.join(matchers)}}}" if matchers else metric


def bucket(histogram: str) -> str:
    """The ``_bucket`` series of a histogram named by its base name."""
    return f"{histogram}_bucket"


def le(bound: float) -> str:
    """A bucket bound as the exporters render the ``le`` label (``edgesla.promql.le``)."""
    return promql.le(bound)


def quantile(
    q: float, histogram: str, by: tuple[str, ...], *matchers: str, window: str = RATE
) -> str:
    """``histogram_quantile`` of a classic histogram, rate over ``window``."""
    series = selector(bucket(histogram), *matchers)
    return f"histogram_quantile({q}, sum by ({', '.join((*by, 'le'))}) (rate({series}[{window}])))"


def share_slower(threshold: float, histogram: str, by: tuple[str, ...], *matchers: str) -> str:
    """Exact share of observations above ``threshold``, which must be a bucket bound.

    The SLO thresholds are bucket bounds (conventions.LATENCY_BUCKETS_SECONDS), so this is a
    count, never an interpolation.
    """
    if threshold not in conv.LATENCY_BUCKETS_SECONDS:
        raise ValueError(f"{threshold} s is not a bucket bound of {histogram}")
    keys = ", ".join(by)
    within = selector(bucket(histogram), *matchers, f'le="{le(threshold)}"')
    total = selector(f"{histogram}_count", *matchers)
    return f"1 - sum by ({keys}) (rate({within}[{RATE}])) / sum by ({keys}) (rate({total}[{RATE}]))"


def tolerated(*matchers: str, by: tuple[str, ...]) -> str:
    """Members that may fail before the component is lost: etcd keeps a majority, every
    other component one member. The worst component counts; 0 = single point of failure."""
    healthy_etcd = selector(conv.CONTROLPLANE_MEMBERS_HEALTHY, *matchers, 'component="etcd"')
    configured = selector(conv.CONTROLPLANE_MEMBERS_CONFIGURED, *matchers, 'component="etcd"')
    healthy_other = selector(conv.CONTROLPLANE_MEMBERS_HEALTHY, *matchers, 'component!="etcd"')
    grouping = f" by ({', '.join(by)})" if by else ""
    return (
        f"min{grouping} (({healthy_etcd} - floor({configured} / 2) - 1) or ({healthy_other} - 1))"
    )
