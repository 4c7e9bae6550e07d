"""Fixtures: one real local PoP stack shared by the tests that only read or write data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from edgesla.report.inputs import rollups
from edgesla.stack.layout import Layout
from tests import month_data
from tests.backfill import served_backfill
from tests.helpers import started_stack, teardown_stack
from tests.ports import port

#: Ports of the shared test stack; other tests use other bases so stacks never collide,
#: and none collides with the demo stack's default (19400).
#: EDGESLA_TEST_BASE_PORT moves it, so two test runs can share the machine.
SHARED_BASE_PORT = port(0)
SHARED_SUBSCRIBERS = 2_000


def pytest_runtest_setup(item: pytest.Item) -> None:
    """`make check` runs on pytest-xdist workers; the stack tests cannot: each worker would
    start its own session stack on the same fixed ports."""
    if os.environ.get("PYTEST_XDIST_WORKER") and item.get_closest_marker("stack"):
        pytest.fail(
            "a stack test under pytest -n: the stack tests share one session stack and fixed "
            "ports; run them in one process (`make test`, or pytest without -n)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def stack() -> Iterator[Layout]:
    with started_stack("shared", SHARED_BASE_PORT, SHARED_SUBSCRIBERS) as layout:
        yield layout


def pg(layout: Layout, node: str) -> psycopg.Connection:
    return psycopg.connect(
        f"host=127.0.0.1 port={layout.pg_port(node)} dbname=edgesla user=postgres",
        autocommit=True,
    )


@pytest.fixture
def pg_a(stack: Layout) -> Iterator[psycopg.Connection]:
    with pg(stack, "pg-a") as conn:
        yield conn


@pytest.fixture
def pg_b(stack: Layout) -> Iterator[psycopg.Connection]:
    with pg(stack, "pg-b") as conn:
        yield conn


@pytest.fixture
def state_dir_factory() -> Iterator[list[Path]]:
    """State dirs made through it are torn down (stack stopped, dir removed) afterwards."""
    made: list[Path] = []
    yield made
    for path in made:
        teardown_stack(path)


@pytest.fixture(scope="session")
def month_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding November 2025 of a small fleet (``tests/month_data.py``)
    and the report roll-ups recorded over it by promtool (the raw path is tested with them
    switched off: ``Engine(..., rollups=False)``)."""
    text, _ = month_data.openmetrics()
    root = tmp_path_factory.mktemp("month-prom")
    with served_backfill(
        root,
        text,
        range(port(480), port(490)),
        max_block="2000h",
        rules=[rollups.rule_group()],
        rules_span=(month_data.FIRST, month_data.LAST),
    ) as url:
        yield url
