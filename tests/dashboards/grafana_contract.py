"""A recorded-contract Grafana: the HTTP API endpoints `edgesla dashboards push` uses.

No Grafana server can run here (no package registry available to the tests has it), so
the push is tested against this small real HTTP server on loopback. It answers the way
Grafana 11 documents its HTTP API (https://grafana.com/docs/grafana/v11.6/developers/http_api/):

    GET  /api/health                       no auth; {"commit", "database": "ok", "version"}
    GET  /api/datasources/uid/<uid>        the datasource, or 404 "Data source not found"
    GET  /api/folders                      [{"id", "uid", "title"}]
    POST /api/folders {"title"}            the folder; 409 when the title exists
    GET  /api/dashboards/uid/<uid>         {"dashboard", "meta"}, or 404 "Dashboard not found"
    POST /api/dashboards/db                {"id", "uid", "url", "status", "version", "slug",
                                           "folderUid"}; version + 1 on every save; 412 when
                                           the uid exists and overwrite is false
    GET  /api/search?type=dash-db&folderUIDs=<uid>   search hits in that folder

Every endpoint but /api/health checks ``Authorization: Bearer <token>`` and answers 401
{"message": "Invalid API key", ...} otherwise. Requests are recorded for assertions.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["GrafanaState", "running_grafana"]

VERSION = "11.6.0"


@dataclass
class GrafanaState:
    token: str
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    folders: list[dict[str, Any]] = field(default_factory=list)
    #: uid -> {"dashboard": ..., "folderUid": ..., "created": ..., "updated": ...}
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _next_id: int = 1

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_folder(self, title: str, uid: str | None = None) -> dict[str, Any]:
        folder_id = self.next_id()
        folder = {"id": folder_id, "uid": uid or f"f{folder_id:06d}", "title": title}
        self.folders.append(folder)
        return folder

    def writes(self, path: str) -> int:
        return sum(1 for method, p in self.requests if method == "POST" and p == path)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.server.state.token}":
            return True
        self._send(
            401,
            {
                "extra": None,
                "message": "Invalid API key",
                "messageId": "api-key.invalid",
                "statusCode": 401,
                "traceID": "",
            },
        )
        return False

    def do_GET(self) -> None:
        url = urlparse(self.path)
        state = self.server.state
        state.requests.append(("GET", url.path))
        if url.path == "/api/health":
            self._send(200, {"commit": "contract", "database": "ok", "version": VERSION})
            return
        if not self._authorized():
            return
        if match := re.fullmatch(r"/api/datasources/uid/([^/]+)", url.path):
            found = state.datasources.get(match.group(1))
            if found is None:
                self._send(404, {"message": "Data source not found"})
            else:
                self._send(200, found)
        elif url.path == "/api/folders":
            self._send(200, state.folders)
        elif match := re.fullmatch(r"/api/dashboards/uid/([^/]+)", url.path):
            stored = state.dashboards.get(match.group(1))
            if stored is None:
                self._send(404, {"message": "Dashboard not found"})
            else:
                self._send(200, self._with_meta(stored))
        elif url.path == "/api/search":
            query = parse_qs(url.query)
            folder_uids = set(query.get("folderUIDs", []))
            hits = [
                self._hit(stored)
                for stored in state.dashboards.values()
                if not folder_uids or stored["folderUid"] in folder_uids
            ]
            self._send(200, hits)
        else:
            self._send(404, {"message": "Not found"})

    def do_POST(self) -> None:
        url = urlparse(self.path)
        state = self.server.state
        state.requests.append(("POST", url.path))
        if not self._authorized():
            return
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if url.path == "/api/folders":
            if any(f["title"] == body["title"] for f in state.folders):
                self._send(409, {"message": "a folder with the same name already exists"})
                return
            folder = state.add_folder(body["title"], body.get("uid"))
            folder_url = f"/dashboards/f/{folder['uid']}/{_slug(folder['title'])}"
            self._send(
                200,
                {
                    **folder,
                    "url": folder_url,
                    "hasAcl": False,
                    "canSave": True,
                    "canEdit": True,
                    "canAdmin": True,
                    "canDelete": True,
                    "version": 1,
                },
            )
        elif url.path == "/api/dashboards/db":
            self._save(body)
        else:
            self._send(404, {"message": "Not found"})

    def _save(self, body: dict[str, Any]) -> None:
        state = self.server.state
        dashboard = dict(body["dashboard"])
        uid = dashboard["uid"]
        folder_uid = body.get("folderUid", "")
        if folder_uid and not any(f["uid"] == folder_uid for f in state.folders):
            self._send(400, {"message": "folder not found"})
            return
        stored = state.dashboards.get(uid)
        if stored is not None and not body.get("overwrite"):
            self._send(
                412,
                {
                    "message": "The dashboard has been changed by someone else",
                    "status": "version-mismatch",
                },
            )
            return
        dashboard["id"] = stored["dashboard"]["id"] if stored else state.next_id()
        dashboard["version"] = stored["dashboard"]["version"] + 1 if stored else 1
        state.dashboards[uid] = {"dashboard": dashboard, "folderUid": folder_uid}
        self._send(
            200,
            {
                "id": dashboard["id"],
                "uid": uid,
                "url": self._url(dashboard),
                "status": "success",
                "version": dashboard["version"],
                "slug": _slug(dashboard["title"]),
                "folderUid": folder_uid,
            },
        )

    def _folder(self, uid: str) -> dict[str, Any]:
        return next((f for f in self.server.state.folders if f["uid"] == uid), {})

    @staticmethod
    def _url(dashboard: dict[str, Any]) -> str:
        return f"/d/{dashboard['uid']}/{_slug(dashboard['title'])}"

    def _with_meta(self, stored: dict[str, Any]) -> dict[str, Any]:
        dashboard = stored["dashboard"]
        folder = self._folder(stored["folderUid"])
        return {
            "dashboard": dashboard,
            "meta": {
                "type": "db",
                "canSave": True,
                "canEdit": True,
                "canAdmin": True,
                "canStar": True,
                "canDelete": True,
                "slug": _slug(dashboard["title"]),
                "url": self._url(dashboard),
                "expires": "0001-01-01T00:00:00Z",
                "created": "2026-01-01T00:00:00Z",
                "updated": "2026-01-01T00:00:00Z",
                "version": dashboard["version"],
                "hasAcl": False,
                "isFolder": False,
                "folderId": folder.get("id", 0),
                "folderUid": stored["folderUid"],
                "folderTitle": folder.get("title", "General"),
                "folderUrl": f"/dashboards/f/{stored['folderUid']}/" if folder else "",
                "provisioned": False,
                "provisionedExternalId": "",
            },
        }

    def _hit(self, stored: dict[str, Any]) -> dict[str, Any]:
        dashboard = stored["dashboard"]
        folder = self._folder(stored["folderUid"])
        return {
            "id": dashboard["id"],
            "uid": dashboard["uid"],
            "title": dashboard["title"],
            "uri": f"db/{_slug(dashboard['title'])}",
            "url": self._url(dashboard),
            "slug": "",
            "type": "dash-db",
            "tags": dashboard.get("tags", []),
            "isStarred": False,
            "folderId": folder.get("id", 0),
            "folderUid": stored["folderUid"],
            "folderTitle": folder.get("title", ""),
            "folderUrl": f"/dashboards/f/{stored['folderUid']}/",
            "sortMeta": 0,
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, state: GrafanaState) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state


@contextmanager
def running_grafana(port: int, state: GrafanaState) -> Iterator[str]:
    """Serve ``state`` on 127.0.0.1:``port``; yields the base URL; stopped on exit."""
    server = _Server(port, state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
