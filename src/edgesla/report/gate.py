"""The load-test gate: ``edgesla loadtest --slo SPEC`` judges its run as the SLA report does.

The gate takes the SLO spec (``edgesla report --slo``'s format) and judges its load-test
objectives (``sli: loadtest_success``; ``sli: latency`` with ``source: loadtest``) on the run's
results directory through :func:`edgesla.report.pipeline.build` — the same confidence bounds,
the same "the generator was the bottleneck → INCONCLUSIVE" rule
(``loadtest.max_late_start_ratio``), the same exit codes — over the run's own window, whatever
the spec's ``window`` says. So a run's gate and a report over its results cannot disagree.

An objective over operations this run does not make (``--operations``) is not judged and is
named; one that covers some of them only is bad input, before anything runs. An old gate
file (``defaults``/``operations``) is refused with the spec it converts to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgesla._errors import ConfigError
from edgesla.report.model import Report
from edgesla.report.pipeline import Inputs, build
from edgesla.slo.spec import AvailabilityObjective, LatencyObjective, SloSpec, load_spec

__all__ = ["Gate", "judge", "load_gate"]


@dataclass(frozen=True)
class Gate:
    """The spec as the gate judges it: its load-test objectives the run covers."""

    spec: SloSpec
    inputs: Inputs
    #: load-test objectives over operations this run does not make, not judged
    not_run: tuple[str, ...] = ()


def load_gate(path: Path, known: Sequence[str], run: Sequence[str]) -> Gate:
    """Read ``path`` for a run of the operations ``run`` (of the ``known`` ones).

    ConfigError (exit 2, before the run) for an old gate file, a spec without load-test
    objectives, or an objective that covers some of the run's operations but not all.
    """
    spec = load_spec(path, known)
    ours = [
        o
        for o in spec.objectives
        if isinstance(o, AvailabilityObjective | LatencyObjective) and o.from_loadtest
    ]
    if not ours:
        raise ConfigError(
            f"{path}: no load-test objective to gate the run on; add one with "
            "'sli: loadtest_success' or 'sli: latency' and 'source: loadtest' "
            "(loadtests/slo-default.yaml has the defaults)"
        )
    judged: list[AvailabilityObjective | LatencyObjective] = []
    not_run: list[str] = []
    problems: list[str] = []
    for objective in ours:
        ops = set(objective.operations)
        if unknown := sorted(ops - set(known)):
            problems.append(
                f"objective {objective.name}: unknown operation(s) {', '.join(unknown)}; "
                f"known: {', '.join(known)}"
            )
        elif ops and not ops & set(run):
            not_run.append(objective.name)
        elif missing := sorted(ops - set(run)):
            problems.append(
                f"objective {objective.name} covers {', '.join(sorted(ops))}, but this run "
                f"leaves out {', '.join(missing)} (--operations): run them too, or split the "
                "objective"
            )
        else:
            judged.append(objective)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    if not judged:
        raise ConfigError(
            f"{path}: none of its load-test objectives ({', '.join(not_run)}) covers the "
            f"operations of this run ({', '.join(run)}); nothing would be judged"
        )
    kept = {o.name for o in judged}
    gated = spec.model_copy(
        update={
            "window": "loadtest",
            "objectives": tuple(judged),
            "pops": {
                pop: {n: o for n, o in overrides.items() if n in kept}
                for pop, overrides in spec.pops.items()
            },
        }
    )
    text = path.read_text(encoding="utf-8")
    return Gate(gated, Inputs(spec_source=str(path), spec_text=text), tuple(not_run))


def judge(gate: Gate, results: Path) -> Report:
    """The report of the gate's objectives over one run's results directory."""
    return build(gate.spec, None, [results], inputs=gate.inputs)
