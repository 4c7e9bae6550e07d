"""The old load-test gate file (``version: 1`` with ``defaults``/``operations``), refused.

Until this change the load-test gate had its own format — a point p99 and an error ratio per
operation. The gate now judges the SLO spec's load-test objectives (``edgesla.report.gate``),
so an old file is refused, and the refusal shows the spec it converts to: per operation one
latency objective (``percentile: 99`` at the old p99 limit) and one availability objective
(``100 % - max_error_ratio``), both judged at the spec's confidence, and the old
``max_late_start_ratio`` as ``loadtest.max_late_start_ratio``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from pydantic import Field, ValidationError

from edgesla._errors import ConfigError
from edgesla.durations import Duration
from edgesla.slo.sli.loadtest import MAX_LATE_START_RATIO
from edgesla.strict import Strict

__all__ = ["convert", "is_gate_file", "refuse"]

_GATE_KEYS = frozenset({"defaults", "operations", "max_late_start_ratio"})


class _Limits(Strict):
    p99: Duration | None = Field(default=None, gt=0)
    max_error_ratio: float | None = Field(default=None, ge=0, lt=1)


class _GateFile(Strict):
    version: int
    defaults: _Limits = _Limits(p99=0.200, max_error_ratio=0.00001)
    operations: dict[str, _Limits] = Field(default_factory=dict)
    max_late_start_ratio: float = Field(default=MAX_LATE_START_RATIO, ge=0, le=1)


def is_gate_file(data: object) -> bool:
    """True for a document in the old gate format (not an SLO spec)."""
    return isinstance(data, Mapping) and bool(_GATE_KEYS & set(data)) and "objectives" not in data


def _percent(error_ratio: float) -> str:
    share = (Decimal(1) - Decimal(repr(error_ratio))) * 100
    return f"{share.normalize():f}%"


def _name(operation: str, what: str) -> str:
    return f"{operation.replace('_', '-')}-{what}"


def convert(data: Mapping[str, object], operations: Sequence[str]) -> str:
    """The SLO spec (YAML text) equivalent to an old gate file, for ``operations``.

    ValueError when the old file itself is invalid.
    """
    try:
        gate = _GateFile.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(where) from None
    lines = [
        "version: 1",
        "window: loadtest",
        f"loadtest: {{max_late_start_ratio: {gate.max_late_start_ratio:g}}}",
        "objectives:",
    ]
    for op in [*operations, *sorted(set(gate.operations) - set(operations))]:
        own = gate.operations.get(op, _Limits())
        p99 = own.p99 if own.p99 is not None else gate.defaults.p99
        ratio = own.max_error_ratio
        ratio = gate.defaults.max_error_ratio if ratio is None else ratio
        if p99 is not None:
            lines.append(
                f"  - {{name: {_name(op, 'p99')}, sli: latency, source: loadtest, "
                f"operations: [{op}], threshold: {p99 * 1000:g}ms, percentile: 99}}"
            )
        if ratio is not None and ratio > 0:
            lines.append(
                f"  - {{name: {_name(op, 'success')}, sli: loadtest_success, "
                f"operations: [{op}], objective: {_percent(ratio)}}}"
            )
        elif ratio == 0:
            lines.append(
                f"  # {op}: max_error_ratio 0 (no error at all) cannot be proven by counting; "
                "choose an objective below 100 %"
            )
    return "\n".join(lines) + "\n"


def refuse(data: object, source: str, operations: Sequence[str]) -> None:
    """ConfigError showing the converted spec when ``data`` is an old gate file."""
    if not is_gate_file(data):
        return
    assert isinstance(data, Mapping)
    head = (
        f"{source}: this is a load-test gate file of the old format (p99 and max_error_ratio "
        "per operation); the gate now takes an SLO spec (the format of `edgesla report --slo`, "
        "examples/slo.yaml), judged with the report's confidence bounds"
    )
    try:
        text = convert(data, operations)
    except ValueError as exc:
        raise ConfigError(f"{head}. It is also invalid ({exc}); write the spec anew.") from None
    indented = "".join(f"    {line}\n" for line in text.splitlines())
    raise ConfigError(
        f"{head}. The same gate as an SLO spec — save it as a new file and pass that:\n"
        f"{indented}"
        "  (a short run is now INCONCLUSIVE where the old gate said pass: a point p99 is not "
        "proof; the report says how many more requests a verdict needs)"
    )
