"""The load-test results directory (``format: edgesla-loadtest/1``): written once, then read.

Layout (``docs/loadtest-results.md`` is the reference)::

    OUT/
      meta.json              the run: profile, target rates, times, generators, health;
                             written last, so its presence means the directory is complete
      operations/<op>.json   per operation: counts, failures by cause, late starts, and the
                             response-time and service-time HdrHistograms (exact, mergeable)
      summary.json           derived per-operation figures (percentiles, rates, error ratio)
      summary.txt            the same for humans
      locust/                Locust's own CSV/HTML, when the runner passes them

Writing is all-or-nothing: ``write_results`` fills a hidden sibling ``.OUT.partial-*`` and
renames it to ``OUT`` at the end, so an interrupted run never leaves a directory that looks
complete (a killed process leaves only the hidden partial one, which has no ``meta.json``).
An existing non-empty ``OUT`` is refused; call ``check_out_dir`` before the run starts so the
user learns it in a second, not after the test.

Reading is strict: ``read_results`` checks the format version and every file, and raises
``ConfigError`` (exit 2) naming the file and what is wrong. The operations' histograms are the
source of truth; ``summary.json`` is a convenience for people and ``jq``.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import edgesla
from edgesla import ConfigError
from loadtests.histograms import (
    LatencySummary,
    OperationResult,
    OperationStats,
    Recorder,
    check_operation_name,
    decode_operation,
)

__all__ = [
    "FORMAT",
    "GeneratorHealth",
    "GeneratorHost",
    "LoadTestResults",
    "RunMeta",
    "check_out_dir",
    "format_summary",
    "read_results",
    "summarize",
    "write_results",
]

FORMAT: Final = "edgesla-loadtest/1"
_FIX_PATH: Final = "pass the --out directory of a finished `edgesla loadtest` run"


def _locust_version() -> str:
    try:
        return version("locust")
    except PackageNotFoundError:  # pragma: no cover - locust is a dependency
        return "unknown"


@dataclass(frozen=True, slots=True)
class GeneratorHost:
    """One load-generator machine and how many Locust processes ran on it."""

    host: str
    processes: int

    def __post_init__(self) -> None:
        if not self.host or self.processes < 1:
            raise ValueError(f"generator {self.host!r}: needs a host name and >= 1 process")


@dataclass(frozen=True, slots=True)
class GeneratorHealth:
    """Whether the load generator itself may have been the bottleneck."""

    cpu_saturated: bool
    too_few_users: bool
    max_cpu_percent: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.cpu_saturated or self.too_few_users)


@dataclass(frozen=True, slots=True)
class RunMeta:
    """What ran: ``meta.json``. Times are timezone-aware; rates are requests per second."""

    profile: str
    target_rates: Mapping[str, float]
    duration_seconds: float  # planned
    started_at: datetime
    ended_at: datetime
    generators: tuple[GeneratorHost, ...]
    command_line: tuple[str, ...]
    health: GeneratorHealth
    pop: str | None = None
    edgesla_version: str = edgesla.__version__
    locust_version: str = field(default_factory=_locust_version)

    def __post_init__(self) -> None:
        if not self.profile:
            raise ValueError("profile: must not be empty")
        for op, rate in self.target_rates.items():
            check_operation_name(op)
            if not (math.isfinite(rate) and rate > 0):
                raise ValueError(f"target rate of {op!r}: must be > 0 requests/s, got {rate}")
        if not (math.isfinite(self.duration_seconds) and self.duration_seconds > 0):
            raise ValueError(f"duration_seconds: must be > 0, got {self.duration_seconds}")
        if self.started_at.tzinfo is None or self.ended_at.tzinfo is None:
            raise ValueError("started_at/ended_at: must be timezone-aware (UTC)")
        if self.ended_at < self.started_at:
            raise ValueError(f"ended_at {self.ended_at} is before started_at {self.started_at}")
        if not self.generators:
            raise ValueError("generators: at least one generator host")
        object.__setattr__(self, "target_rates", MappingProxyType(dict(self.target_rates)))

    @property
    def elapsed_seconds(self) -> float:
        """The measured wall time of the run (the planned one is ``duration_seconds``)."""
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class LoadTestResults:
    """A results directory, read and validated: what the SLA report consumes."""

    path: Path
    meta: RunMeta
    operations: Mapping[str, OperationResult]

    def achieved_rate(self, op: str) -> float | None:
        """Requests (successful or not) per second of the run; None for a zero-length run."""
        elapsed = self.meta.elapsed_seconds
        return self.operations[op].requests / elapsed if elapsed > 0 else None


# --- writing -----------------------------------------------------------------------------


def check_out_dir(out_dir: Path) -> None:
    """ConfigError unless ``out_dir`` is absent or an empty directory. Call before the run."""
    if out_dir.is_dir():
        if any(out_dir.iterdir()):
            raise ConfigError(
                f"{out_dir}: the results directory exists and is not empty; "
                "choose a new --out directory, or move this one away"
            )
    elif out_dir.exists():
        raise ConfigError(f"{out_dir}: exists and is not a directory; choose another --out path")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _meta_json(meta: RunMeta, operations: list[str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "profile": meta.profile,
        "pop": meta.pop,
        "target_rates_per_second": dict(sorted(meta.target_rates.items())),
        "duration_seconds": meta.duration_seconds,
        "started_at": _utc(meta.started_at),
        "ended_at": _utc(meta.ended_at),
        "generators": [{"host": g.host, "processes": g.processes} for g in meta.generators],
        "command_line": list(meta.command_line),
        "generator_health": {
            "cpu_saturated": meta.health.cpu_saturated,
            "too_few_users": meta.health.too_few_users,
            "max_cpu_percent": meta.health.max_cpu_percent,
            "notes": list(meta.health.notes),
        },
        "edgesla_version": meta.edgesla_version,
        "locust_version": meta.locust_version,
        "operations": operations,
    }


def _latency_json(summary: LatencySummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "p50": summary.p50,
        "p90": summary.p90,
        "p99": summary.p99,
        "p99_9": summary.p99_9,
        "max": summary.max,
    }


def summarize(meta: RunMeta, operations: Mapping[str, OperationResult]) -> dict[str, Any]:
    """The content of ``summary.json``: derived, per-operation figures in seconds."""
    elapsed = meta.elapsed_seconds
    out: dict[str, Any] = {}
    for name, op in sorted(operations.items()):
        thresholds = sorted(op.exact_over["response"])
        out[name] = {
            "target_rate_per_second": meta.target_rates.get(name),
            "achieved_rate_per_second": op.requests / elapsed if elapsed > 0 else None,
            "requests": op.requests,
            "successes": op.successes,
            "failures": op.failed,
            "failures_by_cause": dict(op.failures),
            "error_ratio": op.error_ratio,
            "late_starts": op.late_starts,
            "response_time_seconds": _latency_json(op.response.summary()),
            "service_time_seconds": _latency_json(op.service.summary()),
            "over_threshold": {
                f"{t / 1e6:g}": {
                    kind: {"count": (o := op.over(t / 1e6, kind)).at_least, "of": o.total}
                    for kind in ("response", "service")
                }
                for t in thresholds
            },
        }
    return {"format": FORMAT, "elapsed_seconds": elapsed, "operations": out}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.3f}"


def format_summary(meta: RunMeta, operations: Mapping[str, OperationResult]) -> str:
    """The human summary (``summary.txt``), also what the runner prints at the end."""
    hosts = ", ".join(f"{g.host} ({g.processes} proc)" for g in meta.generators)
    pop = f", PoP {meta.pop}" if meta.pop else ""
    lines = [
        f"edgesla load test: profile {meta.profile}{pop}",
        f"{_utc(meta.started_at)} .. {_utc(meta.ended_at)} ({meta.elapsed_seconds:.1f} s of "
        f"{meta.duration_seconds:g} s planned); generators: {hosts}",
    ]
    health = meta.health
    if health.ok:
        lines.append("generator health: ok")
    else:
        problems = [
            *(["CPU saturated"] if health.cpu_saturated else []),
            *(["too few users"] if health.too_few_users else []),
        ]
        lines.append(
            f"generator health: WARNING {', '.join(problems)}: latencies and late starts "
            "may be the load generator's, not the target's"
        )
    lines += [f"  note: {note}" for note in health.notes]
    lines.append("")
    header = (
        f"{'operation':<24} {'target/s':>9} {'achieved/s':>10} {'requests':>9} {'errors':>8} "
        f"{'late':>6}  {'kind':<8} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} {'p99.9 ms':>9} "
        f"{'max ms':>9}"
    )
    lines.append(header)
    elapsed = meta.elapsed_seconds
    for name, op in sorted(operations.items()):
        target = meta.target_rates.get(name)
        achieved = op.requests / elapsed if elapsed > 0 else None
        cells = (
            f"{name:<24} {'-' if target is None else f'{target:.1f}':>9} "
            f"{'-' if achieved is None else f'{achieved:.1f}':>10} {op.requests:>9} "
            f"{op.failed:>8} {op.late_starts:>6}"
        )
        for kind, dist in (("response", op.response), ("service", op.service)):
            s = dist.summary()
            figures = " ".join(f"{_ms(v):>9}" for v in (s.p50, s.p90, s.p99, s.p99_9, s.max))
            lines.append(f"{cells}  {kind:<8} {figures}")
            cells = " " * len(cells)
    lines.append("")
    lines.append("response = from the intended start (includes waiting for a late start);")
    lines.append("service = from the actual start. Percentiles: successful requests, <0.1 % high.")
    for name, op in sorted(operations.items()):
        if op.failures:
            causes = ", ".join(f"{cause} {n}" for cause, n in op.failures.items())
            lines.append(f"failures of {name}: {causes}")
        for t in sorted(op.exact_over["response"]):
            over = op.over(t / 1e6)
            share = over.share_at_least
            pct = "-" if share is None else f"{share:.3%}"
            lines.append(f"{name}: {over.at_least} of {over.total} over {t / 1000:g} ms ({pct})")
    return "\n".join(lines) + "\n"


def _write_json(path: Path, content: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(content, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_results(
    out_dir: Path, meta: RunMeta, recorder: Recorder, *, locust_dir: Path | None = None
) -> Path:
    """Write the results directory all at once; returns ``out_dir``.

    Every operation of ``meta.target_rates`` gets a file, even with no requests, so missing
    data shows. ``locust_dir`` (Locust's CSV/HTML, written elsewhere during the run) is copied
    to ``locust/``. ConfigError when ``out_dir`` exists and is not empty, or cannot be written.
    """
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    encoded = recorder.encode()["operations"]
    for op in meta.target_rates:
        encoded.setdefault(op, OperationStats(recorder.thresholds_us).encode())
    names = sorted(encoded)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    except OSError as exc:
        raise ConfigError(f"{out_dir}: cannot create the results directory: {exc}") from exc
    try:
        if locust_dir is not None:
            shutil.copytree(locust_dir, staging / "locust")
        (staging / "operations").mkdir()
        for name in names:
            content = {"format": FORMAT, "operation": name, **encoded[name]}
            _write_json(staging / "operations" / f"{name}.json", content)
        operations = {name: decode_operation(name, encoded[name]) for name in names}
        _write_json(staging / "summary.json", summarize(meta, operations))
        (staging / "summary.txt").write_text(format_summary(meta, operations), encoding="utf-8")
        _write_json(staging / "meta.json", _meta_json(meta, names))  # last: marks completion
        staging.rename(out_dir)  # atomic; replaces only an absent or empty directory
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise ConfigError(
                f"{out_dir}: cannot write the results directory ({exc}); nothing was left "
                "behind; check permissions and free space, or choose another --out"
            ) from exc
        raise
    return out_dir


# --- reading -----------------------------------------------------------------------------


def _load_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: missing; not a complete edgesla load-test results directory "
            f"(or the run was interrupted); {_FIX_PATH}"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); {_FIX_PATH}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object; {_FIX_PATH}")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise ConfigError(
            f"{path}: format: expected {FORMAT!r}, got {fmt!r}; written by another tool or an "
            "incompatible edgesla version (read it with the edgesla version that wrote it)"
        )
    return data


_META_KEYS: Final = frozenset(
    {
        "format", "profile", "pop", "target_rates_per_second", "duration_seconds", "started_at",
        "ended_at", "generators", "command_line", "generator_health", "edgesla_version",
        "locust_version", "operations",
    }
)  # fmt: skip


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


def _time(value: object, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(_string(value, where))
    except ValueError as exc:
        raise ValueError(f"{where}: expected an ISO-8601 UTC time, got {value!r}") from exc
    if moment.tzinfo is None:
        raise ValueError(f"{where}: {value!r} has no time zone; expected UTC ('Z')")
    return moment.astimezone(UTC)


def _of(value: object, kind: type[Any], where: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise ValueError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def _parse_health(value: object) -> GeneratorHealth:
    health = _of(value, dict, "generator_health")
    keys = {"cpu_saturated", "too_few_users", "max_cpu_percent", "notes"}
    if set(health) != keys:
        raise ValueError(f"generator_health: expected keys {sorted(keys)}, got {sorted(health)}")
    cpu = health["max_cpu_percent"]
    return GeneratorHealth(
        cpu_saturated=_of(health["cpu_saturated"], bool, "generator_health.cpu_saturated"),
        too_few_users=_of(health["too_few_users"], bool, "generator_health.too_few_users"),
        max_cpu_percent=None if cpu is None else _number(cpu, "generator_health.max_cpu_percent"),
        notes=tuple(
            _string(n, "generator_health.notes") for n in _of(health["notes"], list, "notes")
        ),
    )


def _parse_generator(value: object) -> GeneratorHost:
    gen = _of(value, dict, "generators[]")
    if set(gen) != {"host", "processes"}:
        raise ValueError(f"generators[]: expected keys ['host', 'processes'], got {sorted(gen)}")
    return GeneratorHost(_string(gen["host"], "host"), _of(gen["processes"], int, "processes"))


def _parse_meta(data: Mapping[str, Any]) -> tuple[RunMeta, list[str]]:
    unknown, missing = sorted(set(data) - _META_KEYS), sorted(_META_KEYS - set(data))
    if unknown or missing:
        raise ValueError(f"unknown keys {unknown}, missing keys {missing}")
    rates = _of(data["target_rates_per_second"], dict, "target_rates_per_second")
    pop = data["pop"]
    meta = RunMeta(
        profile=_string(data["profile"], "profile"),
        pop=None if pop is None else _string(pop, "pop"),
        target_rates={k: _number(v, f"target_rates_per_second.{k}") for k, v in rates.items()},
        duration_seconds=_number(data["duration_seconds"], "duration_seconds"),
        started_at=_time(data["started_at"], "started_at"),
        ended_at=_time(data["ended_at"], "ended_at"),
        generators=tuple(map(_parse_generator, _of(data["generators"], list, "generators"))),
        command_line=tuple(
            _string(arg, "command_line[]")
            for arg in _of(data["command_line"], list, "command_line")
        ),
        health=_parse_health(data["generator_health"]),
        edgesla_version=_string(data["edgesla_version"], "edgesla_version"),
        locust_version=_string(data["locust_version"], "locust_version"),
    )
    ops = _of(data["operations"], list, "operations")
    names = [check_operation_name(_string(op, "operations[]")) for op in ops]
    if missing_ops := sorted(set(meta.target_rates) - set(names)):
        raise ValueError(f"operations: lacks {missing_ops}, which have target rates")
    return meta, names


def read_results(path: Path) -> LoadTestResults:
    """Read and validate a results directory; ConfigError naming the file and the problem."""
    path = Path(path)
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise ConfigError(f"{path}: {what}; {_FIX_PATH}")
    if not any(path.iterdir()):
        raise ConfigError(f"{path}: the directory is empty; {_FIX_PATH}")
    meta_path = path / "meta.json"
    data = _load_json(meta_path)
    try:
        meta, names = _parse_meta(data)
    except ValueError as exc:
        raise ConfigError(f"{meta_path}: {exc}; {_FIX_PATH}") from exc
    ops_dir = path / "operations"
    on_disk = {p.stem for p in ops_dir.glob("*.json")} if ops_dir.is_dir() else set()
    if extra := sorted(on_disk - set(names)):
        raise ConfigError(f"{ops_dir}: {extra} are not listed in meta.json; {_FIX_PATH}")
    operations: dict[str, OperationResult] = {}
    for name in names:
        op_path = ops_dir / f"{name}.json"
        content = _load_json(op_path)
        if content.get("operation") != name:
            got = content.get("operation")
            raise ConfigError(f"{op_path}: operation: expected {name!r}, got {got!r}")
        encoded = {k: v for k, v in content.items() if k not in ("format", "operation")}
        try:
            operations[name] = decode_operation(name, encoded)
        except ValueError as exc:
            raise ConfigError(f"{op_path}: {exc}") from exc
    _load_json(path / "summary.json")
    if not (path / "summary.txt").is_file():
        raise ConfigError(f"{path / 'summary.txt'}: missing; {_FIX_PATH}")
    return LoadTestResults(path, meta, MappingProxyType(operations))
