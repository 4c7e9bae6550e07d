"""Prometheus file-based service discovery target groups, one file per region.

Each PoP is one target group: its exporter's host:port, and the labels ``pop``, ``region``
and the PoP's extra labels from the fleet inventory. A region's file holds its PoPs, sorted by
name, so a fleet of thousands of PoPs splits into files of a region each and a change to one
region rewrites one file.
"""

from __future__ import annotations

import json
from typing import Any

from edgesla import conventions as conv
from edgesla.fleet import Fleet

__all__ = ["region_file_name", "render_region", "target_groups"]


def region_file_name(region: str) -> str:
    """File name of a region's target file (region names are already file-name safe)."""
    return f"{region}.json"


def target_groups(fleet: Fleet) -> dict[str, list[dict[str, Any]]]:
    """region -> the file-SD target groups of its PoPs, regions and PoPs sorted by name."""
    regions: dict[str, list[dict[str, Any]]] = {}
    for pop in sorted(fleet.pops, key=lambda p: (p.region, p.name)):
        labels = {conv.LABEL_POP: pop.name, conv.LABEL_REGION: pop.region}
        labels |= dict(sorted(pop.labels.items()))
        regions.setdefault(pop.region, []).append({"targets": [pop.exporter], "labels": labels})
    return regions


def render_region(groups: list[dict[str, Any]]) -> str:
    """The JSON text of one region's file (JSON has no comments: no DO NOT EDIT header)."""
    return json.dumps(groups, indent=2) + "\n"
