"""``edgesla dashboards push``: upsert the generated dashboards into Grafana, idempotently.

Steps, each through grafana-client against Grafana's HTTP API:

1. ``GET /api/health`` — Grafana answers at the URL (no token needed);
2. ``GET /api/datasources/uid/<uid>`` — the datasource exists and is Prometheus (this is
   also where a rejected token shows);
3. ``GET /api/folders`` and, if no folder has the name, ``POST /api/folders``;
4. per dashboard: ``GET /api/dashboards/uid/<uid>``; when the stored dashboard already
   equals the one to push (same folder), nothing is written and its version stays;
   otherwise ``POST /api/dashboards/db`` with ``overwrite: true``;
5. ``GET /api/search`` — read back: every pushed uid is listed in the folder.

Every failure a user can fix (bad URL, unreachable Grafana, rejected token, unknown
datasource uid, token file unreadable or empty) is a ConfigError (exit 2) saying what, where
and how to fix it; the grafana-client exception stays chained.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlparse

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from edgesla._errors import ConfigError, EdgeslaError
from edgesla.dashboards._variables import DATASOURCE_VARIABLE

__all__ = [
    "DEFAULT_FOLDER",
    "PushError",
    "Pushed",
    "load_dashboards",
    "push",
    "read_token",
    "with_datasource",
]

DEFAULT_FOLDER: Final = "edgesla"
_TIMEOUT_SECONDS: Final = 10.0
#: Keys Grafana sets on save: not part of what we compare to decide "unchanged".
_SERVER_KEYS: Final = ("id", "version")
# grafana-client 5.1 ships py.typed but its methods are unannotated: calls into it carry
# "type: ignore[no-untyped-call]" (or mypy's untyped_calls_exclude = ["grafana_client"]).


class PushError(EdgeslaError):
    """Grafana answered, but not as its API documents (e.g. a 5xx): exit 1."""


@dataclass(frozen=True)
class Pushed:
    """What happened to one dashboard."""

    uid: str
    title: str
    action: Literal["created", "updated", "unchanged"]
    version: int
    url: str


def read_token(path: Path) -> str:
    """The API token (service-account token) in ``path``, surrounding whitespace removed."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the Grafana token file {path}: {exc}; create it with a service-account "
            "token (Grafana > Administration > Service accounts, role Editor) and chmod 600"
        ) from exc
    if not token:
        raise ConfigError(
            f"the Grafana token file {path} is empty; put a service-account token in it "
            "(Grafana > Administration > Service accounts, role Editor)"
        )
    return token


def load_dashboards(directory: Path) -> list[dict[str, Any]]:
    """Every ``*.json`` dashboard in ``directory``, sorted by file name."""
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        raise ConfigError(
            f"no dashboard JSON files in {directory}; write them with "
            f"`edgesla dashboards generate --out {directory}`"
        )
    docs = []
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{path}: not readable JSON ({exc}); regenerate it with "
                "`edgesla dashboards generate`"
            ) from exc
        if not isinstance(doc, dict) or not doc.get("uid") or not doc.get("title"):
            raise ConfigError(
                f"{path}: not a Grafana dashboard (needs a uid and a title); "
                "regenerate it with `edgesla dashboards generate`"
            )
        docs.append(doc)
    return docs


def with_datasource(doc: dict[str, Any], datasource_uid: str) -> dict[str, Any]:
    """A copy of ``doc`` whose ``datasource`` variable is set to ``datasource_uid``."""
    out = copy.deepcopy(doc)
    for variable in out.get("templating", {}).get("list", []):
        if variable.get("name") == DATASOURCE_VARIABLE and variable.get("type") == "datasource":
            variable["current"] = {"selected": True, "text": datasource_uid,
                                   "value": datasource_uid}  # fmt: skip
    return out


def _check_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"--grafana {url!r} is not an http(s) URL; give Grafana's base URL, e.g. "
            "https://grafana.example.net or http://127.0.0.1:3000"
        )
    try:
        parsed.port  # noqa: B018 - raises ValueError on a port out of range or not a number
    except ValueError as exc:
        raise ConfigError(f"--grafana {url!r}: {exc}; e.g. http://127.0.0.1:3000") from exc
    return url.rstrip("/")


@contextmanager
def _translated(url: str, doing: str) -> Iterator[None]:
    """Turn grafana-client and HTTP exceptions into our tree, naming what we were doing."""
    try:
        yield
    except GrafanaUnauthorizedError as exc:
        raise ConfigError(
            f"Grafana at {url} rejected the token (401) while {doing}; check the token file "
            "holds a valid, unexpired service-account token of this Grafana instance"
        ) from exc
    except GrafanaClientError as exc:
        if exc.status_code == 403:
            raise ConfigError(
                f"Grafana at {url} refused the token (403) while {doing}: the service "
                "account lacks permission; give it the Editor role (or folder write access)"
            ) from exc
        raise PushError(
            f"Grafana at {url} answered {exc.status_code} while {doing}: {exc.message}"
        ) from exc
    except (GrafanaTimeoutError, niquests.exceptions.RequestException) as exc:
        raise ConfigError(
            f"cannot reach Grafana at {url} while {doing} ({type(exc).__name__}: {exc}); "
            "check the URL, that Grafana runs, and that this host can connect to it"
        ) from exc
    except GrafanaException as exc:
        raise PushError(f"Grafana at {url} failed while {doing}: {exc.message}") from exc


def _check_datasource(api: GrafanaApi, url: str, uid: str) -> None:
    try:
        with _translated(url, f"looking up datasource {uid!r}"):
            found = api.datasource.get_datasource_by_uid(uid)  # type: ignore[no-untyped-call]
    except PushError as exc:
        if isinstance(exc.__cause__, GrafanaClientError) and exc.__cause__.status_code == 404:
            raise ConfigError(
                f"Grafana at {url} has no datasource with uid {uid!r}; see the uids under "
                "Connections > Data sources (the uid is in the page URL) or GET "
                "/api/datasources, and pass it as --datasource-uid"
            ) from exc.__cause__
        raise
    if found.get("type") != "prometheus":
        raise ConfigError(
            f"datasource {uid!r} in Grafana at {url} is of type {found.get('type')!r}, not "
            "prometheus; pass the uid of the Prometheus that scrapes the edgesla exporters"
        )


def _ensure_folder(api: GrafanaApi, url: str, name: str) -> tuple[str, bool]:
    """(uid of the top-level folder called ``name``, whether it was created now)."""
    with _translated(url, "listing folders"):
        folders = api.folder.get_all_folders()  # type: ignore[no-untyped-call]
    for folder in folders:
        if folder.get("title") == name:
            return str(folder["uid"]), False
    with _translated(url, f"creating folder {name!r}"):
        created = api.folder.create_folder(name)  # type: ignore[no-untyped-call]
    return str(created["uid"]), True


def _stored(api: GrafanaApi, url: str, uid: str) -> dict[str, Any] | None:
    """The dashboard stored under ``uid`` with its meta, or None when there is none."""
    try:
        with _translated(url, f"reading dashboard {uid!r}"):
            return dict(api.dashboard.get_dashboard(uid))  # type: ignore[no-untyped-call]
    except PushError as exc:
        if isinstance(exc.__cause__, GrafanaClientError) and exc.__cause__.status_code == 404:
            return None
        raise


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key not in _SERVER_KEYS}


def _upsert(api: GrafanaApi, url: str, doc: dict[str, Any], folder_uid: str) -> Pushed:
    uid, title = str(doc["uid"]), str(doc["title"])
    stored = _stored(api, url, uid)
    if (
        stored is not None
        and stored.get("meta", {}).get("folderUid") == folder_uid
        and _comparable(stored.get("dashboard", {})) == _comparable(doc)
    ):
        meta = stored["meta"]
        return Pushed(
            uid,
            title,
            "unchanged",
            int(stored["dashboard"].get("version", 0)),
            f"{url}{meta.get('url', '')}",
        )
    body = {
        "dashboard": {**_comparable(doc), "id": None},
        "folderUid": folder_uid,
        "overwrite": True,
        "message": "edgesla dashboards push",
    }
    with _translated(url, f"saving dashboard {uid!r}"):
        saved = api.dashboard.update_dashboard(body)  # type: ignore[no-untyped-call]
    action: Literal["created", "updated"] = "created" if stored is None else "updated"
    return Pushed(uid, title, action, int(saved.get("version", 0)), f"{url}{saved.get('url', '')}")


def _read_back(api: GrafanaApi, url: str, folder_uid: str, uids: list[str]) -> None:
    with _translated(url, "reading back the folder's dashboards"):
        hits = api.search.search_dashboards(type_="dash-db", folder_uids=folder_uid)  # type: ignore[no-untyped-call]
    missing = sorted(set(uids) - {str(hit.get("uid")) for hit in hits})
    if missing:
        raise PushError(
            f"Grafana at {url} accepted but does not list {', '.join(missing)} "
            "in the folder; look at Grafana's log"
        )


def push(
    url: str,
    token: str,
    dashboards: list[dict[str, Any]],
    *,
    folder: str = DEFAULT_FOLDER,
    datasource_uid: str | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Pushed]:
    """Upsert ``dashboards`` into folder ``folder`` of Grafana at ``url``; report each."""
    url = _check_url(url)
    api = GrafanaApi.from_url(url, credential=token, timeout=_TIMEOUT_SECONDS)
    with _translated(url, "checking /api/health"):
        health = api.client.GET("/health")
    progress(f"Grafana {health.get('version', '?')} at {url}")
    if datasource_uid is not None:
        _check_datasource(api, url, datasource_uid)
        progress(f"datasource {datasource_uid!r}: found, type prometheus")
        dashboards = [with_datasource(doc, datasource_uid) for doc in dashboards]
    folder_uid, created = _ensure_folder(api, url, folder)
    progress(f"folder {folder!r} ({folder_uid}): {'created' if created else 'exists'}")
    results = []
    for doc in dashboards:
        result = _upsert(api, url, doc, folder_uid)
        progress(f"{result.uid}: {result.action}, version {result.version} -> {result.url}")
        results.append(result)
    _read_back(api, url, folder_uid, [r.uid for r in results])
    return results
