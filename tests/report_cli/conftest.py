"""A real Prometheus holding November 2025 of a small fleet (``month_data``), and the fleet
inventory that names its PoPs (one of them silent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backfill import served_backfill
from tests.ports import port
from tests.report_cli import month_data

PORTS = range(port(480), port(490))


@pytest.fixture(scope="session")
def month_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    text, _ = month_data.openmetrics()
    root = tmp_path_factory.mktemp("month-prom")
    with served_backfill(root, text, PORTS, max_block="2000h") as url:
        yield url


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(month_data.FLEET, encoding="utf-8")
    return path
