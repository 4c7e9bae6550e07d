"""Pools are module state of edgesla.probes._pg: close them after each test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edgesla.probes import _pg


@pytest.fixture(autouse=True, scope="module")
def _close_pools() -> Iterator[None]:
    """Pools are module state: never let one outlive the tests that made it."""
    yield
    _pg.close_all()
