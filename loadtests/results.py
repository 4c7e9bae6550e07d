"""The load-test results directory (``format: edgesla-loadtest/2``): written once, then read.

Layout (``docs/loadtest-results.md`` is the reference)::

    OUT/
      meta.json              the run: profile, target rates, times, generators, health, and
                             whether it is complete; written last, so its presence means the
                             directory is complete
      accounting.json        every planned request per operation (succeeded, failed, not
                             started, unaccounted) and every expected worker's final report
                             (edgesla.loadtests.accounting); absent only for results built without a
                             ledger (``complete: null``)
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

Reading is strict: ``read_results`` checks the format version and every file against its model
(``results_format``: unknown, missing and mistyped keys refused), and raises ``ConfigError``
(exit 2) naming the file, the key and what is wrong; what spans files (the operations listed,
the accounting against the histograms) is checked here. It also refuses an INCOMPLETE run
(a worker's final report missing, requests unaccounted for) unless ``allow_incomplete=True``:
such results must never back a pass. The operations' histograms are the source of truth;
``summary.json`` is a convenience for people and ``jq``.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

import edgesla
from edgesla import ConfigError
from edgesla.loadtests.accounting import RunAccounting
from edgesla.loadtests.histograms import (
    OperationResult,
    OperationStats,
    Recorder,
    check_operation_name,
    decode_operation,
)
from edgesla.loadtests.results_format import MetaFile, OperationFile, SyncFile
from edgesla.loadtests.results_format import problem as file_problem
from edgesla.loadtests.summary import FORMAT, format_summary, summarize, utc_text
from edgesla.loadtests.windows import WINDOW_NAMES
from edgesla.locations import describe_errors

__all__ = [
    "FORMAT",
    "LOCUST_FILES",
    "GeneratorHealth",
    "GeneratorHost",
    "LoadTestResults",
    "RunMeta",
    "SyncResults",
    "check_out_dir",
    "format_summary",
    "read_results",
    "summarize",
    "write_results",
]

#: what the runner writes into ``locust/`` (loadtests/locust_files.py): Locust's own files
LOCUST_FILES: Final = (
    "stats_stats.csv",
    "stats_failures.csv",
    "stats_exceptions.csv",
    "report.html",
)
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
class SyncResults:
    """``sync.json`` and ``windows/<window>/<op>.json``: the same requests as ``operations/``,
    split by where their intended start fell (``windows.WINDOW_NAMES``)."""

    sync: SyncFile
    windows: Mapping[str, Mapping[str, OperationResult]]


@dataclass(frozen=True, slots=True)
class LoadTestResults:
    """A results directory, read and validated: what the SLA report consumes."""

    path: Path
    meta: RunMeta
    operations: Mapping[str, OperationResult]
    #: where every planned request went (accounting.json); None for results built by hand
    accounting: RunAccounting | None = None
    #: the batch sync on top of the schedule and the requests by window; None without one
    sync: SyncResults | None = None

    @property
    def complete(self) -> bool | None:
        """True: every planned request and worker is accounted for; None: no ledger kept."""
        return None if self.accounting is None else self.accounting.complete

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


_utc = utc_text


def _meta_json(
    meta: RunMeta, operations: list[str], accounting: RunAccounting | None
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "complete": None if accounting is None else accounting.complete,
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


def _write_json(path: Path, content: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(content, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def write_results(
    out_dir: Path,
    meta: RunMeta,
    recorder: Recorder,
    *,
    locust_dir: Path | None = None,
    accounting: RunAccounting | None = None,
    windows: Mapping[str, Recorder] | None = None,
    sync: SyncFile | None = None,
) -> Path:
    """Write the results directory all at once; returns ``out_dir``.

    Every operation of ``meta.target_rates`` gets a file, even with no requests, so missing
    data shows. ``locust_dir`` (Locust's CSV/HTML, written elsewhere) is copied to ``locust/``.
    ``accounting`` (the runner always passes it) goes to ``accounting.json``; its succeeded
    and failed counts must be the recorder's. ConfigError when ``out_dir`` exists and is not
    empty, or cannot be written; ValueError when the accounting disagrees with the recorder.
    ``windows`` and ``sync`` (a run with ``--sync-at``) go to ``windows/`` and ``sync.json``;
    ValueError when the windows' requests do not add up to the operations'.
    """
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    encoded = recorder.encode()["operations"]
    for op in meta.target_rates:
        encoded.setdefault(op, OperationStats(recorder.thresholds_us).encode())
    names = sorted(encoded)
    operations = {name: decode_operation(name, encoded[name]) for name in names}
    if accounting is not None and (problem := _disagreement(accounting, operations)):
        raise ValueError(f"the accounting disagrees with the recorder: {problem}")
    by_window: dict[str, dict[str, Any]] = {}
    synced = None
    if (windows is None) != (sync is None):
        raise ValueError("windows and sync go together (a run with --sync-at)")
    if windows is not None and sync is not None:
        empty = OperationStats(recorder.thresholds_us).encode()
        for window, part in windows.items():
            by_window[window] = dict.fromkeys(names, empty) | part.encode()["operations"]
        decoded = {
            w: {n: decode_operation(n, e) for n, e in ops.items()} for w, ops in by_window.items()
        }
        if problem := _split_problem(operations, decoded):
            raise ValueError(f"the windows disagree with the recorder: {problem}")
        synced = SyncResults(sync, decoded)
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
        if accounting is not None:
            content = {"format": FORMAT, **accounting.model_dump(mode="json")}
            _write_json(staging / "accounting.json", content)
        for window, ops in by_window.items():
            (staging / "windows" / window).mkdir(parents=True)
            for name, op in sorted(ops.items()):
                content = {"format": FORMAT, "operation": name, **op}
                _write_json(staging / "windows" / window / f"{name}.json", content)
        if sync is not None:
            _write_json(staging / "sync.json", sync.model_dump(mode="json"))
        _write_json(staging / "summary.json", summarize(meta, operations, accounting, synced))
        text = format_summary(meta, operations, accounting, synced)
        (staging / "summary.txt").write_text(text, encoding="utf-8")
        _write_json(staging / "meta.json", _meta_json(meta, names, accounting))  # last
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


def _split_problem(
    operations: Mapping[str, OperationResult],
    windows: Mapping[str, Mapping[str, OperationResult]],
) -> str | None:
    """Why the windows are not a split of ``operations`` (None when they are)."""
    if sorted(windows) != sorted(WINDOW_NAMES):
        return f"windows {sorted(windows)}; expected {sorted(WINDOW_NAMES)}"
    for window, ops in windows.items():
        if extra := sorted(set(ops) - set(operations)):
            return f"windows/{window}: operations {extra} are not in operations/"
    for name, op in operations.items():
        parts = [ops.get(name) for ops in windows.values()]
        successes = sum(p.successes for p in parts if p is not None)
        failed = sum(p.failed for p in parts if p is not None)
        late = sum(p.late_starts for p in parts if p is not None)
        if (successes, failed, late) != (op.successes, op.failed, op.late_starts):
            return (
                f"{name}: the windows hold {successes} succeeded, {failed} failed, {late} "
                f"late; operations/ {op.successes}, {op.failed}, {op.late_starts}"
            )
    return None


def _disagreement(
    accounting: RunAccounting, operations: Mapping[str, OperationResult]
) -> str | None:
    """Why ``accounting`` does not describe ``operations`` (None when it does)."""
    if missing := sorted(set(operations) - set(accounting.operations)):
        return f"operations {missing} have no account"
    for name, account in accounting.operations.items():
        op = operations.get(name)
        succeeded, failed = (op.successes, dict(op.failures)) if op else (0, {})
        if (account.succeeded, account.failed) != (succeeded, failed):
            return (
                f"{name}: accounted {account.succeeded} succeeded, failed {account.failed}; "
                f"recorded {succeeded} succeeded, failed {failed}"
            )
    return None


# --- reading -----------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: missing; not a complete edgesla load-test results directory "
            f"(or the run was interrupted); {_FIX_PATH}"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc


def _load_json(path: Path, text: str) -> dict[str, Any]:
    """The JSON object of ``text``, of this format; ConfigError naming the file when not."""
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


def _read_model(path: Path, model: type[M]) -> M:
    """One results file as ``model``; ConfigError naming the file, the key and the fix."""
    text = _read_text(path)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        _load_json(path, text)  # bad JSON, not an object, another format: say that instead
        raise ConfigError(f"{path}: {file_problem(exc)}; {_FIX_PATH}") from exc


def _run_meta(meta: MetaFile) -> RunMeta:
    """The in-memory form of ``meta.json``; ValueError when its values do not make a run."""
    health = meta.generator_health
    return RunMeta(
        profile=meta.profile,
        pop=meta.pop,
        target_rates=meta.target_rates_per_second,
        duration_seconds=meta.duration_seconds,
        started_at=meta.started_at.astimezone(UTC),
        ended_at=meta.ended_at.astimezone(UTC),
        generators=tuple(GeneratorHost(g.host, g.processes) for g in meta.generators),
        command_line=meta.command_line,
        health=GeneratorHealth(
            health.cpu_saturated, health.too_few_users, health.max_cpu_percent, health.notes
        ),
        edgesla_version=meta.edgesla_version,
        locust_version=meta.locust_version,
    )


def _read_operation(path: Path, name: str) -> OperationResult:
    encoded = _read_model(path, OperationFile)
    if encoded.operation != name:
        raise ConfigError(
            f"{path}: operation: expected {name!r}, got {encoded.operation!r}; {_FIX_PATH}"
        )
    return decode_operation(name, encoded)


def _read_accounting(
    path: Path, complete: bool | None, operations: Mapping[str, OperationResult]
) -> RunAccounting | None:
    if complete is None:
        if path.exists():
            raise ConfigError(f"{path}: present, but meta.json says complete: null; {_FIX_PATH}")
        return None
    content = _load_json(path, _read_text(path))
    try:
        accounting = RunAccounting.model_validate(
            {k: v for k, v in content.items() if k != "format"}
        )
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_errors(exc)}; {_FIX_PATH}") from exc
    if accounting.complete is not complete:
        raise ConfigError(
            f"{path}: complete is {accounting.complete}, meta.json says {complete}; {_FIX_PATH}"
        )
    if problem := _disagreement(accounting, operations):
        raise ConfigError(f"{path}: {problem}; {_FIX_PATH}")
    return accounting


def read_results(path: Path, *, allow_incomplete: bool = False) -> LoadTestResults:
    """Read and validate a results directory; ConfigError naming the file and the problem.

    An INCOMPLETE run (``meta.json`` ``complete: false``) is refused unless
    ``allow_incomplete``: its results must not back a verdict, only explain what went wrong.
    """
    path = Path(path)
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise ConfigError(f"{path}: {what}; {_FIX_PATH}")
    if not any(path.iterdir()):
        raise ConfigError(f"{path}: the directory is empty; {_FIX_PATH}")
    meta_path = path / "meta.json"
    meta_file = _read_model(meta_path, MetaFile)
    try:
        meta = _run_meta(meta_file)
    except ValueError as exc:
        raise ConfigError(f"{meta_path}: {exc}; {_FIX_PATH}") from exc
    names = meta_file.operations
    ops_dir = path / "operations"
    on_disk = {p.stem for p in ops_dir.glob("*.json")} if ops_dir.is_dir() else set()
    if extra := sorted(on_disk - set(names)):
        raise ConfigError(f"{ops_dir}: {extra} are not listed in meta.json; {_FIX_PATH}")
    operations = {name: _read_operation(ops_dir / f"{name}.json", name) for name in names}
    accounting = _read_accounting(path / "accounting.json", meta_file.complete, operations)
    sync = _read_sync(path, names, operations)
    summary_json = path / "summary.json"
    _load_json(summary_json, _read_text(summary_json))
    if not (path / "summary.txt").is_file():
        raise ConfigError(f"{path / 'summary.txt'}: missing; {_FIX_PATH}")
    if accounting is not None and not accounting.complete and not allow_incomplete:
        raise ConfigError(
            f"{path}: the load test is INCOMPLETE, so its results cannot back a verdict: "
            + "; ".join(accounting.problems)
            + f" (details: {path / 'summary.txt'}); run the load test again"
        )
    return LoadTestResults(path, meta, MappingProxyType(operations), accounting, sync)


def _read_sync(
    path: Path, names: Sequence[str], operations: Mapping[str, OperationResult]
) -> SyncResults | None:
    """``sync.json`` and ``windows/``, when the run had a sync; checked against operations/."""
    sync_path, windows_dir = path / "sync.json", path / "windows"
    if not sync_path.exists():
        if windows_dir.exists():
            raise ConfigError(f"{windows_dir}: present without sync.json; {_FIX_PATH}")
        return None
    sync = _read_model(sync_path, SyncFile)
    windows: dict[str, dict[str, OperationResult]] = {}
    for window in WINDOW_NAMES:
        where = windows_dir / window
        on_disk = {p.stem for p in where.glob("*.json")} if where.is_dir() else set()
        if extra := sorted(on_disk - set(names)):
            raise ConfigError(f"{where}: {extra} are not listed in meta.json; {_FIX_PATH}")
        windows[window] = {n: _read_operation(where / f"{n}.json", n) for n in names}
    if problem := _split_problem(operations, windows):
        raise ConfigError(f"{windows_dir}: {problem}; {_FIX_PATH}")
    return SyncResults(sync, MappingProxyType(windows))
