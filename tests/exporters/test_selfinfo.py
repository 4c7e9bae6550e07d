"""build_info and the process metrics, on a fresh registry."""

from __future__ import annotations

import platform
import sys
import time

from prometheus_client import CollectorRegistry

from edgesla import __version__
from edgesla.exporters.selfinfo import build_info, runtime_collectors


def test_build_info_is_one_with_the_version_in_labels() -> None:
    registry = CollectorRegistry()
    registry.register(build_info("pop-a", "eu"))
    labels = {"pop": "pop-a", "region": "eu", "version": __version__, "revision": "unknown",
              "branch": "unknown", "pythonversion": platform.python_version(),
              "pythonimplementation": platform.python_implementation(),
              "os": sys.platform, "arch": platform.machine()}  # fmt: skip
    assert registry.get_sample_value("edgesla_exporter_build_info", labels) == 1.0


def test_process_metrics_describe_this_process() -> None:
    registry = CollectorRegistry()
    fixed, live = runtime_collectors()
    for collector in [*fixed, *live]:
        registry.register(collector)
    started = registry.get_sample_value("process_start_time_seconds")
    assert started is not None
    assert started <= time.time()
    rss = registry.get_sample_value("process_resident_memory_bytes")
    assert rss is not None
    assert rss > 1e6
    assert (registry.get_sample_value("process_open_fds") or 0) >= 3
    assert registry.get_sample_value("process_cpu_seconds_total") is not None
    assert (
        registry.get_sample_value(
            "python_info",
            {
                "implementation": platform.python_implementation(),
                "major": "3",
                "minor": platform.python_version_tuple()[1],
                "patchlevel": platform.python_version_tuple()[2],
                "version": platform.python_version(),
            },
        )
        == 1.0
    )
