"""What every Prometheus exporter says about itself: its build, and its process.

    build_info(pop, region)   edgesla_exporter_build_info{version, revision, branch,
                              pythonversion, pythonimplementation, os, arch, pop, region} 1
                              (node_exporter's build_info, with Python where it says Go)
    runtime_collectors()      (fixed, live): prometheus_client's python_info, which never
                              changes, and its process_* (CPU seconds, resident and virtual
                              memory, open and max fds, start time) and python_gc_*, read at
                              every scrape: the names every exporter's dashboards expect

revision and branch say ``unknown``: a Python package does not carry its commit.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from edgesla import __version__
from edgesla import conventions as conv

__all__ = ["build_info", "build_labels", "runtime_collectors"]


def build_labels() -> dict[str, str]:
    """The build_info labels besides pop and region."""
    return {
        "version": __version__,
        "revision": "unknown",
        "branch": "unknown",
        "pythonversion": platform.python_version(),
        "pythonimplementation": platform.python_implementation(),
        "os": sys.platform,
        "arch": platform.machine(),
    }


class _BuildInfo(Collector):
    def __init__(self, pop: str, region: str) -> None:
        self._labels = {conv.LABEL_POP: pop, conv.LABEL_REGION: region, **build_labels()}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            conv.EXPORTER_BUILD_INFO,
            "A metric with a constant '1' value labeled by version, revision, branch, and the "
            "Python version from which edgesla's exporter runs.",
            labels=list(self._labels),
        )
        family.add_metric(list(self._labels.values()), 1.0)
        yield family


def build_info(pop: str, region: str) -> Collector:
    return _BuildInfo(pop, region)


def runtime_collectors() -> tuple[list[Collector], list[Collector]]:
    """The Python and process collectors, (fixed, live), not registered anywhere yet."""
    # GCCollector registers itself somewhere; a throwaway registry it is
    live = [ProcessCollector(registry=None), GCCollector(registry=CollectorRegistry())]
    return [PlatformCollector(registry=None)], live
