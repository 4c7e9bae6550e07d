"""edgesla.atomic.write_atomic: the old file or the new one, never half; the reason named."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edgesla._errors import ConfigError
from edgesla.atomic import write_atomic


def test_replaces_the_file_whole_readable_by_others(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.yml"]  # no temporary left


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_an_unwritable_directory_is_named_and_the_old_file_stays(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("old\n")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=r"rules\.yml: cannot write .*choose a directory"):
            write_atomic(path, "new\n")
    finally:
        tmp_path.chmod(0o755)
    assert path.read_text() == "old\n"


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write"):
        write_atomic(tmp_path / "nowhere" / "rules.yml", "new\n")
