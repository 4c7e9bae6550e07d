"""Credentials come only from files or environment variables, and are never printed.

    read_password(file, env, where)   the password a target names, read now (rotation works)
    require_readable(path, key, where)  ConfigError naming the key and the file, else nothing
    source_problems(targets)          every unreadable file or unset variable the targets name,
                                      one line each: what ``edgesla exporter`` and ``edgesla
                                      probe`` check before they start

The files a target may name: ``password_file``, ``token_file`` (credentials) and
``sslrootcert``, ``tls_ca_file``, ``ca_file``, ``cert_file``, ``key_file`` (TLS); the variable:
``password_env``. A PostgreSQL replication target names them per node.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from edgesla._errors import ConfigError

__all__ = ["FILE_KEYS", "read_password", "require_readable", "source_problems"]

#: Every key of a target (or of a PostgreSQL node) that names a file edgesla must read.
FILE_KEYS = ("password_file", "token_file", "sslrootcert", "tls_ca_file", "ca_file",
             "cert_file", "key_file")  # fmt: skip
_FIX = "create it, or fix its permissions so the exporter's user can read it"


def read_password(password_file: Path | None, password_env: str | None, where: str) -> str | None:
    """The password a target names, or None when it names none.

    ConfigError (naming ``where`` and the file or variable, never the value) when the
    source is missing or unreadable.
    """
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise ConfigError(
                f"{where}: password_file {password_file}: {exc.strerror}; {_FIX}"
            ) from exc
    if password_env is not None:
        value = os.environ.get(password_env)
        if value is None:
            raise ConfigError(
                f"{where}: password_env {password_env} is not set in the exporter's environment"
            )
        return value
    return None


def require_readable(path: Path | None, key: str, where: str) -> None:
    """Nothing when ``path`` is None or can be opened and read; else a ConfigError that names
    ``where``, the key and the file (TLS libraries often say only "No such file")."""
    if path is None:
        return
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ConfigError(f"{where}: {key} {path}: {exc.strerror or exc}; {_FIX}") from exc


def _holders(target: Any) -> Iterator[tuple[str, Any]]:
    """(where, object with the keys): the target, or each node of a replication target."""
    where = f"target {target.name!r}"
    nodes = getattr(target, "nodes", None)
    if nodes:
        for node in nodes:
            yield f"{where} node {node.name}", node
    else:
        yield where, target


def source_problems(targets: Iterable[Any]) -> list[str]:
    """One line per file the targets name that cannot be read, and per unset variable."""
    problems = []
    for target in targets:
        for where, holder in _holders(target):
            for key in FILE_KEYS:
                try:
                    require_readable(getattr(holder, key, None), key, where)
                except ConfigError as exc:
                    problems.append(str(exc))
            env = getattr(holder, "password_env", None)
            if env is not None and env not in os.environ:
                problems.append(f"{where}: password_env {env} is not set in this environment")
    return problems
