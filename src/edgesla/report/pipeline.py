"""spec -> evidence -> evaluators -> Report: what ``edgesla report`` runs.

1. **The period**: asked for on the command line (``Request``: ``--month``, ``--from``/``--to``),
   else the spec's ``window`` (rolling, fixed, or the load-test runs'): ``slo.period``.
2. **The PoPs to judge**: every PoP of the fleet inventory (``--fleet``); without one, the PoPs
   found in the data plus every PoP the spec names. A PoP with no data in the period is judged
   all the same, on no evidence: INCONCLUSIVE, "no data from this PoP's exporter in the period".
   A PoP in the data but not in the inventory is listed, not judged.
3. **Evidence** per objective for every PoP at once: from Prometheus through the evidence
   engine (``report.inputs.engine``: fleet-wide, or PoP by PoP with ``--evidence per-pop``), from
   the load-test results pooled per PoP. An objective whose source was not given (a load-test
   objective and no ``--loadtest``) is not evaluated and the report says so; a report in which
   nothing could be evaluated is INCONCLUSIVE — never PASS without evidence.
4. **Evaluators** judge each PoP's evidence; the report carries its provenance: the spec and
   fleet file (sha256), the period, and per objective how it was counted and the queries sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edgesla import __version__
from edgesla._errors import ConfigError
from edgesla.fleet import Fleet
from edgesla.loadtests.results import LoadTestResults, read_results
from edgesla.report import evaluate
from edgesla.report.inputs import loadtest as lt_in
from edgesla.report.inputs import prometheus as prom_in
from edgesla.report.inputs import store
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.inputs.engine import Answer, Engine, Strategy
from edgesla.report.model import (
    AvailabilityEvidence,
    Counting,
    DataIssue,
    LagEvidence,
    LatencyEvidence,
    ObjectiveResult,
    Provenance,
    Report,
)
from edgesla.slo import period as periods
from edgesla.slo.period import Period
from edgesla.slo.sli import PROBE_LATENCY, REPLICATION_LAG
from edgesla.slo.spec import (
    AvailabilityObjective,
    FixedWindow,
    LagObjective,
    LatencyObjective,
    SloSpec,
)

__all__ = ["NO_DATA", "Inputs", "Request", "build", "resolve_period"]

#: The data issue of a PoP that sent nothing in the period.
NO_DATA = "no data from this PoP's exporter in the period"

AnyObjective = AvailabilityObjective | LatencyObjective | LagObjective


@dataclass(frozen=True)
class Request:
    """The period as the command line names it (all None: the spec's window)."""

    month: str | None = None
    start: str | None = None
    end: str | None = None
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.month is not None and (self.start is not None or self.end is not None):
            raise periods.PeriodError(
                "--month names a whole calendar month: give it alone, or use --from/--to"
            )
        if self.end is not None and self.start is None:
            raise periods.PeriodError("--to needs --from: give the start of the period too")

    @property
    def given(self) -> bool:
        return self.month is not None or self.start is not None


def resolve_period(
    spec: SloSpec, request: Request, runs: Sequence[LoadTestResults], now: datetime
) -> Period:
    """The period to judge: the command line's, else the spec's window."""
    if request.month is not None:
        return periods.month(request.month, request.zone, now=now)
    if request.start is not None:
        return periods.from_range(request.start, request.end, request.zone, now=now)
    periods.parse_zone(request.zone)  # a bad --tz is an error even when nothing uses it
    if isinstance(spec.window, FixedWindow):
        return periods.fixed(spec.window.start, spec.window.end, now=now)
    if spec.window_seconds is not None:
        return periods.rolling(spec.window_seconds, now)
    if not runs:
        raise ConfigError(
            "the SLO spec's window is 'loadtest', but no load-test results were given; "
            "add --loadtest DIR, or name a period (--month YYYY-MM, --from/--to), or set "
            "window to a duration such as 30d"
        )
    start = min(r.meta.started_at for r in runs)
    end = max(r.meta.ended_at for r in runs)
    return Period(start, end, "loadtest", "the load-test run" + ("s" if len(runs) > 1 else ""))


def _silent(objective: AnyObjective, pop: str, period: Period, spec: SloSpec) -> ObjectiveResult:
    """The result of a PoP that sent nothing in the period: no evidence, never a PASS."""
    issue = DataIssue("missing_series", NO_DATA, period.start, period.end)
    if isinstance(objective, LagObjective):
        lag = LagEvidence(
            REPLICATION_LAG.key, pop, (), REPLICATION_LAG.step_seconds, (issue,), counted=(0, 0)
        )
        return _judge(objective, lag, spec)
    if isinstance(objective, LatencyObjective):
        slow = LatencyEvidence(PROBE_LATENCY.key, pop, objective.threshold, 0, 0, (), (issue,))
        return _judge(objective, slow, spec)
    good = AvailabilityEvidence(objective.sli, pop, 0, 0, period.start, period.end, issues=(issue,))
    return _judge(objective, good, spec)


def _judge(
    objective: AnyObjective,
    evidence: AvailabilityEvidence | LatencyEvidence | LagEvidence,
    spec: SloSpec,
) -> ObjectiveResult:
    """The evaluator of ``objective``'s kind, on ``evidence``."""
    if isinstance(objective, LagObjective):
        assert isinstance(evidence, LagEvidence)
        return evaluate.replication_lag(
            objective.name, evidence, objective.ratio, objective.threshold, spec.confidence
        )
    if isinstance(objective, LatencyObjective):
        assert isinstance(evidence, LatencyEvidence)
        return evaluate.latency(objective.name, evidence, objective.percentile, spec.confidence)
    assert isinstance(evidence, AvailabilityEvidence)
    return evaluate.availability(objective.name, evidence, objective.ratio, spec.confidence)


def _loadtest_objective(
    objective: AvailabilityObjective | LatencyObjective,
    runs: Sequence[LoadTestResults],
    spec: SloSpec,
) -> ObjectiveResult:
    """One result over the pooled runs of one PoP."""
    ops = objective.operations or None
    late = spec.loadtest.max_late_start_ratio
    if isinstance(objective, LatencyObjective):
        ev = lt_in.latency(runs, objective.threshold, ops, max_late_start_ratio=late)
        return evaluate.latency(objective.name, ev, objective.percentile, spec.confidence)
    good = lt_in.availability(runs, ops, max_late_start_ratio=late)
    return evaluate.availability(objective.name, good, objective.ratio, spec.confidence)


def _expected_pops(
    spec: SloSpec, fleet: Fleet | None, found: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(PoPs to judge, PoPs found in the data but not in the fleet inventory)."""
    if fleet is not None:
        return sorted(fleet.names), sorted(set(found) - fleet.names)
    return sorted(set(found) | set(spec.pops)), []


def _local(spec: SloSpec, pop: str, name: str) -> AnyObjective:
    """Objective ``name`` with ``pop``'s overrides applied."""
    return next(o for o in spec.objectives_for(pop) if o.name == name)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Inputs:
    """The files behind a report, as read (for its provenance)."""

    spec_source: str = "<built-in defaults>"
    spec_text: str | None = None
    fleet_source: str = ""
    fleet_text: str = ""


def _provenance(
    spec: SloSpec, inputs: Inputs, evidence: Strategy, countings: Sequence[Counting]
) -> Provenance:
    text = inputs.spec_text
    if text is None:  # the built-in defaults: their canonical form
        text = json.dumps(spec.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    return Provenance(
        spec_source=inputs.spec_source,
        spec_sha256=_sha256(text),
        spec=text,
        evidence=evidence,
        fleet_source=inputs.fleet_source,
        fleet_sha256=_sha256(inputs.fleet_text) if inputs.fleet_source else "",
        countings=tuple(countings),
        tool=f"edgesla {__version__}",
    )


def build(
    spec: SloSpec,
    prometheus: str | None,
    loadtest_dirs: Sequence[Path],
    now: datetime | None = None,
    *,
    request: Request | None = None,
    fleet: Fleet | None = None,
    evidence: Strategy = "fleet",
    inputs: Inputs | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Evaluate ``spec`` on the given sources; ConfigError for unusable input (exit 2)."""
    if prometheus is None and not loadtest_dirs:
        raise ConfigError("no evidence to judge: give --prometheus URL and/or --loadtest DIR")
    runs = [read_results(path) for path in loadtest_dirs]
    period = resolve_period(spec, request or Request(), runs, now or datetime.now(UTC))
    results: list[ObjectiveResult] = []
    issues: list[DataIssue] = []
    sources: list[str] = []
    unlisted: list[str] = []
    countings: list[Counting] = []
    if prometheus is not None:
        client = PrometheusClient(prometheus)
        lags = any(isinstance(o, LagObjective) for o in spec.objectives)
        source, caveat = store.describe(client, lag=lags)
        sources.append(source)
        issues += [caveat] if caveat else []
        found = prom_in.pops(client, period.start, period.end)
        if not found:
            raise ConfigError(
                f"Prometheus at {prometheus} holds no edgesla exporter series in the period "
                f"{period.text()}; is the period older than the server's retention, or before "
                "its exporters were scraped? Name a period with data (--month, --from/--to), "
                "or check --prometheus"
            )
        pops, unlisted = _expected_pops(spec, fleet, found)
        engine = Engine(client, period, spec.maintenance_windows, evidence)
        for objective in spec.objectives:
            if objective.from_loadtest:
                continue
            local = {pop: _local(spec, pop, objective.name) for pop in pops}
            with_data = {pop: o for pop, o in local.items() if pop in found}
            plural = "" if len(with_data) == 1 else "s"
            progress(f"{objective.name}: counting {len(with_data):,} PoP{plural}")
            answer = engine.answer(with_data) if with_data else Answer()
            for pop, o in local.items():
                ev = answer.by_pop.get(pop)
                results.append(_judge(o, ev, spec) if ev else _silent(o, pop, period, spec))
            countings.append(
                Counting(
                    objective.name,
                    answer.source,
                    tuple(answer.queries),
                    tuple(sorted(answer.per_pop)),
                    tuple(sorted(answer.sliced)),
                )
            )
        if unlisted:
            issues.append(
                DataIssue(
                    "other",
                    f"not in the fleet inventory, so not judged: {', '.join(unlisted)} "
                    "(their exporters send data; add them to the fleet file, or fix their "
                    "pop label)",
                )
            )
    by_pop = lt_in.pool_by_pop(runs)
    for pop, pooled in by_pop.items():
        sources += [f"load test {run.path}" for run in pooled]
        for objective in spec.objectives_for(pop):
            if objective.from_loadtest:
                assert not isinstance(objective, LagObjective)
                results.append(_loadtest_objective(objective, pooled, spec))
    read = tuple(f"load-test results {run.path}" for run in runs)
    countings += [
        Counting(o.name, "load-test results (pooled per PoP)", read)
        for o in spec.objectives
        if o.from_loadtest and runs
    ]
    skipped = sorted({o.name for o in spec.objectives} - {r.name for r in results})
    if skipped:
        issues.append(
            DataIssue(
                "other",
                f"not evaluated, their source was not given or had no data: {', '.join(skipped)}",
            )
        )
    return evaluate.build_report(
        results,
        title=spec.title,
        generated_at=datetime.now(UTC),
        window_start=period.start,
        window_end=period.end,
        confidence=spec.confidence,
        sources=tuple(sources),
        maintenance=spec.maintenance_windows,
        issues=tuple(issues),
        period=period.label,
        unlisted_pops=tuple(unlisted),
        provenance=_provenance(spec, inputs or Inputs(), evidence, countings),
    )
