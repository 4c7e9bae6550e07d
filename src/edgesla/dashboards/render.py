"""Dashboards to JSON files: ``edgesla dashboards generate`` and the staleness check.

The JSON is what Grafana's HTTP API and file provisioning take (the ``dashboard`` object,
schemaVersion 41 of Grafana 11.6). Panel ids are numbered in order so that the output is
byte-for-byte stable: the committed files under ``dashboards/`` must equal the generator's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from edgesla.atomic import write_atomic
from edgesla.dashboards import fleet, loadtest, pop_detail

__all__ = ["DASHBOARDS", "DEFAULT_DIR", "dashboard_json", "generate", "render", "stale"]

#: uid -> builder, in the order a user meets them.
DASHBOARDS: Final[dict[str, Callable[[], Dashboard]]] = {
    fleet.UID: fleet.build,
    pop_detail.UID: pop_detail.build,
    loadtest.UID: loadtest.build,
}
DEFAULT_DIR: Final = Path("dashboards")


def dashboard_json(uid: str) -> dict[str, Any]:
    """The dashboard ``uid`` as a JSON object, panel ids numbered 1, 2, ... top to bottom."""
    model = DASHBOARDS[uid]().build()
    doc: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    for number, panel in enumerate(doc.get("panels", []), start=1):
        panel["id"] = number
    return doc


def render(uid: str) -> str:
    """The file content for ``uid``: indented JSON, trailing newline."""
    return json.dumps(dashboard_json(uid), indent=2, ensure_ascii=False) + "\n"


def generate(out_dir: Path) -> list[Path]:
    """Write ``<uid>.json`` for every dashboard into ``out_dir`` (created if missing)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for uid in DASHBOARDS:
        path = out_dir / f"{uid}.json"
        write_atomic(path, render(uid))
        written.append(path)
    return written


def stale(out_dir: Path) -> list[str]:
    """Names of the files in ``out_dir`` that are missing or differ from the generator's."""
    return [
        f"{uid}.json"
        for uid in DASHBOARDS
        if not (out_dir / f"{uid}.json").is_file()
        or (out_dir / f"{uid}.json").read_text(encoding="utf-8") != render(uid)
    ]
