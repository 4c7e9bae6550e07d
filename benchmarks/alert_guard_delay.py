"""How much later the low-traffic guard (spec ``alerting: {guard: wilson, min_events: 100}``)
pages than today's burn-rate alerts, at the resolution of a real PoP: probes, scrapes and
rule evaluations every 15 s, six targets (24 probes a minute), five nines.

Both rule files are made by ``edgesla rules`` (a subprocess, as a user runs it): the default
spec's and tests/rules/golden/in-guarded.yaml's. For each scenario, ``promtool test rules``
evaluates the page alert every 15 s for 30 min after an hour (or six) of healthy probes;
reported: the seconds from the first failed probe to the first page, None for no page.

    .venv/bin/python benchmarks/alert_guard_delay.py      # ~1 min; benchmarks/results/
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import EDGESLA, HERE, save
from edgesla.rules import RULES_FILE

STEP = 15
HOUR = 3600 // STEP
_SERIES = 'edgesla_probe_results_total{{pop="p",region="eu",target="t",prober="q",result="{}"}}'


def _scenario(start: int, success: str, failure: str) -> dict[str, Any]:
    series = [
        {"series": _SERIES.format("success"), "values": success},
        {"series": _SERIES.format("failure"), "values": failure},
    ]
    return {"first_failure_s": (start + 1) * STEP, "series": series}


def _flapping(start: int, every: int, count: int) -> str:
    """A failure counter with one more failure every ``every`` steps after ``start``."""
    return f"0x{start} " + " ".join(f"{k}x{every - 1}" for k in range(1, count + 1))


#: name -> (first failed probe at, input series); 6 runs per 15 s when healthy
SCENARIOS = {
    "lone failure after 6 quiet hours": _scenario(
        6 * HOUR, f"0+6x{6 * HOUR + 120}", f"0x{6 * HOUR} 1x120"
    ),
    "two failures 10 min apart": _scenario(HOUR, f"0+6x{HOUR + 120}", f"0x{HOUR} 1x39 2x80"),
    "one failure every 2 min": _scenario(HOUR, f"0+6x{HOUR + 120}", _flapping(HOUR, 8, 15)),
    "one of six targets down": _scenario(HOUR, f"0+6x{HOUR} {6 * HOUR}+5x120", f"0x{HOUR} 1+1x120"),
    "all six targets down": _scenario(HOUR, f"0+6x{HOUR} {6 * HOUR}x120", f"0x{HOUR} 6+6x120"),
}


def _seconds(text: str) -> int:
    parts = re.findall(r"(\d+)([hms])", text)
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def _first_page(rules: Path, scenario: dict[str, Any], workdir: Path) -> int | None:
    start = scenario["first_failure_s"]
    times = range(start - STEP, start + 30 * 60 + 1, STEP)
    test = {
        "interval": f"{STEP}s",
        "input_series": scenario["series"],
        "alert_rule_test": [
            {"eval_time": f"{t}s", "alertname": "EdgeslaSloBurnRatePage", "exp_alerts": []}
            for t in times
        ],
    }
    groups = [g["name"] for g in yaml.safe_load(rules.read_text(encoding="utf-8"))["groups"]]
    suite = workdir / "suite.yml"
    suite.write_text(
        yaml.safe_dump(
            {
                "rule_files": [str(rules)],
                "evaluation_interval": f"{STEP}s",
                "group_eval_order": groups,
                "tests": [test],
            }
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        ["promtool", "test", "rules", str(suite)], capture_output=True, text=True, check=False
    )
    fired = [_seconds(t) for t in re.findall(r"time: ([0-9hms]+),", done.stdout + done.stderr)]
    return min(fired) - start if fired else None


def main() -> None:
    root = HERE.parent
    out: dict[str, Any] = {"resolution_s": STEP, "objective": "99.999%", "scenarios": {}}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="edgesla-guard-") as tmp:
        work = Path(tmp)
        files = {}
        guarded = ["--slo", "tests/rules/golden/in-guarded.yaml"]
        for name, args in (("unguarded", []), ("guarded", guarded)):
            subprocess.run(
                [EDGESLA, "rules", *args, "--out", str(work / name)],
                cwd=root,
                check=True,
                capture_output=True,
            )
            files[name] = work / name / RULES_FILE
        for name, scenario in SCENARIOS.items():
            row = {k: _first_page(f, scenario, work) for k, f in files.items()}
            out["scenarios"][name] = {"seconds_from_first_failure_to_page": row}
            print(f"{name:36} {row}")
    out["wall_s"] = round(time.monotonic() - began, 1)
    print(save("alert_guard_delay", out))


if __name__ == "__main__":
    main()
