"""The ``parse_only`` marker: PromQL that must parse but cannot return series on the local
stack yet. Listed with its reason at the end of every run, so none is skipped silently."""

from __future__ import annotations

import pytest

_PARSE_ONLY: list[tuple[str, str]] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "parse_only(reason): PromQL checked to parse and evaluate, not to return "
        "series, because the local stack cannot feed it yet (the reason says why)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("parse_only")
        if marker is not None:
            _PARSE_ONLY.append((item.nodeid.split("::")[-1], str(marker.args[0])))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _PARSE_ONLY:
        return
    terminalreporter.section("dashboards: PromQL checked parse-only")
    for reason in sorted({reason for _, reason in _PARSE_ONLY}):
        names = [name for name, r in _PARSE_ONLY if r == reason]
        terminalreporter.write_line(f"{len(names)} x {reason}")
        for name in names:
            terminalreporter.write_line(f"    {name}")
