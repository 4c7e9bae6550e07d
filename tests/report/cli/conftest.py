"""The fleet inventory that names the month data's PoPs (one of them silent); the month's
Prometheus is ``month_prometheus`` in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import month_data


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(month_data.FLEET, encoding="utf-8")
    return path
