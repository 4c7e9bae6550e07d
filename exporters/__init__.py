"""The per-PoP Prometheus exporter: probes run on their own schedule, scrapes only render.

Exporter       owns the schedule and the metrics (exporters.exporter)
make_app       the WSGI app: /metrics, /probe, /-/healthy, /-/ready, /-/reload (exporters.app)
serve          HTTP(S) server honouring an exporter-toolkit web-config (exporters.server)
Reloader       the PoP config read again on SIGHUP and POST /-/reload (exporters.reload)
WebConfigFile  --web.config.file, read again when it or its certificates change
               (exporters.webreload)
build_info     build_info and the process metrics (exporters.selfinfo)
"""

from __future__ import annotations

from exporters.exporter import Exporter

__all__ = ["Exporter"]
