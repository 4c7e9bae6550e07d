"""Reload the PoP config while running: SIGHUP and ``POST /-/reload``, as Prometheus does.

    Reloader(exporter, path).reload("SIGHUP")   -> None, or why the new config was refused

A reload reads the file again, checks it as a start would (it validates, and every file and
variable its targets name can be read) and hands it to :meth:`Exporter.reload`, which keeps
the counters of the targets that stay. A config that fails any check is refused whole: the
old one keeps running, the reason is logged and exported:

    edgesla_exporter_config_last_reload_successful                 1, or 0 after a refusal
    edgesla_exporter_config_last_reload_success_timestamp_seconds  the start or last good one
    edgesla_exporter_config_last_reload_failure_reason{reason}     1 for the last refusal's
        reason — config (does not load or validate), sources (names what cannot be read),
        identity (another pop or region) — 0 for the others, all 0 after a good reload
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.config import PopConfig, load_config
from edgesla.exporters.exporter import Exporter
from edgesla.secrets import source_problems

__all__ = ["REASONS", "Reloader", "require_sources"]

log = logging.getLogger("edgesla.exporter")

#: Why a reload was refused (label values of the failure-reason gauge).
REASONS: Final = ("config", "sources", "identity")


def require_sources(config: PopConfig, path: Path, doing: str = "cannot start") -> PopConfig:
    """``config``, once every file and variable its targets name can be read; ConfigError else.

    Probes read them again on every run (a rotated password is picked up), but a typo in a
    path should stop a deployment, not start an exporter that reports ``config`` forever.
    """
    problems = source_problems(config.targets)
    if problems:
        lines = "\n".join(f"  {line}" for line in problems)
        raise ConfigError(f"{path}: {doing}: what these targets name cannot be read:\n{lines}")
    return config


class Reloader:
    """Reloads ``path`` into ``exporter``, one reload at a time; exports how the last went."""

    def __init__(self, exporter: Exporter, path: Path) -> None:
        self._exporter, self._path = exporter, path
        self._lock = threading.Lock()
        self.successful = True
        self.success_time = time.time()
        self.failure: str | None = None  # one of REASONS
        self.collector: Collector = _ReloadCollector(
            self, exporter.config.pop, exporter.config.region
        )

    def reload(self, trigger: str) -> str | None:
        """Reload now; None when the new config runs, else the reason it was refused."""
        with self._lock:
            reason, config = "config", None
            try:
                config = load_config(self._path)
                reason = "sources"
                require_sources(config, self._path, "reload refused")
                reason = "identity"
                serving = self._exporter.config.exporter
                added, changed, removed = self._exporter.reload(config)
            except ConfigError as exc:
                self.successful, self.failure = False, reason
                log.error(
                    "config reload (%s) refused, the previous config keeps running: %s",
                    trigger,
                    exc,
                )
                return str(exc)
            except Exception as exc:  # a bug: refuse the reload, keep the exporter running
                self.successful, self.failure = False, reason
                log.exception(
                    "config reload (%s) failed, the previous config keeps running", trigger
                )
                return f"{type(exc).__name__}: {exc}"
            self.successful, self.failure, self.success_time = True, None, time.time()
        log.info(
            "config reloaded (%s) from %s: %d targets; added: %s; changed: %s; removed: %s",
            trigger,
            self._path,
            len(config.targets),
            ", ".join(added) or "none",
            ", ".join(changed) or "none",
            ", ".join(removed) or "none",
        )
        if config.exporter != serving:
            log.warning(
                "config reload (%s): the exporter: settings (listen, max_concurrency) "
                "changed; they take effect at the next start",
                trigger,
            )
        return None


class _ReloadCollector(Collector):
    def __init__(self, reloader: Reloader, pop: str, region: str) -> None:
        self._reloader, self._labels = reloader, [pop, region]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        r, names = self._reloader, [conv.LABEL_POP, conv.LABEL_REGION]
        ok = GaugeMetricFamily(
            conv.EXPORTER_CONFIG_LAST_RELOAD_SUCCESSFUL,
            "1 when the last config reload (or the start) succeeded, 0 when "
            "the last reload was refused.",
            labels=names,
        )
        ok.add_metric(self._labels, 1.0 if r.successful else 0.0)
        yield ok
        when = GaugeMetricFamily(
            conv.EXPORTER_CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP,
            "Unix time of the last successful config reload, or of the start.",
            labels=names,
        )
        when.add_metric(self._labels, r.success_time)
        yield when
        why = GaugeMetricFamily(
            conv.EXPORTER_CONFIG_LAST_RELOAD_FAILURE_REASON,
            "1 for the reason the last reload was refused (config: does not load or validate; "
            "sources: names what cannot be read; identity: another pop or region), else 0.",
            labels=[*names, conv.LABEL_REASON],
        )
        for reason in REASONS:
            why.add_metric([*self._labels, reason], 1.0 if r.failure == reason else 0.0)
        yield why
