"""`edgesla demo` (what `make demo` runs) ends with every component up and every probe ok."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import edgesla, make_state_dir, processes_using

pytestmark = pytest.mark.stack


def test_demo_brings_the_stack_up_and_every_probe_succeeds(
    state_dir_factory: list[Path],
) -> None:
    state_dir = make_state_dir("demo")
    state_dir_factory.append(state_dir)
    result = edgesla("demo", "--state-dir", str(state_dir), "--base-port", "19860",
                     "--subscribers", "300")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stack started" in result.stdout
    assert "DOWN" not in result.stdout
    assert "FAIL" not in result.stdout
    for target in ("subscribers-lookup", "pg-multimaster", "etcd"):
        assert target in result.stdout
    assert edgesla("stack", "status", "--state-dir", str(state_dir)).returncode == 0
    assert edgesla("stack", "down", "--state-dir", str(state_dir)).returncode == 0
    assert processes_using(state_dir) == []
