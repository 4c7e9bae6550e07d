"""`make check`, the fast loop, step by step: a given git revision beside this checkout.

Both trees run their own Makefile's ``check`` recipe (ruff check, ruff format --check, mypy,
pytest on the tests that start no server), each step as the subprocess a developer's
``make check`` starts, with this checkout's venv (same tool versions; the baseline's tree is
unpacked with ``git archive`` and put first on PYTHONPATH, so its tests run its own code):

- ``baseline``: git revision ``--baseline`` (default ``main``);
- ``branch``: this checkout.

For each step: wall time, CPU seconds (user + system, the process and what it waited for) and
peak RSS of the step's process tree. mypy runs twice: with an empty cache (a fresh clone) and
again with that cache (the fast loop a developer repeats). Then the start of the command
itself: the median wall and CPU time of ``--starts`` runs of ``edgesla --help`` and of
``edgesla report --help`` in each tree. The load average is recorded beside each step: on a
shared box the wall times are inflated; the ratios of steps run one after the other are the
figures to compare.

    .venv/bin/python benchmarks/check_loop.py [--baseline main] [--rounds 1] [--starts 7]

Ports: the tests' own (EDGESLA_TEST_BASE_PORT, tests/ports.py); this script binds none.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, save, unpack_revision

VENV = Path(sys.executable).parent.parent


def check_recipe(tree: Path) -> list[list[str]]:
    """The command lines of the ``check:`` target in ``tree``'s Makefile, $(VENV) resolved."""
    lines = (tree / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("check:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        command = line.strip().replace("$(VENV)", str(VENV))
        if not command.startswith(("@", "#")):
            recipe.append(shlex.split(command))
    return recipe


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run ``argv`` to its end; wall, CPU and peak RSS of its process tree, its exit code."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert proc.stdout is not None
    tail = proc.stdout.read().decode(errors="replace").strip().splitlines()[-1:]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit_code": proc.returncode,
        "load_1m_before": round(load, 2),
        "last_line": tail[0] if tail else "",
    }


def step_name(argv: list[str]) -> str:
    tool = Path(argv[0]).name
    return f"{tool} {argv[1]}" if tool == "ruff" else tool


def starts(tree_src: Path, args: list[str], n: int, env: dict[str, str]) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(n):
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "edgesla", *args],
            env={**env, "PYTHONPATH": str(tree_src)},
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
        after = os.times()
        cpus.append(
            after.children_user + after.children_system
            - before.children_user - before.children_system
        )  # fmt: skip
    return {
        "median_wall_s": round(statistics.median(walls), 3),
        "median_cpu_s": round(statistics.median(cpus), 3),
    }


def measure(name: str, tree: Path, env: dict[str, str]) -> dict[str, Any]:
    env = {**env, "PYTHONPATH": str(tree / "src")} if tree != ROOT else env
    steps: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="edgesla-mypy-") as cache:
        for argv in check_recipe(tree):
            if Path(argv[0]).name == "mypy":
                argv = [*argv, "--cache-dir", cache]
                steps["mypy (cold cache)"] = run(argv, tree, env)
                steps["mypy"] = run(argv, tree, env)
            else:
                steps[step_name(argv)] = run(argv, tree, env)
            print(f"  {name}: {step_name(argv)} done", file=sys.stderr, flush=True)
    pytest_line = steps["pytest"]["last_line"]
    seconds = re.search(r"in ([0-9.]+)s", pytest_line)
    warm = [k for k in steps if k != "mypy (cold cache)"]
    return {
        "recipe": [shlex.join(a).replace(str(VENV), "$(VENV)") for a in check_recipe(tree)],
        "steps": steps,
        "pytest_reported_s": float(seconds.group(1)) if seconds else None,
        "total_warm_wall_s": round(sum(steps[k]["wall_s"] for k in warm), 2),
        "total_warm_cpu_s": round(sum(steps[k]["cpu_s"] for k in warm), 2),
        "total_cold_mypy_wall_s": round(sum(steps[k]["wall_s"] for k in steps if k != "mypy"), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=1, help="baseline then branch, N times")
    parser.add_argument("--starts", type=int, default=7, help="runs of each --help")
    args = parser.parse_args()
    env = {**os.environ}
    env.setdefault("EDGESLA_TEST_BASE_PORT", "19500")
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="edgesla-check-baseline-") as d:
        base = unpack_revision(args.baseline, Path(d))
        rounds = []
        for _ in range(args.rounds):
            rounds.append({"baseline": measure("baseline", base, env)})
            rounds[-1]["branch"] = measure("branch", ROOT, env)
        start = {
            " ".join(cmd): {
                "baseline": starts(base / "src", cmd, args.starts, env),
                "branch": starts(ROOT / "src", cmd, args.starts, env),
            }
            for cmd in (["--help"], ["report", "--help"])
        }
    result = {
        "what": "make check's steps, baseline then branch in one run (see the docstring)",
        "baseline": args.baseline,
        "branch": head,
        "cpus": os.cpu_count(),
        "rounds": rounds,
        "cli_start": start,
    }
    print(f"wrote {save('check_loop', result)}")
    for i, r in enumerate(rounds):
        for tree in ("baseline", "branch"):
            m = r[tree]
            walls = ", ".join(f"{k} {v['wall_s']} s" for k, v in m["steps"].items())
            print(f"round {i + 1} {tree}: total warm {m['total_warm_wall_s']} s ({walls})")
    for cmd, sides in start.items():
        print(f"edgesla {cmd}: {sides['baseline']} -> {sides['branch']}")


if __name__ == "__main__":
    main()
