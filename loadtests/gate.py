"""The pass/fail gate of a load test (``--slo FILE``): p99 and error ratio per operation.

    version: 1
    defaults: {p99: 200ms, max_error_ratio: 0.00001}
    operations:
      care_lookup:   {p99: 200ms}     # customer-care lookup (seed: < 200 ms)
      session_start: {p99: 10ms}      # edge NoSQL operations (seed: < 10 ms)
    max_late_start_ratio: 0.01        # more late starts than this: the generator was the limit

p99 is taken from the exact histogram of **response time measured from the intended start**
(coordinated-omission-free), never from Locust's rounded statistics. The exit code:

    0  every operation with traffic met its objectives
    1  an objective was broken, and the generator kept up: the target is too slow or failing
    3  inconclusive: no requests at all, or objectives broken while the generator itself was
       the bottleneck (CPU saturated or too many late starts), so the target cannot be blamed
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError

from edgesla import exitcodes
from edgesla._errors import ConfigError
from edgesla.durations import Duration
from edgesla.loadtests.histograms import OperationResult
from edgesla.loadtests.results import GeneratorHealth
from edgesla.slo.sli.loadtest import MAX_LATE_START_RATIO, generator_limit
from edgesla.strict import Strict
from edgesla.yamlfile import read_yaml

__all__ = ["Check", "GateSpec", "Verdict", "evaluate", "load_gate"]


class Objective(Strict):
    p99: Duration | None = Field(default=None, gt=0)
    max_error_ratio: float | None = Field(default=None, ge=0, lt=1)


class GateSpec(Strict):
    version: int = Field(ge=1, le=1)
    defaults: Objective = Objective(p99=0.200, max_error_ratio=0.00001)
    operations: dict[str, Objective] = Field(default_factory=dict)
    max_late_start_ratio: float = Field(default=MAX_LATE_START_RATIO, ge=0, le=1)

    def objective(self, operation: str) -> Objective:
        own = self.operations.get(operation, Objective())
        return Objective(
            p99=own.p99 if own.p99 is not None else self.defaults.p99,
            max_error_ratio=own.max_error_ratio
            if own.max_error_ratio is not None
            else self.defaults.max_error_ratio,
        )


def load_gate(path: Path, known_operations: tuple[str, ...]) -> GateSpec:
    data = read_yaml(path, "the SLO file")
    try:
        spec = GateSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{path}: invalid SLO file:\n" + "\n".join(lines)) from exc
    unknown = sorted(set(spec.operations) - set(known_operations))
    if unknown:
        raise ConfigError(
            f"{path}: operations: unknown operation(s) {', '.join(unknown)}; "
            f"known: {', '.join(known_operations)}"
        )
    return spec


@dataclass(frozen=True)
class Check:
    operation: str
    what: str  # "p99" | "error_ratio"
    measured: float | None
    limit: float
    ok: bool


@dataclass(frozen=True)
class Verdict:
    code: int
    checks: tuple[Check, ...]
    reason: str


def evaluate(
    spec: GateSpec, operations: Mapping[str, OperationResult], health: GeneratorHealth
) -> Verdict:
    checks: list[Check] = []
    requests = late = 0
    for name, op in sorted(operations.items()):
        if op.requests == 0:
            continue
        requests += op.requests
        late += op.late_starts
        objective = spec.objective(name)
        if objective.p99 is not None:
            p99 = op.response.summary().p99 if op.successes else None
            ok = p99 is not None and p99 <= objective.p99
            checks.append(Check(name, "p99", p99, objective.p99, ok))
        if objective.max_error_ratio is not None:
            ratio = op.error_ratio or 0.0
            checks.append(
                Check(
                    name,
                    "error_ratio",
                    ratio,
                    objective.max_error_ratio,
                    ratio <= objective.max_error_ratio,
                )
            )
    if requests == 0:
        return Verdict(exitcodes.INCONCLUSIVE, (), "no requests were made: nothing to judge")
    broken = [c for c in checks if not c.ok]
    if not broken:
        return Verdict(exitcodes.OK, tuple(checks), "every objective met")
    # the one rule the SLA report applies too (edgesla.slo.sli.loadtest.generator_limit)
    why = generator_limit(health.cpu_saturated, late, requests, spec.max_late_start_ratio)
    if why is not None:
        return Verdict(
            exitcodes.INCONCLUSIVE, tuple(checks), f"{len(broken)} objective(s) broken, but {why}"
        )
    return Verdict(exitcodes.FAILURE, tuple(checks), f"{len(broken)} objective(s) broken")
