"""The per-PoP Prometheus exporter: probes run on their own schedule, scrapes only render.

Exporter       owns the schedule and the metrics (edgesla.exporters.exporter)
make_app       the WSGI app: /metrics, /probe, /-/healthy, /-/ready, /-/reload
               (edgesla.exporters.app)
serve          HTTP(S) server honouring an exporter-toolkit web-config (edgesla.exporters.server)
Reloader       the PoP config read again on SIGHUP and POST /-/reload (edgesla.exporters.reload)
WebConfigFile  --web.config.file, read again when it or its certificates change
               (edgesla.exporters.webreload)
build_info     build_info and the process metrics (edgesla.exporters.selfinfo)
"""

from __future__ import annotations

from edgesla.exporters.exporter import Exporter

__all__ = ["Exporter"]
