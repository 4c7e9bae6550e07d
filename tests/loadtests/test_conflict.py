"""`edgesla scenario conflict` on the shared stack's real PostgreSQL masters (bi-directional
logical replication, the last-write-wins trigger): converging, and diverging — the check
must fail, naming the rows — while the trigger is disabled on one master."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from edgesla.loadtests.conflict import ConflictRun, Write
from edgesla.loadtests.conflict_check import newest_writes
from edgesla.stack.layout import Layout
from tests.helpers import edgesla

pytestmark = [pytest.mark.stack]


def _conflict(stack: Layout, out: Path, settle: str) -> tuple[int, dict[str, Any], str]:
    result = edgesla(
        "scenario",
        "conflict",
        "--config",
        str(stack.pop_config),
        "--duration",
        "2s",
        "--rate",
        "20",
        "--rows",
        "10",
        "--settle",
        settle,
        "--out",
        str(out),
        timeout=120,
    )
    document = json.loads((out / "conflict.json").read_text())
    return result.returncode, document, result.stderr


def test_diverges_without_the_trigger_then_converges_with_it(
    stack: Layout, pg_b: psycopg.Connection, tmp_path: Path
) -> None:
    pg_b.execute("ALTER TABLE public.subscriber DISABLE TRIGGER subscriber_lww")
    try:
        code, broken, said = _conflict(stack, tmp_path / "broken", "2s")
    finally:
        pg_b.execute("ALTER TABLE public.subscriber ENABLE ALWAYS TRIGGER subscriber_lww")
    assert code == 1, said
    assert broken["verdict"] == "FAIL"
    assert broken["divergent_rows"], broken
    row, states = next(iter(broken["divergent_rows"].items()))
    assert f"divergent {row}: pg-a=" in said
    assert set(states) == {"pg-a", "pg-b"}
    assert "FAIL: masters did not agree within 2s" in said

    # the trigger back: the same rows written again converge on their newest write (and the
    # shared stack is whole again for the tests after this one)
    code, healthy, said = _conflict(stack, tmp_path / "healthy", "10s")
    assert code == 0, said
    assert healthy["verdict"] == "PASS"
    writes = healthy["writes"]
    assert writes["planned"] == 80
    assert writes["planned"] == writes["applied"] + writes["refused"] + writes["failed"]
    assert (healthy["divergent_rows"], healthy["stale_rows"]) == ({}, {})
    assert healthy["divergent_rows_by_table"] == {
        "public.subscriber": 0,
        "public.billing_account": 0,
    }
    assert "writes: 80 planned = " in said


def test_the_newest_write_is_ordered_by_time_then_node() -> None:
    t = datetime.fromisoformat("2026-12-01T00:00:00+00:00")
    a, b = Write("r", "pg-a", t, "a"), Write("r", "pg-b", t, "b")
    run = ConflictRun(("r",), planned=[a, b], failed=[(b, "pg-b: down")])
    assert newest_writes(run)["r"] is a  # a failed write never happened
    run.failed = []
    assert newest_writes(run)["r"] is b  # a tie in time: the node name decides, as the trigger does
