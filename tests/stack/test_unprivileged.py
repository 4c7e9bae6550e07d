"""The product works for an ordinary user, not only for root.

When the suite runs as root (as CI does here), this test installs edgesla from this working
tree into a fresh virtualenv owned by the unprivileged user ``nobody`` (with Debian's own
python3, since the suite's interpreter may sit in root's home) and drives a whole stack
life cycle as that user. When the suite itself runs unprivileged, every other stack test
already proves it, and this one is skipped.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.ports import port

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
USER = "nobody"


def _as_user(home: Path, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", USER, "--", "env", f"HOME={home}", "PATH=/usr/bin:/bin", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=home,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="the suite already runs as an ordinary user")
def test_an_ordinary_user_runs_the_whole_stack_life_cycle() -> None:
    home = Path(tempfile.mkdtemp(prefix="edgesla-user-", dir="/tmp"))
    nobody = pwd.getpwnam(USER)
    try:
        shutil.copytree(
            REPO,
            home / "src",
            ignore=shutil.ignore_patterns(
                ".venv",
                ".git",
                ".edgesla*",
                "*.egg-info",
                "__pycache__",
                ".mypy_cache",
                ".ruff_cache",
                ".pytest_cache",
                "build",
            ),
        )
        for path in [home, *home.rglob("*")]:
            os.lchown(path, nobody.pw_uid, nobody.pw_gid)
        venv = home / "venv"
        install = _as_user(
            home,
            "sh",
            "-c",
            f"/usr/bin/python3 -m venv {venv} && {venv}/bin/pip install -q '{home / 'src'}[stack]'",
        )
        assert install.returncode == 0, install.stderr[-2000:]
        state = ["--state-dir", str(home / "state")]

        base = str(port(240))
        up = _as_user(
            home,
            f"{venv}/bin/edgesla",
            "stack",
            "up",
            *state,
            "--base-port",
            base,
            "--subscribers",
            "100",
            "--json",
        )
        assert up.returncode == 0, up.stderr
        assert json.loads(up.stdout)["up"] is True
        for name in ("pg-a", "etcd1", "mongo", "prometheus"):
            pid = next(c["pid"] for c in json.loads(up.stdout)["components"] if c["name"] == name)
            assert Path(f"/proc/{pid}").stat().st_uid == nobody.pw_uid
        assert _as_user(home, f"{venv}/bin/edgesla", "stack", "status", *state).returncode == 0
        # fault drills work unprivileged too: processes are found by port and data dir
        edgesla = f"{venv}/bin/edgesla"
        restart = _as_user(home, edgesla, "stack", "restart", "pg-a", *state, "--json")
        assert restart.returncode == 0, restart.stdout + restart.stderr
        assert json.loads(restart.stdout)["component"]["state"] == "up"
        stop = _as_user(home, edgesla, "stack", "stop", "etcd2", *state)
        assert stop.returncode == 0, stop.stderr
        status = _as_user(home, edgesla, "stack", "status", *state, "--json")
        assert status.returncode == 1
        etcd2 = next(c for c in json.loads(status.stdout)["components"] if c["name"] == "etcd2")
        assert etcd2["state"] == "stopped"
        start = _as_user(home, edgesla, "stack", "start", "etcd2", *state)
        assert start.returncode == 0, start.stdout + start.stderr
        down = _as_user(home, f"{venv}/bin/edgesla", "stack", "down", *state)
        assert down.returncode == 0, down.stderr
    finally:
        _as_user(
            home, f"{home}/venv/bin/edgesla", "stack", "down", "--state-dir", str(home / "state")
        )
        shutil.rmtree(home, ignore_errors=True)
