"""`edgesla stack stop | start | restart NAME`, and `status` and `down` telling the truth after
a component was restarted — by the CLI or by hand — on a private stack of real servers, with
VictoriaMetrics (``stack up --with-victoria-metrics``) fed by its Prometheus.

The stack is shared by the tests of this module (starting one takes ~10 s); each test leaves
every component running, and the `down` test, which ends it, is last (the fixture brings the
stack up again for any test that runs after it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from edgesla.stack import prometheus
from edgesla.stack.binaries import find_binaries
from edgesla.stack.layout import Layout, component_names
from edgesla.stack.postgres import PG_SYSTEM_USER
from tests.helpers import (
    edgesla,
    eventually,
    make_state_dir,
    processes_using,
    stack_up,
    teardown_stack,
)
from tests.ports import port
from tests.victoriametrics import same_samples

pytestmark = pytest.mark.stack

BASE_PORT = port(854)  # base+0..14 (VictoriaMetrics: base+14)
NAMES = component_names(victoria_metrics=True)


@pytest.fixture(scope="module")
def ops_dir() -> Iterator[Path]:
    state_dir = make_state_dir("ops")
    try:
        yield state_dir
    finally:
        teardown_stack(state_dir)


@pytest.fixture
def ops_stack(ops_dir: Path) -> Iterator[Layout]:
    """The module's stack, up (started, or found running); every component running after."""
    up = stack_up(ops_dir, BASE_PORT, "--with-victoria-metrics", subscribers=200)
    # 1: running, but not every component healthy yet (the self-care service needs a few
    # requests to drop the pooled connections a PostgreSQL restart broke)
    assert up.returncode in (0, 1), up.stdout + up.stderr
    eventually(lambda: _all_up(ops_dir), timeout=60, interval=1)
    yield Layout(ops_dir, BASE_PORT)
    if (ops_dir / "stack.json").exists():
        for component in _status(ops_dir)["components"]:
            if component["pid"] is None:
                _stack("start", component["name"], ops_dir)


def _stack(*args: str | Path) -> subprocess.CompletedProcess[str]:
    *rest, state_dir = args
    return edgesla("stack", *map(str, rest), "--state-dir", str(state_dir), "--json")


def _status(state_dir: Path) -> dict[str, Any]:
    return dict(json.loads(_stack("status", state_dir).stdout))


def _component(state_dir: Path, name: str) -> dict[str, Any]:
    return next(c for c in _status(state_dir)["components"] if c["name"] == name)


def _recorded_pid(state_dir: Path, name: str) -> int:
    state = json.loads((state_dir / "stack.json").read_text())
    return int(next(c["pid"] for c in state["components"] if c["name"] == name))


def _all_up(state_dir: Path) -> bool:
    return _stack("status", state_dir).returncode == 0


def _pg_ctl(layout: Layout, node: str, *args: str) -> None:
    """pg_ctl on the node's data dir, as the user PostgreSQL runs as (edgesla-pg under root)."""
    argv = [str(find_binaries().pg_bin_dir / "pg_ctl"), "-D", str(layout.data_dir / node), *args]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", PG_SYSTEM_USER, "--", *argv]
    subprocess.run(argv, check=True, capture_output=True, timeout=60)


def _restart_by_hand(layout: Layout, node: str) -> None:
    """What an operator would do: pg_ctl stop, then pg_ctl start (log beside the data)."""
    _pg_ctl(layout, node, "-m", "fast", "-w", "stop")
    _pg_ctl(layout, node, "-l", str(layout.data_dir / node / "by-hand.log"), "-w", "start")


def _marker(layout: Layout, node: str) -> str:
    sid = f"ops-{os.urandom(4).hex()}"
    dsn = f"host=127.0.0.1 port={layout.pg_port(node)} dbname=edgesla user=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.subscriber (subscriber_id, account_type, service_level, "
            "full_name) VALUES (%s, 'residential', 'fiber_300', 'Ops Test')",
            (sid,),
        )
    return sid


def _has(layout: Layout, node: str, sid: str) -> bool:
    dsn = f"host=127.0.0.1 port={layout.pg_port(node)} dbname=edgesla user=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        query = "SELECT 1 FROM public.subscriber WHERE subscriber_id = %s"
        return conn.execute(query, (sid,)).fetchone() is not None


# --- bad input ----------------------------------------------------------------------------


def test_unknown_component_is_refused_with_the_names_and_nothing_changes(
    ops_stack: Layout,
) -> None:
    before = (ops_stack.state_dir / "stack.json").read_bytes()
    for verb in ("stop", "start", "restart"):
        result = edgesla("stack", verb, "pg-c", "--state-dir", str(ops_stack.state_dir))
        assert result.returncode == 2, result.stderr
        assert "unknown component 'pg-c'" in result.stderr
        assert ", ".join(NAMES) in result.stderr
    assert (ops_stack.state_dir / "stack.json").read_bytes() == before
    assert _all_up(ops_stack.state_dir)


def test_an_operation_without_a_stack_says_how_to_start_one(tmp_path: Path) -> None:
    result = edgesla("stack", "restart", "pg-b", "--state-dir", str(tmp_path))
    assert result.returncode == 2
    assert f"no stack recorded in {tmp_path}" in result.stderr
    assert "edgesla stack up" in result.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "stack.lock"]  # nothing else was made


def test_no_stack_recorded_but_a_process_in_its_data_dir_nothing_is_deleted_or_signalled(
    state_dir_factory: list[Path],
) -> None:
    state_dir = make_state_dir("ops-orphan")
    state_dir_factory.append(state_dir)
    data = state_dir / "data" / "pg-a"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("18\n")
    orphan = subprocess.Popen(["sleep", "300"], cwd=data)
    try:
        up = edgesla("stack", "up", "--state-dir", str(state_dir), "--base-port", str(BASE_PORT))
        assert up.returncode == 2, up.stdout + up.stderr
        assert f"pid {orphan.pid} (sleep 300)" in up.stderr
        assert "Nothing was deleted or started" in up.stderr
        down = edgesla("stack", "down", "--state-dir", str(state_dir))
        assert down.returncode == 1, down.stdout + down.stderr
        assert "nothing to stop" in down.stdout
        assert f"pid {orphan.pid} (sleep 300)" in down.stderr
        assert orphan.poll() is None
        assert (data / "PG_VERSION").exists()
    finally:
        orphan.kill()
        orphan.wait(10)


def test_start_of_a_running_component_is_a_no_op_with_a_message(ops_stack: Layout) -> None:
    pid = _component(ops_stack.state_dir, "mongo")["pid"]
    result = _stack("start", "mongo", ops_stack.state_dir)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["changed"] is False
    assert doc["message"] == f"mongo is already running (pid {pid}); nothing to do"
    assert _component(ops_stack.state_dir, "mongo")["pid"] == pid


# --- restarts -------------------------------------------------------------------------------


def test_restart_pg_b_by_the_cli_runs_a_new_process_on_the_same_data(ops_stack: Layout) -> None:
    sid = _marker(ops_stack, "pg-b")
    old = _component(ops_stack.state_dir, "pg-b")["pid"]
    result = _stack("restart", "pg-b", ops_stack.state_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    new = doc["component"]["pid"]
    assert new != old
    assert doc["message"] == f"restarted pg-b (pid {old} → pid {new})"
    assert doc["component"]["state"] == "up", doc  # it returns once both masters replicate
    assert doc["component"]["detail"].endswith(", replicating")
    assert _recorded_pid(ops_stack.state_dir, "pg-b") == new  # the state file follows
    assert _gone(old)
    assert _has(ops_stack, "pg-b", sid)  # same data dir, nothing re-initialised
    sid_after = _marker(ops_stack, "pg-b")  # and replication runs both ways again
    eventually(lambda: _has(ops_stack, "pg-a", sid_after), timeout=30)
    # the self-care service drops its broken pooled connections one request at a time
    eventually(lambda: _all_up(ops_stack.state_dir), timeout=30, interval=1)


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, exited but not yet reaped by init, does not)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


def _gone(pid: int) -> bool:
    """``pid`` has ended within a few seconds (a daemonised postmaster's last children may
    outlive the CLI's return by a moment on a loaded box)."""
    return bool(eventually(lambda: not _pid_alive(pid), timeout=10))


def test_pg_b_restarted_by_hand_is_up_in_status_under_its_new_pid(ops_stack: Layout) -> None:
    recorded = _recorded_pid(ops_stack.state_dir, "pg-b")
    _restart_by_hand(ops_stack, "pg-b")
    pg_b = _component(ops_stack.state_dir, "pg-b")
    assert pg_b["pid"] != recorded
    postmaster_pid = (ops_stack.data_dir / "pg-b" / "postmaster.pid").read_text().split()[0]
    assert pg_b["pid"] == int(postmaster_pid)
    assert pg_b["up"] is True, pg_b
    assert f"not the recorded {recorded}" in pg_b["detail"]
    eventually(lambda: _all_up(ops_stack.state_dir), timeout=30, interval=1)
    # and the CLI's restart stops the hand-started process, not the long-gone recorded one
    result = _stack("restart", "pg-b", ops_stack.state_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _gone(pg_b["pid"])


# --- stop / start ---------------------------------------------------------------------------


def test_stop_and_start_etcd2_the_cluster_keeps_quorum(ops_stack: Layout) -> None:
    result = _stack("stop", "etcd2", ops_stack.state_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["message"] == "stopped etcd2"
    try:
        status = _stack("status", ops_stack.state_dir)
        assert status.returncode == 1
        components = {c["name"]: c for c in json.loads(status.stdout)["components"]}
        assert (components["etcd2"]["state"], components["etcd2"]["up"]) == ("stopped", False)
        assert components["etcd2"]["detail"] == "stopped (edgesla stack stop)"
        assert components["etcd2"]["pid"] is None
        for member in ("etcd1", "etcd3"):  # two of three: still a leader, still writable
            assert components[member]["detail"] == "healthy, has leader"
        put = requests.post(
            f"http://127.0.0.1:{ops_stack.etcd_client_port('etcd1')}/v3/kv/put",
            json={"key": "ZWRnZXNsYS1vcHM=", "value": "b2s="},
            timeout=10,
        )
        assert put.status_code == 200
        table = edgesla(
            "stack", "status", "--state-dir", str(ops_stack.state_dir), env={"COLUMNS": "200"}
        )
        assert "stopped (edgesla stack stop)" in table.stdout
        again = _stack("stop", "etcd2", ops_stack.state_dir)
        assert json.loads(again.stdout)["message"] == "etcd2 was not running; nothing to stop"
        # `up` does not call a component stopped on purpose a stale leftover
        up = stack_up(ops_stack.state_dir, BASE_PORT, "--json")
        assert up.returncode == 1, up.stderr
        assert json.loads(up.stdout)["already_running"] is True
    finally:
        started = _stack("start", "etcd2", ops_stack.state_dir)
    assert started.returncode == 0, started.stdout + started.stderr
    doc = json.loads(started.stdout)
    assert doc["changed"] is True
    assert (doc["component"]["state"], doc["component"]["detail"]) == ("up", "healthy, has leader")
    assert _all_up(ops_stack.state_dir)


# --- VictoriaMetrics ------------------------------------------------------------------------


def test_victoria_metrics_is_listed_with_its_url_holds_what_prometheus_holds_and_restarts(
    ops_stack: Layout,
) -> None:
    vm = _component(ops_stack.state_dir, "victoriametrics")
    url = f"http://127.0.0.1:{BASE_PORT + 14}"
    assert (vm["url"], vm["kind"], vm["state"]) == (url, "victoriametrics", "up")
    assert url in vm["detail"]  # the terminal's table shows it too
    config = (ops_stack.state_dir / "prometheus.yml").read_text()
    assert f"remote_write:\n- url: {url}/api/v1/write\n" in config
    eventually(lambda: same_samples(prometheus.url(ops_stack), url), timeout=30, interval=0.5)
    assert _stack("stop", "victoriametrics", ops_stack.state_dir).returncode == 0
    assert _component(ops_stack.state_dir, "victoriametrics")["state"] == "stopped"
    started = _stack("start", "victoriametrics", ops_stack.state_dir)
    assert started.returncode == 0, started.stdout + started.stderr
    # Prometheus's remote_write retried: what was scraped meanwhile arrives all the same
    eventually(lambda: same_samples(prometheus.url(ops_stack), url), timeout=30, interval=0.5)


# --- down (ends the module's stack: keep it last) -------------------------------------------


def test_down_after_a_hand_restart_stops_it_and_deletes_data_only_when_nothing_runs(
    ops_stack: Layout,
) -> None:
    state_dir = ops_stack.state_dir
    _restart_by_hand(ops_stack, "pg-b")
    by_hand = _component(state_dir, "pg-b")["pid"]
    assert by_hand != _recorded_pid(state_dir, "pg-b")
    # something else lives in a data dir: an operator's shell, say
    squatter = subprocess.Popen(["sleep", "300"], cwd=ops_stack.data_dir / "etcd1")
    try:
        result = edgesla("stack", "down", "--state-dir", str(state_dir))
        assert result.returncode == 1, result.stdout + result.stderr
        stopped = "stopped: " + ", ".join(NAMES)
        assert stopped in result.stdout
        assert _gone(by_hand)  # the hand-started postmaster was stopped too
        assert f"data kept: pid {squatter.pid} (sleep 300)" in result.stderr
        assert squatter.poll() is None  # a process merely sitting there is never signalled
        assert (ops_stack.data_dir / "pg-b").is_dir()
        assert (state_dir / "stack.json").exists()
    finally:
        squatter.send_signal(signal.SIGTERM)
        squatter.wait(10)
    again = edgesla("stack", "down", "--state-dir", str(state_dir))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "stopped: nothing" in again.stdout  # nothing ran: nothing is claimed as stopped
    assert "not running, nothing to stop: " + ", ".join(NAMES) in again.stdout
    assert not ops_stack.data_dir.exists()
    assert not (state_dir / "stack.json").exists()
    assert processes_using(state_dir) == []
