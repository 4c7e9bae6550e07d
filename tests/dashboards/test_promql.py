"""Every PromQL expression of the dashboards, run against the real Prometheus of the shared
local stack after it has scraped the real exporter (and evaluated the `edgesla rules`
recording rules that `stack up` loads), while a real `edgesla loadtest` run serves its
/metrics on the port the stack's Prometheus scrapes as job edgesla-loadtest, and a second real
exporter probes a recorded-shape kube-apiserver (no real one can run here:
tests/recorded_apiserver.py says how) for the control-plane panels.

Grafana's variables are substituted as a user would see them: ``$pop`` = the stack's PoP,
``$region`` = its region, ``$profile`` = All (``.*``), ``$__rate_interval`` = 1m,
``$__range`` = 5m. Each expression must parse and evaluate; and it must return series,
except the ones listed in PARSE_ONLY, each with the reason the stack cannot feed it yet:
those are marked ``parse_only`` and listed with their reasons at the end of the run
(tests/dashboards/conftest.py). To switch one on, delete its entry from PARSE_ONLY.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from edgesla import conventions as conv
from edgesla.dashboards import DASHBOARDS, dashboard_json
from edgesla.stack.layout import Layout
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION
from tests.dashboards.queries import expressions, label_values_selector, substitute
from tests.helpers import EDGESLA, eventually
from tests.recorded_apiserver import recorded_apiserver_scraped

pytestmark = [pytest.mark.stack, pytest.mark.slow]

VALUES = {
    "pop": LOCAL_POP, "region": LOCAL_REGION, "profile": ".*",
    "__rate_interval": "1m", "__range": "5m",
}  # fmt: skip

_ONE_MONGO_MEMBER = (
    "parse-only: the stack's MongoDB-wire replica set has one member, so no secondary lags"
)
#: Metric name -> why expressions over it cannot return series on the local stack.
PARSE_ONLY: dict[str, str] = {
    conv.MONGO_MEMBER_LAG_SECONDS: _ONE_MONGO_MEMBER,
}


def _parse_only(expr: str) -> str | None:
    for name in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        if name in PARSE_ONLY:
            return PARSE_ONLY[name]
    return None


def _cases() -> list[Any]:
    cases = []
    for uid in DASHBOARDS:
        for title, ref_id, expr in expressions(dashboard_json(uid)):
            reason = _parse_only(expr)
            marks = [pytest.mark.parse_only(reason)] if reason else []
            suffix = " [parse-only]" if reason else ""
            cases.append(
                pytest.param(uid, expr, reason, id=f"{uid}:{title}:{ref_id}{suffix}", marks=marks)
            )
    return cases


def _variable_cases() -> list[Any]:
    cases = []
    for uid in DASHBOARDS:
        for variable in dashboard_json(uid)["templating"]["list"]:
            if variable["type"] == "query":
                selector, _ = label_values_selector(variable["query"])
                reason = _parse_only(selector)
                marks = [pytest.mark.parse_only(reason)] if reason else []
                suffix = " [parse-only]" if reason else ""
                cases.append(
                    pytest.param(
                        uid,
                        variable["query"],
                        reason,
                        marks=marks,
                        id=f"{uid}:${variable['name']}{suffix}",
                    )
                )
    return cases


def _get(layout: Layout, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
    url = f"http://127.0.0.1:{layout.prometheus_port}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as exc:  # 400 bad_data: a parse or evaluation error
        return dict(json.load(exc))


@pytest.fixture(scope="module")
def generator(stack: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A real load test on the stack for the module's lifetime, serving its /metrics where the
    stack's Prometheus scrapes it (the PoP config's loadtest.metrics_listen); stopped after."""
    out = tmp_path_factory.mktemp("dashboards-loadtest") / "run"
    proc = subprocess.Popen(
        [
            EDGESLA,
            "loadtest",
            "--config",
            str(stack.pop_config),
            "--duration",
            "10m",
            "--rate-scale",
            "0.5",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # edgesla and its Locust child, as Ctrl-C does
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def apiserver(stack: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with recorded_apiserver_scraped(stack, tmp_path_factory.mktemp("apiserver")):
        yield


@pytest.fixture(scope="module")
def scraped(stack: Layout, generator: None, apiserver: None) -> Layout:
    """The stack, once Prometheus has rates of the exporter's and the load generator's series,
    the recorded API server's probe results, and the SLO rules."""

    def ready() -> bool:
        for expr in (
            f"rate({conv.PROBE_RESULTS_TOTAL}[1m])",
            f"rate({conv.LOADTEST_REQUESTS_TOTAL}[1m])",
            conv.KUBE_LEASE_FRESH,
            conv.RULE_POP_BUDGET_REMAINING,
            conv.RULE_FLEET_ERROR_RATIO.format(window="1h"),
        ):
            if not _get(stack, "/api/v1/query", [("query", expr)])["data"]["result"]:
                return False
        return True

    eventually(ready, timeout=180, interval=2)
    return stack


@pytest.mark.parametrize(("uid", "expr", "reason"), _cases())
def test_expression_parses_and_returns_series(
    scraped: Layout, uid: str, expr: str, reason: str | None
) -> None:
    query = substitute(expr, VALUES)

    def evaluate() -> dict[str, Any]:
        return _get(scraped, "/api/v1/query", [("query", query)])

    answer = evaluate()
    assert answer["status"] == "success", f"{uid}: {query}\n{answer.get('error')}"
    if reason is not None:
        return  # parsed and evaluated; listed with its reason at the end of the run
    eventually(lambda: evaluate()["data"]["result"], timeout=60, interval=2)


@pytest.mark.parametrize(("uid", "query", "reason"), _variable_cases())
def test_variable_query_finds_values(
    scraped: Layout, uid: str, query: str, reason: str | None
) -> None:
    selector, label = label_values_selector(query)
    selector = substitute(selector, VALUES)
    answer = _get(scraped, f"/api/v1/label/{label}/values", [("match[]", selector)])
    assert answer["status"] == "success", f"{uid}: {selector}\n{answer.get('error')}"
    if reason is None:
        assert answer["data"], f"{uid}: no {label} values on {selector}"
