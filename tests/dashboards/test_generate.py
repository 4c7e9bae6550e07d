"""The generated dashboards: committed JSON up to date, stable uids, datasource by variable,
metric names only from edgesla.conventions, and a fleet view that scales to 2,000 PoPs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from edgesla import conventions as conv
from edgesla.dashboards import (
    DASHBOARDS,
    dashboard_json,
    fleet,
    generate,
    loadtest,
    pop_detail,
    render,
    stale,
)
from tests.dashboards.queries import expressions
from tests.helpers import edgesla

COMMITTED = Path(__file__).resolve().parents[2] / "dashboards"


def test_committed_json_is_up_to_date() -> None:
    outdated = stale(COMMITTED)
    assert not outdated, (
        f"{', '.join(outdated)} under dashboards/ differ from the generator: run "
        "`edgesla dashboards generate` and commit dashboards/"
    )


def test_generate_command_writes_one_file_per_uid(tmp_path: Path) -> None:
    result = edgesla("dashboards", "generate", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(f"{uid}.json" for uid in DASHBOARDS)
    for uid in DASHBOARDS:
        assert (tmp_path / "out" / f"{uid}.json").read_text(encoding="utf-8") == render(uid)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in generate(tmp_path / "a")]
    second = [p.read_bytes() for p in generate(tmp_path / "b")]
    assert first == second


def test_uids_are_stable() -> None:
    # Links, bookmarks and `push` rely on them: changing one is a breaking change.
    assert list(DASHBOARDS) == [
        "edgesla-fleet-overview",
        "edgesla-pop-detail",
        "edgesla-loadtest-run",
    ]
    assert tuple(DASHBOARDS) == (fleet.UID, pop_detail.UID, loadtest.UID)
    for uid in DASHBOARDS:
        assert dashboard_json(uid)["uid"] == uid


def _variables(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in doc["templating"]["list"]}


@pytest.mark.parametrize("uid", list(DASHBOARDS))
def test_datasource_is_a_prometheus_variable_used_everywhere(uid: str) -> None:
    doc = dashboard_json(uid)
    variables = _variables(doc)
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "region" in variables
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    for panel in doc["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel
            assert panel["targets"], panel["title"]
            assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


@pytest.mark.parametrize("uid", list(DASHBOARDS))
def test_panel_ids_are_unique(uid: str) -> None:
    ids = [p["id"] for p in dashboard_json(uid)["panels"]]
    assert len(ids) == len(set(ids))


_NAMES = {
    value
    for name, value in vars(conv).items()
    if name.isupper()
    and isinstance(value, str)
    and value.startswith(("edgesla_", "pop:", "fleet:"))
}
_RULES = {
    name.format(window=w) for name in _NAMES if "{window}" in name for w in conv.BURN_RATE_WINDOWS
}


@pytest.mark.parametrize("uid", list(DASHBOARDS))
def test_every_metric_name_comes_from_conventions(uid: str) -> None:
    known = _NAMES | _RULES
    known |= {f"{name}{suffix}" for name in _NAMES for suffix in ("_bucket", "_count")}
    for _, _, expr in expressions(dashboard_json(uid)):
        for name in re.findall(r"(?:edgesla_|pop:|fleet:)[A-Za-z0-9_:]+", expr):
            assert name in known, f"{name} in {expr!r} is not a name from edgesla.conventions"


def test_fleet_overview_is_one_table_sorted_worst_first() -> None:
    doc = dashboard_json(fleet.UID)
    panels = [p for p in doc["panels"] if p["type"] != "row"]
    assert not any(p.get("repeat") for p in panels), "no per-PoP panels: 2,000 PoPs"
    (table,) = [p for p in panels if p["type"] == "table"]
    assert all(t.get("instant") and t.get("format") == "table" for t in table["targets"])
    assert all("by (pop, region)" in t["expr"] for t in table["targets"])
    assert table["options"]["sortBy"] == [{"displayName": "Availability", "desc": False}]
    assert table["options"]["footer"]["enablePagination"] is True
    renames = table["transformations"][1]["options"]["renameByName"]
    assert set(renames.values()) >= {
        "PoP",
        "Availability",
        "Error budget left (worst SLO)",
        "Worst p99 latency",
        "Worst replication lag",
        "etcd quorum",
        "etcd leader",
        "Failures tolerated",
    }
    links = json.dumps(table["fieldConfig"]["overrides"])
    assert f"/d/{pop_detail.UID}?" in links


def test_latency_panels_draw_both_sla_thresholds() -> None:
    for uid in (pop_detail.UID, loadtest.UID):
        quantiles = [
            p
            for p in dashboard_json(uid)["panels"]
            if any("histogram_quantile" in t.get("expr", "") for t in p.get("targets", []))
        ]
        assert quantiles
        for panel in quantiles:
            steps = [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]
            assert steps == [
                None,
                conv.EDGE_QUERY_LATENCY_SECONDS,
                conv.CUSTOMER_CARE_LATENCY_SECONDS,
            ]
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "dashed"
