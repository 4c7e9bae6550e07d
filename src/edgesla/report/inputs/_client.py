"""A small Prometheus HTTP API client: instant and range queries, label values.

Every failure to get an answer (unreachable, timeout, HTTP error, ``status != success``)
becomes ``edgesla.ConfigError`` (exit 2) naming the URL and how to fix it; the original
``requests`` exception stays chained.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import requests

from edgesla import ConfigError

__all__ = ["MAX_POINTS", "MAX_POINTS_FLAG", "PrometheusClient", "RawSeries"]

#: Prometheus refuses a range query of more than 11,000 points per series; stay below.
MAX_POINTS: Final = 10_000

#: What VictoriaMetrics must allow for the replication lag, read on a 15-s grid over the whole
#: period in one subquery: 5,760 points a day, 600,000 about 100 days (its default, 30,000,
#: is 5 days).
MAX_POINTS_FLAG: Final = "-search.maxPointsPerTimeseries=600000"

#: (labels, [(unix seconds, value), ...]) of one series.
RawSeries = tuple[dict[str, str], list[tuple[float, float]]]


def _seconds(value: float) -> str:
    return f"{value:.3f}"


class PrometheusClient:
    """Queries one Prometheus server through ``/api/v1``; ``timeout`` is per HTTP request (a
    month of a fleet's raw samples can take Prometheus minutes to scan: 10 by default)."""

    def __init__(self, url: str, *, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, path: str, params: Mapping[str, str]) -> Any:
        endpoint = f"{self.url}{path}"
        try:
            response = self._session.post(endpoint, data=dict(params), timeout=self.timeout)
        except requests.RequestException as exc:
            raise ConfigError(
                f"Prometheus at {self.url} did not answer ({type(exc).__name__}: {exc}); "
                f"check the --prometheus URL and that the server runs (curl {self.url}/-/ready)"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or (body.get("status") != "success")
        ):
            detail = body.get("error") if isinstance(body, dict) else response.text[:200]
            if "maxPointsPerTimeseries" in str(detail):
                raise ConfigError(
                    f"the server at {self.url} (VictoriaMetrics) refused {path}: a subquery "
                    "over the period has more points than its -search.maxPointsPerTimeseries "
                    "allows (the replication lag is read on a 15-s grid: 5,760 points a day); "
                    f"restart it with {MAX_POINTS_FLAG} (about 100 days), or judge a shorter "
                    f"period. Its answer: {detail}"
                )
            raise ConfigError(
                f"Prometheus at {self.url} refused {path} (HTTP {response.status_code}: "
                f"{detail}); check the --prometheus URL points at a Prometheus server "
                f"(its /api/v1 answers) and query={params.get('query', '')!r}"
            )
        return body["data"]

    def instant(self, expr: str, at: float) -> list[dict[str, Any]]:
        """The raw ``result`` list of an instant query evaluated at ``at`` (unix seconds)."""
        data = self._call("/api/v1/query", {"query": expr, "time": _seconds(at)})
        return list(data["result"])

    def vector(self, expr: str, at: float) -> list[tuple[dict[str, str], float]]:
        """An instant vector: (labels, value) per series."""
        return [(dict(r["metric"]), float(r["value"][1])) for r in self.instant(expr, at)]

    def raw(self, expr: str, at: float) -> list[RawSeries]:
        """The samples of a range-vector selector (``metric{...}[range]``), unaltered."""
        return [
            (dict(r["metric"]), [(float(t), float(v)) for t, v in r["values"]])
            for r in self.instant(expr, at)
        ]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[RawSeries]:
        """A range query, split into requests of at most ``MAX_POINTS`` steps, merged."""
        merged: dict[tuple[tuple[str, str], ...], RawSeries] = {}
        chunk = step * (MAX_POINTS - 1)
        lo = start
        while lo <= end:
            hi = min(end, lo + chunk)
            params = {
                "query": expr,
                "start": _seconds(lo),
                "end": _seconds(hi),
                "step": _seconds(step),
                # VictoriaMetrics rounds start and end to the step for its cache (50+ points)
                # unless told not to: the points at the times asked, as from Prometheus (which
                # ignores the parameter)
                "nocache": "1",
            }
            for r in self._call("/api/v1/query_range", params)["result"]:
                labels = dict(r["metric"])
                key = tuple(sorted(labels.items()))
                points = merged.setdefault(key, (labels, []))[1]
                points.extend((float(t), float(v)) for t, v in r["values"])
            lo = hi + step if hi < end else math.inf
        return list(merged.values())

    def label_values(self, label: str, match: str, start: float, end: float) -> list[str]:
        """Values of ``label`` on series matching ``match`` in [start, end] (index only)."""
        params = {"match[]": match, "start": _seconds(start), "end": _seconds(end)}
        try:
            response = self._session.get(
                f"{self.url}/api/v1/label/{label}/values", params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ConfigError(
                f"Prometheus at {self.url} did not answer ({type(exc).__name__}: {exc}); "
                f"check the --prometheus URL and that the server runs (curl {self.url}/-/ready)"
            ) from exc
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else None
        )
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or (body.get("status") != "success")
        ):
            raise ConfigError(
                f"Prometheus at {self.url} refused label values of {label!r} "
                f"(HTTP {response.status_code}); check the --prometheus URL"
            )
        return sorted(str(v) for v in body["data"])
