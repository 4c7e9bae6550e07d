"""Deployment artefacts generated from the fleet inventory.

``edgesla scrape-config`` is a pipeline: fleet inventory (``edgesla.fleet``) + settings →
file-SD target groups per region (``targets``) and a ``scrape_configs`` snippet (``scrape``)
→ files written atomically (``files``).
"""

from __future__ import annotations

from edgesla.deploy.files import write_atomic
from edgesla.deploy.scrape import (
    SCRAPE_CONFIG_FILE,
    TARGETS_DIR,
    ScrapeSettings,
    render_scrape_config,
    write_scrape_config,
)
from edgesla.deploy.targets import region_file_name, target_groups

__all__ = [
    "SCRAPE_CONFIG_FILE",
    "TARGETS_DIR",
    "ScrapeSettings",
    "region_file_name",
    "render_scrape_config",
    "target_groups",
    "write_atomic",
    "write_scrape_config",
]
