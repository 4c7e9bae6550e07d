"""The PoP config: one YAML file per PoP that the exporter, ``edgesla probe`` and the
load tests read, and that ``edgesla stack up`` writes for the local stack.

Strict and frozen: unknown keys are errors, every error names the file and the key.
Credentials never live here: a target names a file or an environment variable to read
the password from (``password_file`` / ``password_env``).

    version: 1
    pop: lab-pop-01
    region: lab
    defaults: {interval: 15s, timeout: 5s, control_plane: {interval: 1s, timeout: 500ms}}
    targets:
      - name: subscribers-lookup
        prober: mongodb_query
        uri: mongodb://127.0.0.1:27017/
        ...
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import Field, field_validator, model_validator

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.durations import Duration, format_duration
from edgesla.hostport import parse_host_port
from edgesla.locations import validate_model
from edgesla.strict import Strict
from edgesla.yamlfile import read_yaml, versioned

__all__ = [
    "CONFIG_VERSION",
    "CONTROL_PLANE_PROBERS",
    "PROBER_NAMES",
    "ControlPlaneDefaults",
    "Defaults",
    "EtcdTarget",
    "ExporterSettings",
    "KubeApiserverTarget",
    "LoadTestSettings",
    "MongoQueryTarget",
    "MongoReplicationTarget",
    "PopConfig",
    "PostgresConvergenceTarget",
    "PostgresNode",
    "PostgresQueryTarget",
    "PostgresReplicationTarget",
    "Target",
    "dump_config",
    "interval_of",
    "load_config",
    "parse_config",
    "timeout_of",
]

CONFIG_VERSION = 1
_NAME = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
_MIN_HEARTBEAT_SECONDS = 0.05


#: Probers of the control plane: their targets follow ``defaults.control_plane``.
CONTROL_PLANE_PROBERS = frozenset(conv.CONTROL_PLANE_PROBERS)


class ControlPlaneDefaults(Strict):
    """Schedule of the etcd and kube_apiserver targets that do not set their own.

    Every second by default: five nines allow 25.9 s of downtime in 30 days
    (``conv.DOWNTIME_BUDGET_30D_SECONDS``), less than two 15-s intervals, so at 15 s one
    missed outage or one interval of doubt spends the month's budget. 500 ms leaves the
    framework's deadline (timeout + 0.25 s grace) inside the second: a hung member is a
    counted timeout every interval, never a skipped run.
    """

    interval: Duration = Field(default=1.0, gt=0)
    timeout: Duration = Field(default=0.5, gt=0)


class Defaults(Strict):
    """Schedule applied to every target that does not set its own: ``interval`` and
    ``timeout`` for the data plane, ``control_plane`` for etcd and kube_apiserver targets."""

    interval: Duration = Field(default=15.0, gt=0)
    timeout: Duration = Field(default=5.0, gt=0)
    jitter: Duration = Field(default=1.0, ge=0)
    control_plane: ControlPlaneDefaults = ControlPlaneDefaults()


class _TargetBase(Strict):
    name: str = Field(pattern=_NAME)
    interval: Duration | None = Field(default=None, gt=0)
    timeout: Duration | None = Field(default=None, gt=0)


class _Secret(Strict):
    password_file: Path | None = None
    password_env: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _Secret:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("set password_file or password_env, not both")
        return self


class PostgresNode(_Secret):
    """One PostgreSQL master: a libpq connection string without a password."""

    name: str = Field(pattern=_NAME)
    dsn: str = Field(min_length=1)
    sslmode: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = "prefer"
    sslrootcert: Path | None = None


class PostgresQueryTarget(PostgresNode, _TargetBase):
    prober: Literal["postgres_query"]
    query: str = "SELECT 1"


class PostgresReplicationTarget(_TargetBase):
    prober: Literal["postgres_replication"]
    nodes: tuple[PostgresNode, ...] = Field(min_length=2)
    heartbeat_table: str = "public.repl_heartbeat"
    heartbeat_interval: Duration = 0.5
    #: The probe fails (``unhealthy``: replication stalled) while any pair's lag, as the
    #: heartbeat last measured it, is over this: a cut link whose apply workers still run.
    max_lag: Duration = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _max_lag_above_the_beats(self) -> PostgresReplicationTarget:
        if self.max_lag < 2 * self.heartbeat_interval:
            raise ValueError(
                f"max_lag {format_duration(self.max_lag)} is below two heartbeat intervals "
                f"({format_duration(2 * self.heartbeat_interval)}): a healthy lag would fail "
                "the probe; raise max_lag (default 10s)"
            )
        return self

    @field_validator("heartbeat_interval")
    @classmethod
    def _resolves_the_lag_threshold(cls, value: float) -> float:
        """The lag is measured once a beat: twice per threshold at least, so a reading that is
        an upper bound (edgesla.probes._pg_lag) overstates a healthy lag by under half the
        threshold;
        and long enough for a beat to write and read every node."""
        limit = conv.REPLICATION_LAG_THRESHOLD_SECONDS / 2
        if value > limit:
            raise ValueError(
                f"{format_duration(value)} is too coarse for the "
                f"{format_duration(conv.REPLICATION_LAG_THRESHOLD_SECONDS)} replication-lag "
                f"threshold (the lag is measured once a beat, at least twice per threshold); "
                f"set heartbeat_interval to {format_duration(limit)} or less"
            )
        if value < _MIN_HEARTBEAT_SECONDS:
            raise ValueError(
                f"{format_duration(value)} leaves a beat no time to write and read every node; "
                f"set heartbeat_interval to {format_duration(_MIN_HEARTBEAT_SECONDS)} or more"
            )
        return value


#: ``schema.table``, plain SQL identifiers (quoted by the prober, never pasted)
_TABLE = r"^[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*$"


class PostgresConvergenceTarget(_TargetBase):
    """Do the masters hold the same rows? Key-range checksums of ``tables`` on every node
    pair, rows modified within ``settle_time`` (by ``modified_column``) left out."""

    prober: Literal["postgres_convergence"]
    nodes: tuple[PostgresNode, ...] = Field(min_length=2)
    tables: tuple[str, ...] = Field(min_length=1)
    #: The last-write-wins timestamp column every compared table carries.
    modified_column: str = Field(default="modified_at", pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$")
    #: Rows written more recently than this (on either node) may still be on their way: left
    #: out. Above the worst replication lag the PoP accepts.
    settle_time: Duration = Field(default=60.0, gt=0)
    #: Primary-key range size of one checksum; a differing range is compared row by row.
    chunk_rows: int = Field(default=1000, ge=10, le=1_000_000)

    @field_validator("tables")
    @classmethod
    def _qualified(cls, tables: tuple[str, ...]) -> tuple[str, ...]:
        for table in tables:
            if not re.fullmatch(_TABLE, table):
                raise ValueError(
                    f"{table!r} is not schema.table: name each table with its schema, e.g. "
                    "public.subscriber (plain identifiers, no quotes)"
                )
        return tables

    @model_validator(mode="after")
    def _distinct(self) -> PostgresConvergenceTarget:
        for what, names in (("node", [n.name for n in self.nodes]), ("table", self.tables)):
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(f"{what} {twice[0]!r} is listed twice; list each {what} once")
        return self


class _MongoBase(_Secret, _TargetBase):
    uri: str = Field(pattern=r"^mongodb(\+srv)?://")
    username: str | None = None
    tls: bool = False
    tls_ca_file: Path | None = None


class MongoQueryTarget(_MongoBase):
    prober: Literal["mongodb_query"]
    database: str = "edge"
    collection: str = "subscribers"
    id_field: str = "subscriber.id"
    #: A find filter or an aggregate pipeline; None = look up a random existing subscriber by id.
    find: dict[str, Any] | None = None
    aggregate: list[dict[str, Any]] | None = None


class MongoReplicationTarget(_MongoBase):
    prober: Literal["mongodb_replication"]


class EtcdTarget(_TargetBase):
    prober: Literal["etcd"]
    endpoints: tuple[str, ...] = Field(min_length=1)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class KubeApiserverTarget(_TargetBase):
    prober: Literal["kube_apiserver"]
    endpoints: tuple[str, ...] = Field(min_length=1)
    ca_file: Path | None = None
    token_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    leases: tuple[str, ...] = (
        "kube-system/kube-scheduler",
        "kube-system/kube-controller-manager",
    )


Target = Annotated[
    PostgresQueryTarget
    | PostgresReplicationTarget
    | PostgresConvergenceTarget
    | MongoQueryTarget
    | MongoReplicationTarget
    | EtcdTarget
    | KubeApiserverTarget,
    Field(discriminator="prober"),
]

#: The ``prober:`` keys, from the target models' discriminators (edgesla.probes.registry maps each
#: to its function; a test keeps the two in step).
PROBER_NAMES: frozenset[str] = frozenset(
    get_args(model.model_fields["prober"].annotation)[0] for model in get_args(get_args(Target)[0])
)


def _host_port(value: str | None, every_address: bool) -> str | None:
    if value is not None:
        parse_host_port(value, every_address=every_address)  # ValueError names the fix
    return value


class ExporterSettings(Strict):
    """How ``edgesla exporter`` serves this PoP (``--listen`` and friends override)."""

    #: HOST:PORT, [v6]:PORT, or :PORT for every address
    listen: str = "0.0.0.0:9830"
    max_concurrency: int = Field(default=8, ge=1, le=256)

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: str) -> str | None:
        return _host_port(value, every_address=True)


class LoadTestSettings(Strict):
    """Where ``edgesla loadtest`` sends the HTTP self-care calls (DB endpoints come from the
    mongodb_query and postgres_replication targets)."""

    selfcare_url: str | None = Field(default=None, pattern=r"^https?://")
    #: HOST:PORT where the load generator serves its own /metrics (``--metrics-listen``);
    #: None: off unless given on the command line
    metrics_listen: str | None = None

    @field_validator("metrics_listen")
    @classmethod
    def _metrics_listen_is_host_port(cls, value: str | None) -> str | None:
        return _host_port(value, every_address=True)


class PopConfig(Strict):
    version: Literal[1]
    pop: str = Field(pattern=_NAME)
    region: str = Field(pattern=_NAME)
    defaults: Defaults = Defaults()
    exporter: ExporterSettings = ExporterSettings()
    loadtest: LoadTestSettings = LoadTestSettings()
    targets: tuple[Target, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> PopConfig:
        seen: set[str] = set()
        for target in self.targets:
            if target.name in seen:
                raise ValueError(f"target name {target.name!r} is used twice; names must be unique")
            seen.add(target.name)
            interval = interval_of(self, target)
            timeout = timeout_of(self, target)
            if timeout >= interval:
                raise ValueError(
                    f"target {target.name!r}: timeout {timeout:g}s{_origin(target, 'timeout')} "
                    f"must be below its interval {interval:g}s{_origin(target, 'interval')}, "
                    "or probes would overlap"
                )
        return self


def _message(err: Any) -> str:
    if err["type"] == "union_tag_invalid":
        return f"unknown prober {err['input'].get('prober')!r}; known probers: " + ", ".join(
            sorted(err["ctx"]["expected_tags"].replace("'", "").split(", "))
        )
    if err["type"] == "extra_forbidden":
        return "unknown key (check its spelling; see the config reference in the README)"
    return str(err["msg"]).removeprefix("Value error, ")


def parse_config(data: object, source: str = "<config>") -> PopConfig:
    """Validate an already-parsed document; ConfigError names ``source`` and each bad key."""
    if data is None:  # YAML of an empty file (or only comments)
        raise ConfigError(
            f"{source}: the file is empty; a PoP config is a YAML mapping with version: "
            f"{CONFIG_VERSION}, pop, region and targets (see README.md#pop-config, or the "
            "pop.yaml that `edgesla stack up` writes)"
        )
    data = versioned(data, CONFIG_VERSION, source)
    return validate_model(PopConfig, data, source, "PoP config", _message, PROBER_NAMES)


def load_config(path: Path) -> PopConfig:
    """Read and validate a PoP config file."""
    return parse_config(read_yaml(path, "the PoP config"), str(path))


_DURATION_KEYS = frozenset({"interval", "timeout", "jitter", "heartbeat_interval", "settle_time"})


def _schedule(config: PopConfig, target: Target) -> ControlPlaneDefaults | Defaults:
    """Where a target's unset interval and timeout come from."""
    if target.prober in CONTROL_PLANE_PROBERS:
        return config.defaults.control_plane
    return config.defaults


def _origin(target: Target, key: str) -> str:
    """`` (defaults.control_plane.interval)`` when the value is not the target's own."""
    if getattr(target, key) is not None:
        return ""
    where = "defaults.control_plane" if target.prober in CONTROL_PLANE_PROBERS else "defaults"
    return f" (from {where}.{key})"


def interval_of(config: PopConfig, target: Target) -> float:
    """The target's ``interval``, else its kind's default (control plane: 1 s; else 15 s)."""
    return target.interval or _schedule(config, target).interval


def timeout_of(config: PopConfig, target: Target) -> float:
    """The target's ``timeout``, else its kind's default (control plane: 500 ms; else 5 s)."""
    return target.timeout or _schedule(config, target).timeout


def _spelled(key: str, value: Any) -> Any:
    return format_duration(value) if key in _DURATION_KEYS and value is not None else value


def dump_config(config: PopConfig) -> str:
    """Serialise a config to YAML that ``load_config`` reads back unchanged."""
    data = config.model_dump(mode="json", exclude_defaults=True)
    data["version"] = config.version
    data = {"version": data.pop("version"), **data}
    defaults = data.get("defaults", {})
    data["defaults"] = {k: _spelled(k, v) for k, v in defaults.items() if k != "control_plane"}
    if "control_plane" in defaults:
        data["defaults"]["control_plane"] = {
            k: _spelled(k, v) for k, v in defaults["control_plane"].items()
        }
    data["targets"] = [
        {"name": raw.pop("name"), "prober": target.prober}
        | {k: _spelled(k, v) for k, v in raw.items() if k != "prober"}
        for target, raw in zip(config.targets, data["targets"], strict=True)
    ]
    header = "# edgesla PoP config (format version 1). Reference: README.md#pop-config\n"
    return header + yaml.safe_dump(data, sort_keys=False)
