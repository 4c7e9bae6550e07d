"""The per-PoP Prometheus exporter: probes run on their own schedule, scrapes only render.

Exporter       owns the schedule and the metrics (exporters.exporter)
make_app       the WSGI app: /metrics, /probe, /-/healthy, /-/ready (exporters.app)
serve          HTTP(S) server honouring an exporter-toolkit web-config (exporters.server)
"""

from __future__ import annotations

from exporters.exporter import Exporter

__all__ = ["Exporter"]
