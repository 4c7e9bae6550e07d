"""The SLO spec: which objectives the SLA report judges, over which window, how confidently.

Versioned YAML, strict and frozen like the PoP config: unknown keys are errors, and every
error names the file, the key and how to fix it (ConfigError, exit 2). ``examples/slo.yaml``
shows every key. In short::

    version: 1
    window: 30d                # a rolling duration ending now; or a fixed period:
                               # {start: 2026-11-01T00:00:00Z, end: 2026-12-01T00:00:00Z};
                               # or loadtest (the window of the load-test run(s) given)
    confidence: 0.95           # PASS needs the one-sided lower bound to clear the objective
                               # (and, with alerting.guard: wilson, a burn-rate alert does)
    alerting: {guard: wilson, min_events: 100}     # edgesla.slo.alerting; default: unguarded
    loadtest: {max_late_start_ratio: 0.01}         # more late starts: the generator was the limit
    maintenance:
      - {start: 2025-01-05T02:00:00Z, end: 2025-01-05T03:00:00Z, reason: "PG 17 upgrade"}
    objectives:
      - {name: probe-availability, sli: probe_success, objective: 99.999%}
      - {name: care-lookup-p99, sli: latency, source: loadtest, operations: [care_lookup],
         threshold: 200ms, percentile: 99}
      - {name: replication-lag, sli: replication_lag, threshold: 1s, objective: 99.9%}
    pops:
      lab-pop-01: {probe-availability: {objective: 99.99%}}

Objectives are percentages (``99.999%`` or ``99.999``) strictly between 0 and 100: 100 % can
never be proven by counting, and a bare number below 1 is taken for a fraction by mistake.
Left out, ``objectives`` defaults to ``DEFAULT_OBJECTIVES`` (five nines for every
availability SLI, p99 < 200 ms for customer-care lookups, p99 < 10 ms for edge NoSQL
queries, replication lag under 1 s for 99.9 % of the time); left out in an availability or
lag objective, ``objective`` defaults to five nines or 99.9 %, ``percentile`` to 99.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    model_validator,
)

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.durations import Duration, parse_duration
from edgesla.locations import validate_model
from edgesla.slo import legacy_gate
from edgesla.slo.alerting import Alerting
from edgesla.slo.sli.loadtest import MAX_LATE_START_RATIO
from edgesla.strict import Strict
from edgesla.yamlfile import read_yaml, versioned

__all__ = [
    "DEFAULT_LAG_OBJECTIVE",
    "DEFAULT_LAG_THRESHOLD_SECONDS",
    "DEFAULT_OBJECTIVES",
    "SPEC_VERSION",
    "AvailabilityObjective",
    "FixedWindow",
    "LagObjective",
    "LatencyObjective",
    "LoadTestSettings",
    "Maintenance",
    "Objective",
    "Override",
    "SloSpec",
    "default_spec",
    "lag_thresholds",
    "load_spec",
    "parse_percent",
    "parse_spec",
]

SPEC_VERSION = 1
_NAME = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
#: Replication lag: 99.9 % of the time within 1 s. Heartbeats every 500 ms measure a healthy
#: multi-master pair's apply delay well below 1 s; 0.1 % of 30 days (43 min) allows for bulk
#: loads and vacuum without hiding a stalled subscription.
DEFAULT_LAG_THRESHOLD_SECONDS = conv.REPLICATION_LAG_THRESHOLD_SECONDS
DEFAULT_LAG_OBJECTIVE = 0.999
_EDGE_QUERY_OPERATIONS = ("session_start", "session_stop", "device_change")


def parse_percent(value: object) -> float:
    """``"99.999%"``, ``99.999`` or ``"99.999"`` -> 0.99999 (exactly: decimal arithmetic)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a percentage such as 99.999%, got {value!r}")
    text = str(value).strip().removesuffix("%").strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"invalid percentage {value!r}: write e.g. 99.999% or 99.9") from None
    if number >= 100:
        raise ValueError(
            f"objective {value!r} must be below 100 %: 100 % can never be proven by counting "
            f"events; five nines is 99.999%"
        )
    if number <= 0:
        raise ValueError(f"objective {value!r} must be above 0 %: it would promise nothing")
    if isinstance(value, int | float) and number < 1:
        raise ValueError(
            f"objective {value!r} looks like a fraction; objectives are percentages: "
            f"write {(number * 100).normalize():f}%"
        )
    return float(number / 100)


def _percentile(value: float) -> float:
    if not 0 < value < 100:
        raise ValueError(f"percentile {value:g} must be above 0 and below 100, e.g. 99 or 99.9")
    return value


def _confidence(value: float) -> float:
    if not 0.5 < value < 1:
        raise ValueError(
            f"confidence {value:g} must be above 0.5 and below 1 (a fraction: 0.95 for 95 %)"
        )
    return value


def _window(value: object) -> object:
    if value == "loadtest" or not isinstance(value, str):
        return value
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(
            f"invalid window {value!r}: use a duration such as 30d or 7d, a fixed period "
            "{start: 2026-11-01T00:00:00Z, end: 2026-12-01T00:00:00Z}, or 'loadtest' for "
            "the window of the load-test run(s) given"
        ) from None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{value.isoformat()} has no time zone: write UTC with a Z, e.g. 2025-01-05T02:00:00Z"
        )
    return value.astimezone(UTC)


Percent = Annotated[float, BeforeValidator(parse_percent)]
Percentile = Annotated[float, AfterValidator(_percentile)]
UtcTime = Annotated[datetime, AfterValidator(_utc)]


class Maintenance(Strict):
    """A window excluded from every objective (and shown in the report)."""

    start: UtcTime
    end: UtcTime
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Maintenance:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )
        return self


class FixedWindow(Strict):
    """A fixed period ``[start, end)``: a past month, a quarter, an incident's week."""

    start: UtcTime
    end: UtcTime

    @model_validator(mode="after")
    def _ordered(self) -> FixedWindow:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )
        return self


class _ObjectiveBase(Strict):
    name: str = Field(pattern=_NAME)
    description: str = ""


class AvailabilityObjective(_ObjectiveBase):
    """Share of good events. ``probe_success``: the exporter's probe counters (``targets``
    filters them by target name); ``loadtest_success``: load-test requests (``operations``
    filters them); ``controlplane_ready``: probes of the etcd and kube_apiserver targets."""

    sli: Literal["probe_success", "loadtest_success", "controlplane_ready"]
    objective: Percent = conv.AVAILABILITY_OBJECTIVE
    targets: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _filters(self) -> AvailabilityObjective:
        if self.operations and self.sli != "loadtest_success":
            raise ValueError(f"operations filters load-test requests; {self.sli} uses targets")
        if self.targets and self.sli == "loadtest_success":
            raise ValueError("targets filters probes; loadtest_success uses operations")
        return self

    @property
    def ratio(self) -> float:
        """The objective as a fraction of good events."""
        return self.objective

    @property
    def from_loadtest(self) -> bool:
        """Judged on load-test results (``--loadtest``), not on Prometheus."""
        return self.sli == "loadtest_success"


class LatencyObjective(_ObjectiveBase):
    """``percentile`` 99 with ``threshold`` 200ms: at most 1 % of requests slower than 200 ms,
    counted exactly (the histograms have a bucket bound at each threshold)."""

    sli: Literal["latency"]
    source: Literal["probes", "loadtest"]
    threshold: Duration = Field(gt=0)
    percentile: Percentile = 99.0
    targets: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _filters(self) -> LatencyObjective:
        if self.operations and self.source != "loadtest":
            raise ValueError(
                "operations filters load-test requests; with source: probes use targets"
            )
        if self.targets and self.source != "probes":
            raise ValueError("targets filters probes; with source: loadtest use operations")
        return self

    @property
    def ratio(self) -> float:
        return self.percentile / 100

    @property
    def from_loadtest(self) -> bool:
        return self.source == "loadtest"


class LagObjective(_ObjectiveBase):
    """Share of time the replication lag stays at or under ``threshold``."""

    sli: Literal["replication_lag"]
    threshold: Duration = Field(default=DEFAULT_LAG_THRESHOLD_SECONDS, gt=0)
    objective: Percent = DEFAULT_LAG_OBJECTIVE

    @property
    def ratio(self) -> float:
        return self.objective

    @property
    def from_loadtest(self) -> bool:
        return False


Objective = Annotated[
    AvailabilityObjective | LatencyObjective | LagObjective, Field(discriminator="sli")
]
_SLIS = ("controlplane_ready", "latency", "loadtest_success", "probe_success", "replication_lag")


class Override(Strict):
    """Per-PoP values replacing an objective's own (only the keys that objective has)."""

    objective: Percent | None = None
    threshold: Duration | None = Field(default=None, gt=0)
    percentile: Percentile | None = None


#: Used when the spec has no ``objectives`` key.
DEFAULT_OBJECTIVES: tuple[AvailabilityObjective | LatencyObjective | LagObjective, ...] = (
    AvailabilityObjective(name="probe-availability", sli="probe_success"),
    AvailabilityObjective(name="controlplane-availability", sli="controlplane_ready"),
    AvailabilityObjective(name="loadtest-availability", sli="loadtest_success"),
    LatencyObjective(
        name="care-lookup-p99", sli="latency", source="loadtest", operations=("care_lookup",),
        threshold=conv.CUSTOMER_CARE_LATENCY_SECONDS,
        description="customer-care lookups answer within 200 ms",
    ),
    LatencyObjective(
        name="subscriber-lookup-probe-p99", sli="latency", source="probes",
        targets=("subscribers-lookup",), threshold=conv.CUSTOMER_CARE_LATENCY_SECONDS,
        description="the MongoDB subscriber-lookup probe answers within 200 ms",
    ),
    LatencyObjective(
        name="edge-query-p99", sli="latency", source="loadtest",
        operations=_EDGE_QUERY_OPERATIONS, threshold=conv.EDGE_QUERY_LATENCY_SECONDS,
        description="edge NoSQL queries answer within 10 ms",
    ),
    LagObjective(name="replication-lag", sli="replication_lag"),
)  # fmt: skip


class LoadTestSettings(Strict):
    """How load-test results are judged (``edgesla loadtest --slo`` and ``report --loadtest``)."""

    #: More late starts than this share of a run's requests: its generator was the bottleneck,
    #: and a broken objective is INCONCLUSIVE, not FAIL (``slo.sli.loadtest.generator_limit``)
    max_late_start_ratio: float = Field(default=MAX_LATE_START_RATIO, ge=0, le=1)


class SloSpec(Strict):
    version: Literal[1]
    title: str = "SLA report"
    #: seconds (rolling, ending now), a fixed period, or "loadtest" (the runs' window)
    window: Annotated[float | FixedWindow | Literal["loadtest"], BeforeValidator(_window)] = float(
        conv.WINDOW_SECONDS_30D
    )
    confidence: Annotated[float, AfterValidator(_confidence)] = conv.CONFIDENCE_LEVEL
    alerting: Alerting = Alerting()
    loadtest: LoadTestSettings = LoadTestSettings()
    maintenance: tuple[Maintenance, ...] = ()
    objectives: tuple[Objective, ...] = DEFAULT_OBJECTIVES
    pops: dict[Annotated[str, Field(pattern=_NAME)], dict[str, Override]] = Field(
        default_factory=dict
    )

    @property
    def window_seconds(self) -> float | None:
        """The window's length, or None when it is the load-test run's."""
        if isinstance(self.window, FixedWindow):
            return (self.window.end - self.window.start).total_seconds()
        return None if self.window == "loadtest" else float(self.window)

    @property
    def maintenance_windows(self) -> tuple[tuple[datetime, datetime, str], ...]:
        """As ``Report.maintenance`` wants them."""
        return tuple((m.start, m.end, m.reason) for m in self.maintenance)

    def objectives_for(
        self, pop: str
    ) -> tuple[AvailabilityObjective | LatencyObjective | LagObjective, ...]:
        """The objectives with ``pop``'s overrides applied (defaults first, then overrides)."""
        overrides = self.pops.get(pop, {})
        return tuple(
            o.model_copy(update=overrides[o.name].model_dump(exclude_none=True))
            if o.name in overrides
            else o
            for o in self.objectives
        )


def _cross_checks(spec: SloSpec) -> list[str]:
    """What a single key cannot know: unique names, overrides that fit their objective."""
    problems: list[str] = []
    if not spec.objectives:
        problems.append(
            "objectives: the list is empty; list objectives, or leave the key out for the defaults"
        )
    by_name: dict[str, AvailabilityObjective | LatencyObjective | LagObjective] = {}
    for i, objective in enumerate(spec.objectives):
        if objective.name in by_name:
            problems.append(
                f"objectives[{i}] (name: {objective.name}): the name is used twice; "
                f"objective names must be unique"
            )
        by_name[objective.name] = objective
    for pop, overrides in spec.pops.items():
        for name, override in overrides.items():
            where = f"pops.{pop}.{name}"
            if name not in by_name:
                problems.append(
                    f"{where}: unknown objective {name!r}; known objectives: "
                    + ", ".join(sorted(by_name))
                )
                continue
            has = set(type(by_name[name]).model_fields)
            for key in sorted(override.model_dump(exclude_none=True)):
                if key not in has:
                    hint = "; use percentile" if key == "objective" else ""
                    problems.append(
                        f"{where}.{key}: objective {name!r} ({by_name[name].sli}) "
                        f"has no {key}{hint}"
                    )
    return problems


def _message(err: Any) -> str:
    if err["type"] == "union_tag_invalid":
        return f"unknown sli {err['input'].get('sli')!r}; known SLIs: " + ", ".join(_SLIS)
    if err["type"] == "union_tag_not_found":
        return "missing key 'sli'; say which SLI this objective measures: " + ", ".join(_SLIS)
    if err["type"] == "extra_forbidden":
        return "unknown key (check its spelling; examples/slo.yaml shows every key)"
    if err["type"] == "missing":
        return "required key is missing (examples/slo.yaml shows every key)"
    return str(err["msg"]).removeprefix("Value error, ")


def parse_spec(data: object, source: str = "<slo spec>") -> SloSpec:
    """Validate an already-parsed document; ConfigError names ``source`` and each bad key."""
    data = versioned(data, SPEC_VERSION, source)
    spec = validate_model(SloSpec, data, source, "SLO spec", _message, _SLIS)
    problems = _cross_checks(spec)
    if problems:
        raise ConfigError(f"{source}: invalid SLO spec:\n" + "\n".join(f"  {p}" for p in problems))
    return spec


def lag_thresholds(spec: SloSpec) -> tuple[float, ...]:
    """Every threshold the spec judges replication lag against, overrides included."""
    found = {o.threshold for o in spec.objectives if isinstance(o, LagObjective)}
    for pop in spec.pops:
        found |= {o.threshold for o in spec.objectives_for(pop) if isinstance(o, LagObjective)}
    return tuple(sorted(found))


def load_spec(path: Path, operations: Sequence[str] = ()) -> SloSpec:
    """Read and validate an SLO spec file.

    An old load-test gate file is refused with the spec it converts to, for the load-test
    ``operations`` (``edgesla.loadtests.profile.OPERATIONS``; the spec cannot import them).
    """
    data = read_yaml(path, "the SLO spec")
    legacy_gate.refuse(data, str(path), operations)
    return parse_spec(data, str(path))


def default_spec() -> SloSpec:
    """The spec used without ``--slo``: 30 days, 95 % confidence, ``DEFAULT_OBJECTIVES``."""
    return SloSpec(version=SPEC_VERSION)
