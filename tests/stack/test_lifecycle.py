"""Start-up and shutdown of whole stacks, and every way `stack up` refuses to start.

Each test runs its own stack in its own state dir, on its own ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
from pathlib import Path

import psutil
import pytest

from edgesla.stack.layout import COMPONENT_NAMES
from tests.helpers import edgesla, make_state_dir, processes_using, stack_up
from tests.ports import port

pytestmark = pytest.mark.stack


def _up(state_dir: Path, base_port: int, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = stack_up(state_dir, base_port, subscribers=200, env=env)
    return result.returncode, result.stdout, result.stderr


def _new_dir(made: list[Path], name: str) -> Path:
    path = make_state_dir(name)
    made.append(path)
    return path


def _assert_nothing_left(state_dir: Path) -> None:
    assert processes_using(state_dir) == []
    assert not (state_dir / "stack.json").exists()


def test_down_stops_every_process_it_started_and_nothing_remains(
    state_dir_factory: list[Path],
) -> None:
    state_dir = _new_dir(state_dir_factory, "down")
    code, _, err = _up(state_dir, port(100))
    assert code == 0, err
    doc = json.loads(edgesla("stack", "status", "--state-dir", str(state_dir), "--json").stdout)
    pids = [c["pid"] for c in doc["components"]]
    assert len(pids) == len(COMPONENT_NAMES)
    assert processes_using(state_dir)

    result = edgesla("stack", "down", "--state-dir", str(state_dir))
    assert result.returncode == 0, result.stderr
    assert "stopped: " + ", ".join(COMPONENT_NAMES) in result.stdout
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    _assert_nothing_left(state_dir)

    status = edgesla("stack", "status", "--state-dir", str(state_dir))
    assert status.returncode == 1
    assert "no stack recorded" in status.stderr
    again = edgesla("stack", "down", "--state-dir", str(state_dir))
    assert again.returncode == 0
    assert "nothing to stop" in again.stdout


def test_port_already_taken_is_named_and_nothing_starts(state_dir_factory: list[Path]) -> None:
    state_dir = _new_dir(state_dir_factory, "port")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port(128)))  # base + 8: Prometheus's port
        squatter.listen()
        code, _, err = _up(state_dir, port(120))
    assert code == 2
    assert f"port already taken: 127.0.0.1:{port(128)} (prometheus)" in err
    assert "--base-port" in err
    _assert_nothing_left(state_dir)


def test_missing_binary_is_named_with_how_to_get_it(state_dir_factory: list[Path]) -> None:
    state_dir = _new_dir(state_dir_factory, "nobin")
    code, _, err = _up(state_dir, port(140), env={"EDGESLA_ETCD": "/nonexistent/etcd"})
    assert code == 2
    assert "missing binary: EDGESLA_ETCD=/nonexistent/etcd not found" in err
    assert "etcd-server" in err
    assert "make setup" in err
    _assert_nothing_left(state_dir)


def test_postgresql_older_than_16_is_refused(state_dir_factory: list[Path], tmp_path: Path) -> None:
    """A stub `postgres --version` reporting 15.18 stands in for Debian's PostgreSQL 15, whose
    server is not installed here; only the version check is under test."""
    for tool in ("postgres", "initdb"):
        stub = tmp_path / tool
        stub.write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'\n")
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    state_dir = _new_dir(state_dir_factory, "pg15")
    code, _, err = _up(state_dir, port(160), env={"EDGESLA_PG_BINDIR": str(tmp_path)})
    assert code == 2
    assert "PostgreSQL 15.18" in err
    assert "too old" in err
    assert "PostgreSQL >= 16" in err
    _assert_nothing_left(state_dir)


def test_stale_state_dir_from_a_crashed_run_is_reported_then_cleared_by_down(
    state_dir_factory: list[Path],
) -> None:
    state_dir = _new_dir(state_dir_factory, "stale")
    code, _, err = _up(state_dir, port(180))
    assert code == 0, err
    doc = json.loads(edgesla("stack", "status", "--state-dir", str(state_dir), "--json").stdout)
    for component in doc["components"]:  # the machine "crashes": every server dies at once
        os.kill(component["pid"], signal.SIGKILL)

    code, _, err = _up(state_dir, port(180))
    assert code == 2
    assert "stale state in" in err
    assert "not running" in err
    assert f"edgesla stack down --state-dir {state_dir}" in err
    assert edgesla("stack", "status", "--state-dir", str(state_dir)).returncode == 1

    assert edgesla("stack", "down", "--state-dir", str(state_dir)).returncode == 0
    code, _, err = _up(state_dir, port(180))
    assert code == 0, err


def test_component_failing_midway_stops_everything_already_started(
    state_dir_factory: list[Path],
) -> None:
    state_dir = _new_dir(state_dir_factory, "midway")
    # the MongoDB-wire server "starts" and exits at once, after PostgreSQL and etcd are up
    code, _, err = _up(state_dir, port(200), env={"EDGESLA_MONGO_SERVER": "/bin/false"})
    assert code == 1
    assert "mongo exited during start-up" in err
    assert "stopping everything that was started" in err
    _assert_nothing_left(state_dir)
