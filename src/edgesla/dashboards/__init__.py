"""Grafana dashboards as code: built with grafana-foundation-sdk, pushed with grafana-client.

Three dashboards, each with a stable uid and a ``datasource`` template variable:

    edgesla-fleet-overview   every PoP as a table row, worst first; fleet stats
    edgesla-pop-detail       one PoP: probes, latency vs SLA, replication, control plane, SLO
    edgesla-loadtest-run     one load-test run: achieved vs intended rate, response times

``generate`` writes them as JSON (committed under ``dashboards/``); ``push`` upserts them
into a Grafana instance.
"""

from __future__ import annotations

from edgesla.dashboards.render import (
    DASHBOARDS,
    DEFAULT_DIR,
    dashboard_json,
    generate,
    render,
    stale,
)

__all__ = ["DASHBOARDS", "DEFAULT_DIR", "dashboard_json", "generate", "render", "stale"]
