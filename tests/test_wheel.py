"""One installed package: the wheel holds edgesla and nothing else at the top of
site-packages; no code imports the top-level folders by their own names.

probes/, exporters/ and loadtests/ stay at the top of the repository (the project's map);
src/edgesla/{probes,exporters,loadtests} are symlinks to them (pyproject.toml says why).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("probes", "exporters", "loadtests")


@pytest.mark.slow
def test_the_wheel_installs_only_edgesla(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    for name in ("src", *FOLDERS):
        shutil.copytree(
            ROOT / name,
            tree / name,
            symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(tree),
            "--wheel-dir",
            str(tmp_path / "wheels"),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "wheels").glob("edgesla-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {
        "edgesla",
        wheel.name.split("-py")[0] + ".dist-info",
    }
    wanted = ["probes/registry.py", "exporters/exporter.py", "loadtests/edge_pop.py",
              "loadtests/slo-default.yaml", "loadtests/profiles/pop-default.yaml"]  # fmt: skip
    for module in wanted:
        assert f"edgesla/{module}" in names


def _top_level_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {n}"
            for n in names
            if n.split(".")[0] in FOLDERS
        ]
    return found


def test_nothing_imports_the_folders_by_their_top_level_names() -> None:
    trees = [ROOT / d for d in ("src", *FOLDERS, "tests", "benchmarks")]
    sources = [p for tree in trees for p in tree.rglob("*.py")]  # rglob does not follow symlinks
    found = [hit for p in sources for hit in _top_level_imports(p)]
    assert found == [], "import edgesla.probes / edgesla.exporters / edgesla.loadtests instead"
