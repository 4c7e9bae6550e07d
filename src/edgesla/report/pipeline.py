"""spec -> evidence -> evaluators -> Report: what ``edgesla report`` runs.

Each objective of the spec is evaluated for each PoP found in its source (Prometheus, or
the load-test results). An objective whose source was not given (a load-test objective and
no ``--loadtest``) is not evaluated and the report says so; a report in which nothing could
be evaluated is INCONCLUSIVE — never PASS without evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edgesla import conventions as conv
from edgesla._errors import ConfigError
from edgesla.report import evaluate
from edgesla.report.inputs import loadtest as lt_in
from edgesla.report.inputs import prometheus as prom_in
from edgesla.report.inputs._client import PrometheusClient
from edgesla.report.model import DataIssue, ObjectiveResult, Report
from edgesla.report.spec import AvailabilityObjective, LagObjective, LatencyObjective, SloSpec
from loadtests.results import LoadTestResults, read_results

__all__ = ["build"]

CONTROL_PLANE_PROBERS = ("etcd", "kube_apiserver")
LAG_STEP_SECONDS = 15.0


def _window(
    spec: SloSpec, runs: Sequence[LoadTestResults], now: datetime
) -> tuple[datetime, datetime]:
    if spec.window_seconds is not None:
        return now - timedelta(seconds=spec.window_seconds), now
    if not runs:
        raise ConfigError(
            "the SLO spec's window is 'loadtest', but no load-test results were given; "
            "add --loadtest DIR, or set window to a duration such as 30d"
        )
    return min(r.meta.started_at for r in runs), max(r.meta.ended_at for r in runs)


def _control_plane_targets(url: str, pop: str, start: datetime, end: datetime) -> list[str]:
    client = PrometheusClient(url)
    targets: list[str] = []
    for prober in CONTROL_PLANE_PROBERS:
        match = f'{conv.PROBE_UP}{{pop="{pop}",prober="{prober}"}}'
        targets += client.label_values(conv.LABEL_TARGET, match, start.timestamp(), end.timestamp())
    return sorted(set(targets))


def _probe_objective(
    objective: AvailabilityObjective | LatencyObjective | LagObjective,
    url: str,
    pop: str,
    start: datetime,
    end: datetime,
    spec: SloSpec,
) -> ObjectiveResult:
    maintenance = spec.maintenance_windows
    if isinstance(objective, LagObjective):
        lag = prom_in.replication_lag(url, start, end, pop=pop, step=LAG_STEP_SECONDS)
        return evaluate.replication_lag(
            objective.name, lag, objective.ratio, objective.threshold, spec.confidence
        )
    if isinstance(objective, LatencyObjective):
        slow = prom_in.latency(
            url,
            start,
            end,
            pop=pop,
            threshold=objective.threshold,
            targets=objective.targets or None,
            maintenance=maintenance,
        )
        return evaluate.latency(objective.name, slow, objective.percentile, spec.confidence)
    targets: Sequence[str] | None = objective.targets or None
    if objective.sli == "controlplane_ready" and targets is None:
        targets = _control_plane_targets(url, pop, start, end) or ["(no control-plane target)"]
    good = prom_in.availability(
        url, start, end, pop=pop, targets=targets, maintenance=maintenance, sli=objective.sli
    )
    return evaluate.availability(objective.name, good, objective.ratio, spec.confidence)


def _loadtest_objective(
    objective: AvailabilityObjective | LatencyObjective, run: LoadTestResults, spec: SloSpec
) -> ObjectiveResult:
    ops = objective.operations or None
    if isinstance(objective, LatencyObjective):
        ev = lt_in.latency(run, objective.threshold, ops)
        return evaluate.latency(objective.name, ev, objective.percentile, spec.confidence)
    return evaluate.availability(
        objective.name, lt_in.availability(run, ops), objective.ratio, spec.confidence
    )


def _uses_loadtest(objective: AvailabilityObjective | LatencyObjective | LagObjective) -> bool:
    if isinstance(objective, LatencyObjective):
        return objective.source == "loadtest"
    return isinstance(objective, AvailabilityObjective) and objective.sli == "loadtest_success"


def build(
    spec: SloSpec,
    prometheus: str | None,
    loadtest_dirs: Sequence[Path],
    now: datetime | None = None,
) -> Report:
    """Evaluate ``spec`` on the given sources; ConfigError for unusable input (exit 2)."""
    if prometheus is None and not loadtest_dirs:
        raise ConfigError("no evidence to judge: give --prometheus URL and/or --loadtest DIR")
    runs = [read_results(path) for path in loadtest_dirs]
    start, end = _window(spec, runs, now or datetime.now(UTC))
    results: list[ObjectiveResult] = []
    issues: list[DataIssue] = []
    sources: list[str] = []
    if prometheus is not None:
        sources.append(f"Prometheus {prometheus}")
        for pop in prom_in.pops(prometheus, start, end) or []:
            for objective in spec.objectives_for(pop):
                if not _uses_loadtest(objective):
                    results.append(_probe_objective(objective, prometheus, pop, start, end, spec))
        if not any(r for r in results):
            issues.append(
                DataIssue(
                    "missing_series",
                    f"no edgesla exporter data in {prometheus} "
                    "for the window: no PoP could be judged from probes",
                )
            )
    for run in runs:
        sources.append(f"load test {run.path}")
        pop = run.meta.pop or "loadtest"
        for objective in spec.objectives_for(pop):
            if _uses_loadtest(objective):
                assert not isinstance(objective, LagObjective)
                results.append(_loadtest_objective(objective, run, spec))
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
        window_start=start,
        window_end=end,
        confidence=spec.confidence,
        sources=tuple(sources),
        maintenance=spec.maintenance_windows,
        issues=tuple(issues),
    )
