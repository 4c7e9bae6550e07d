"""The ``scrape_configs`` snippet that makes Prometheus scrape every PoP's exporter.

One job, ``edgesla-exporter`` (``conventions.JOB_EXPORTER``), whose targets come from the
per-region file-SD files (``targets/<region>.json``) through one glob, so adding a region or a
PoP needs no change to the snippet: Prometheus re-reads the files on change and every
``refresh_interval`` as a fallback.

    settings (validated) + fleet → snippet text + region files → written atomically to --out
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.deploy.files import ensure_dir, write_atomic
from edgesla.deploy.targets import region_file_name, render_region, target_groups
from edgesla.durations import format_duration
from edgesla.fleet import Fleet

__all__ = [
    "SCRAPE_CONFIG_FILE",
    "TARGETS_DIR",
    "ScrapeSettings",
    "render_scrape_config",
    "write_scrape_config",
]

SCRAPE_CONFIG_FILE = "scrape-config.yml"
TARGETS_DIR = "targets"
_HEADER = (
    "# Written by `edgesla scrape-config` from the fleet inventory. DO NOT EDIT: edit the\n"
    "# fleet file and run the command again. Paste the list below under `scrape_configs:` in\n"
    "# prometheus.yml (or merge the whole document into it).\n"
)


@dataclass(frozen=True)
class ScrapeSettings:
    """How Prometheus scrapes the exporters; ``check()`` rejects what Prometheus would."""

    scrape_interval: float = 15.0
    scrape_timeout: float = 10.0
    scheme: Literal["http", "https"] = "http"
    #: CA bundle, as a path on the Prometheus host, to verify the exporters' certificates
    tls_ca_file: str | None = None
    basic_auth_user: str | None = None
    #: file holding the basic-auth password, as a path on the Prometheus host
    basic_auth_password_file: str | None = None
    #: how often Prometheus re-reads the target files even without a change notification
    refresh_interval: float = 60.0
    #: the targets directory as Prometheus sees it (default: where they are written)
    targets_path: str | None = None

    def check(self) -> ScrapeSettings:
        if self.scrape_interval <= 0 or self.scrape_timeout <= 0:
            raise ConfigError("--scrape-interval and --scrape-timeout must be above 0")
        if self.scrape_timeout >= self.scrape_interval:
            raise ConfigError(
                f"--scrape-timeout {format_duration(self.scrape_timeout)} must be below "
                f"--scrape-interval {format_duration(self.scrape_interval)}, or scrapes of a "
                "slow exporter would overlap; lower the timeout or raise the interval"
            )
        if self.tls_ca_file and self.scheme != "https":
            raise ConfigError("--tls-ca is only used with --scheme https; add --scheme https")
        if (self.basic_auth_user is None) != (self.basic_auth_password_file is None):
            raise ConfigError(
                "--basic-auth-user and --basic-auth-password-file go together; give both "
                "(the password is read by Prometheus from that file, never written here)"
            )
        return self


def render_scrape_config(settings: ScrapeSettings, targets_path: str) -> str:
    """The snippet: ``scrape_configs`` with the exporter job reading ``targets_path/*.json``."""
    job: dict[str, Any] = {
        "job_name": conv.JOB_EXPORTER,
        "scrape_interval": format_duration(settings.scrape_interval),
        "scrape_timeout": format_duration(settings.scrape_timeout),
        "metrics_path": "/metrics",
        "scheme": settings.scheme,
    }
    if settings.tls_ca_file:
        job["tls_config"] = {"ca_file": settings.tls_ca_file}
    if settings.basic_auth_user is not None:
        job["basic_auth"] = {
            "username": settings.basic_auth_user,
            "password_file": settings.basic_auth_password_file,
        }
    # The exporter labels its series with pop and region from its own PoP config; the same
    # target labels from the fleet would turn those into exported_pop / exported_region.
    # The fleet inventory is the source of truth: drop the exporter's copies.
    job["metric_relabel_configs"] = [
        {"action": "labeldrop", "regex": f"exported_({conv.LABEL_POP}|{conv.LABEL_REGION})"}
    ]
    job["file_sd_configs"] = [
        {
            "files": [f"{targets_path.rstrip('/')}/*.json"],
            "refresh_interval": format_duration(settings.refresh_interval),
        }
    ]
    return _HEADER + yaml.safe_dump({"scrape_configs": [job]}, sort_keys=False)


def write_scrape_config(fleet: Fleet, settings: ScrapeSettings, out_dir: Path) -> list[Path]:
    """Write the snippet and one target file per region into ``out_dir``; return the paths.

    Region files of regions no longer in the fleet are removed, so the glob never scrapes a
    PoP that left the inventory. Every file is replaced atomically.
    """
    settings.check()
    targets_dir = out_dir / TARGETS_DIR
    ensure_dir(out_dir, "--out")
    ensure_dir(targets_dir, "--out")
    written = []
    groups = target_groups(fleet)
    for region, region_groups in groups.items():
        path = targets_dir / region_file_name(region)
        write_atomic(path, render_region(region_groups))
        written.append(path)
    current = {region_file_name(r) for r in groups}
    for stale in targets_dir.glob("*.json"):
        if stale.name not in current:
            stale.unlink()
    targets_path = settings.targets_path or str(targets_dir.absolute())
    snippet = out_dir / SCRAPE_CONFIG_FILE
    write_atomic(snippet, render_scrape_config(settings, targets_path))
    return [snippet, *written]
