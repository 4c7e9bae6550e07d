"""`edgesla dashboards push` against a recorded-contract Grafana.

No Grafana can run here (no package registry we may use has it), so these tests start
``grafana_contract``: a small real HTTP server on 127.0.0.1 that implements the Grafana 11
HTTP API endpoints the push uses (/api/health, /api/datasources/uid/..., /api/folders,
/api/dashboards/uid/..., /api/dashboards/db, /api/search) with the response shapes Grafana
documents, and checks the bearer token. The real `edgesla` command talks to it over HTTP.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgesla.dashboards import DASHBOARDS
from tests.dashboards.grafana_contract import GrafanaState, running_grafana
from tests.helpers import edgesla
from tests.ports import port

COMMITTED = Path(__file__).resolve().parents[2] / "dashboards"
TOKEN = "glsa_contract_test_token"
DATASOURCE = {
    "id": 1, "uid": "prom-edge", "orgId": 1, "name": "Prometheus edge", "type": "prometheus",
    "typeName": "Prometheus", "access": "proxy", "url": "http://prometheus:9090",
    "basicAuth": False, "isDefault": True, "jsonData": {"httpMethod": "POST"}, "readOnly": False,
}  # fmt: skip
#: Ports base + 680..689 for the contract server; base + 699 has nothing listening.
PORTS = range(port(680), port(690))
NOTHING_LISTENS = f"http://127.0.0.1:{port(699)}"


@pytest.fixture
def grafana() -> Iterator[tuple[str, GrafanaState]]:
    state = GrafanaState(token=TOKEN, datasources={"prom-edge": DATASOURCE})
    for candidate in PORTS:
        try:
            with running_grafana(candidate, state) as url:
                yield url, state
            return
        except OSError:  # port taken: try the next one
            continue
    pytest.fail(f"no free port for the contract Grafana in {PORTS}")


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "grafana-token"
    path.write_text(TOKEN + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def push(url: str, token_file: Path, *extra: str, in_process: bool = True) -> tuple[int, str]:
    """`edgesla dashboards push` against ``url``; in this interpreter unless told otherwise
    (the first test runs the real program)."""
    result = edgesla(
        "dashboards",
        "push",
        "--grafana",
        url,
        "--token-file",
        str(token_file),
        "--dir",
        str(COMMITTED),
        *extra,
        timeout=60,
        in_process=in_process,
    )
    return result.returncode, result.stdout + result.stderr


def test_first_push_creates_second_push_changes_nothing(
    grafana: tuple[str, GrafanaState], token_file: Path
) -> None:
    url, state = grafana
    code, output = push(url, token_file, "--datasource-uid", "prom-edge", in_process=False)
    assert code == 0, output
    assert sorted(state.dashboards) == sorted(DASHBOARDS)
    assert [f["title"] for f in state.folders] == ["edgesla"]
    folder_uid = state.folders[0]["uid"]
    for uid in DASHBOARDS:
        assert f"{uid}: created, version 1" in output
        stored = state.dashboards[uid]
        assert stored["folderUid"] == folder_uid
        assert stored["dashboard"]["version"] == 1
        (variable,) = [
            v for v in stored["dashboard"]["templating"]["list"] if v["name"] == "datasource"
        ]
        assert variable["current"]["value"] == "prom-edge"
    assert "3 dashboards in folder 'edgesla': 3 written, 0 unchanged" in output

    state.requests.clear()
    code, output = push(url, token_file, "--datasource-uid", "prom-edge", in_process=False)
    assert code == 0, output
    assert state.writes("/api/dashboards/db") == 0
    assert state.writes("/api/folders") == 0
    assert len(state.folders) == 1
    assert sorted(state.dashboards) == sorted(DASHBOARDS)
    for uid in DASHBOARDS:
        assert state.dashboards[uid]["dashboard"]["version"] == 1
        assert f"{uid}: unchanged, version 1" in output
    assert "0 written, 3 unchanged" in output


def test_changed_dashboard_is_overwritten_with_a_new_version(
    grafana: tuple[str, GrafanaState], token_file: Path, tmp_path: Path
) -> None:
    url, state = grafana
    assert push(url, token_file)[0] == 0
    changed = tmp_path / "dashboards"
    shutil.copytree(COMMITTED, changed)
    path = changed / "edgesla-pop-detail.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["refresh"] = "5m"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, output = push(url, token_file, "--dir", str(changed))
    assert code == 0, output
    assert "edgesla-pop-detail: updated, version 2" in output
    assert state.dashboards["edgesla-pop-detail"]["dashboard"]["refresh"] == "5m"
    assert state.dashboards["edgesla-fleet-overview"]["dashboard"]["version"] == 1


def test_existing_folder_is_reused(grafana: tuple[str, GrafanaState], token_file: Path) -> None:
    url, state = grafana
    state.add_folder("PoP SLA", uid="existing-folder")
    code, output = push(url, token_file, "--folder", "PoP SLA")
    assert code == 0, output
    assert state.writes("/api/folders") == 0
    assert {d["folderUid"] for d in state.dashboards.values()} == {"existing-folder"}
    assert "folder 'PoP SLA' (existing-folder): exists" in output


def test_without_datasource_uid_the_picker_stays_free(
    grafana: tuple[str, GrafanaState], token_file: Path
) -> None:
    url, state = grafana
    assert push(url, token_file)[0] == 0
    for stored in state.dashboards.values():
        (variable,) = [
            v for v in stored["dashboard"]["templating"]["list"] if v["name"] == "datasource"
        ]
        assert "current" not in variable
    assert ("GET", "/api/datasources/uid/prom-edge") not in state.requests


def test_rejected_token_is_exit_2_with_how_to_fix(
    grafana: tuple[str, GrafanaState], tmp_path: Path
) -> None:
    url, state = grafana
    wrong = tmp_path / "wrong-token"
    wrong.write_text("glsa_revoked", encoding="utf-8")
    code, output = push(url, wrong, "--datasource-uid", "prom-edge")
    assert code == 2, output
    assert f"Grafana at {url} rejected the token (401)" in output
    assert "service-account token" in output
    assert not state.dashboards


def test_unknown_datasource_uid_is_exit_2(
    grafana: tuple[str, GrafanaState], token_file: Path
) -> None:
    url, state = grafana
    code, output = push(url, token_file, "--datasource-uid", "no-such-uid")
    assert code == 2, output
    assert "has no datasource with uid 'no-such-uid'" in output
    assert "--datasource-uid" in output
    assert not state.dashboards


def test_unreachable_grafana_is_exit_2(token_file: Path) -> None:
    code, output = push(NOTHING_LISTENS, token_file)
    assert code == 2, output
    assert f"cannot reach Grafana at {NOTHING_LISTENS}" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("url", "token", "message"),
    [
        ("grafana.example.net", TOKEN, "is not an http(s) URL"),
        ("http://127.0.0.1:99999", TOKEN, "--grafana 'http://127.0.0.1:99999'"),
        (NOTHING_LISTENS, "", "is empty"),
        (NOTHING_LISTENS, None, "cannot read the Grafana token file"),
    ],
)
def test_bad_input_is_exit_2(url: str, token: str | None, message: str, tmp_path: Path) -> None:
    path = tmp_path / "token"
    if token is not None:
        path.write_text(token, encoding="utf-8")
    code, output = push(url, path)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output


def test_missing_dashboard_dir_says_to_generate(token_file: Path, tmp_path: Path) -> None:
    code, output = push(NOTHING_LISTENS, token_file, "--dir", str(tmp_path / "none"))
    assert code == 2, output
    assert "edgesla dashboards generate" in output
