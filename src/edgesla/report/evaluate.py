"""Evaluators: evidence in, verdicts out. Pure functions: no I/O, no clock, no globals.

Every objective is judged the same way, on a count of good events out of a total:

* **PASS** only when the one-sided lower confidence bound clears the objective: the data
  proves it at ``confidence``;
* **FAIL** when the upper bound is below the objective: the data proves it broken;
* **INCONCLUSIVE** otherwise, with how many more good events (in a row, no failure) would
  make a PASS; and always when nothing was counted or a series is missing (a
  ``missing_series`` issue), because missing data is never a PASS. Other issues (gaps,
  counter resets) are shown with the result but do not block the verdict: the inputs have
  already corrected the counts for them.

``availability``, ``latency`` and ``replication_lag`` judge one PoP; ``roll_up`` adds a
``pop="fleet"`` result per objective; ``build_report`` orders everything into a ``Report``.
Bounds are rounded to 10 decimals so golden files do not depend on scipy's last ulp.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from edgesla import wording
from edgesla.report import resolution, stats
from edgesla.report.model import (
    AvailabilityEvidence,
    DataIssue,
    LagEvidence,
    LatencyEvidence,
    ObjectiveKind,
    ObjectiveResult,
    Provenance,
    Report,
    Verdict,
    overall,
)
from edgesla.slo.sli import words_of

__all__ = ["FLEET", "availability", "build_report", "latency", "replication_lag", "roll_up"]

#: The ``pop`` of roll-up results.
FLEET = "fleet"
_SEVERITY: dict[Verdict, int] = {"FAIL": 0, "INCONCLUSIVE": 1, "PASS": 2}
_Summary = Callable[[ObjectiveResult, str], str]


# --- formatting: numbers a manager reads --------------------------------------------------


def _pct_text(fraction: float) -> str:
    """0.99999 -> "99.999 %" (exact decimal digits, no float noise)."""
    number = Decimal(str(round(fraction * 100, 8))).normalize()
    return f"{number:f} %"


def _decimals(objective: float) -> int:
    """Digits that tell a measured share from the objective: one more than it has."""
    text = _pct_text(objective).removesuffix(" %")
    return max(2, len(text.partition(".")[2]) + 1)


def _pct(fraction: float, digits: int, rounding: Callable[[float], float] = math.floor) -> str:
    """A share in percent, floored by default so a share below 100 % never shows as 100."""
    if fraction == 1:
        return "100 %"
    scaled = rounding(fraction * 100 * 10**digits + (1e-7 if rounding is math.floor else -1e-7))
    return f"{scaled / 10**digits:.{digits}f} %"


def _upper(result: ObjectiveResult, digits: int) -> str:
    """The upper bound rounded up, with digits added until it reads as below the objective."""
    assert result.upper_bound is not None
    goal = round(result.objective * 100, 8)
    while (
        digits < 8 and math.ceil(result.upper_bound * 100 * 10**digits - 1e-7) / 10**digits >= goal
    ):
        digits += 1
    return _pct(result.upper_bound, digits, math.ceil)


_duration = wording.span


def _blocking(issues: Sequence[DataIssue]) -> DataIssue | None:
    return next((i for i in issues if i.kind in ("missing_series", "incomplete")), None)


def _incomplete(
    unobserved: float, period: float, objective: float, what: str
) -> tuple[DataIssue, ...]:
    """When the unmeasured time alone could hold more bad time than the objective allows:
    the data cannot give a verdict (missing data is never a PASS)."""
    allowed = (1 - objective) * period
    if unobserved <= allowed or unobserved <= 0:
        return ()
    return (
        DataIssue(
            "incomplete",
            f"nothing was measured for {_duration(unobserved)} of the period — more than the "
            f"{_duration(allowed)} of {what} the objective allows in it, so the missing time "
            "alone could break it",
            seconds=unobserved,
        ),
    )


def _bracket(
    downtime: float | None, outages: int | None, resolution: float | None, allowed: float
) -> tuple[tuple[float, float] | None, tuple[DataIssue, ...]]:
    """The downtime as the probe interval knows it, and a note when that is coarser than the
    objective's whole budget (five nines: 25.9 s in 30 days, under two 15-s intervals)."""
    if downtime is None or outages is None or not resolution:
        return None, ()
    width = outages * resolution
    bracket = (max(0.0, downtime - width), downtime + width)
    if 2 * width <= allowed:
        return bracket, ()
    note = DataIssue(
        "resolution",
        f"probed every {_duration(resolution)}, each of the {outages:,} outage(s) is known "
        f"only to ±{_duration(resolution)} at each end: downtime between "
        f"{_duration(bracket[0])} and {_duration(bracket[1])}, a spread wider than the "
        f"objective's whole {_duration(allowed)} budget; probe more often to measure downtime "
        "at this objective (outages shorter than an interval can go unseen)",
        seconds=2 * width,
    )
    return bracket, (note,)


def _noun(sli: str, kind: ObjectiveKind) -> str:
    return words_of(sli, kind).noun


# --- the one judgement --------------------------------------------------------------------


def _judge(
    name: str,
    kind: ObjectiveKind,
    pop: str,
    objective: float,
    good: int,
    total: int,
    confidence: float,
    issues: tuple[DataIssue, ...],
) -> ObjectiveResult:
    """Verdict, bounds, events needed and budget of ``good`` of ``total``; no summary yet."""
    lower = upper = measured = None
    needed: int | None = None
    verdict: Verdict = "INCONCLUSIVE"
    if total == 0:
        needed = stats.events_needed(objective, confidence, 0, 0)
    else:
        measured = good / total
        lower = round(stats.lower_bound(good, total, confidence), 10)
        upper = round(stats.upper_bound(good, total, confidence), 10)
        if _blocking(issues) is not None:
            pass  # never PASS (nor FAIL) on incomplete data
        elif lower >= objective:
            verdict, needed = "PASS", 0
        elif upper < objective:
            # broken — unless the load generator itself was the bottleneck (one rule, shared
            # with the load-test gate: slo.sli.loadtest.generator_limit)
            verdict = "INCONCLUSIVE" if _generator(issues) else "FAIL"
        else:
            needed = stats.events_needed(objective, confidence, good, total)
    spent = stats.budget(objective, total, total - good)
    return ObjectiveResult(
        name=name,
        kind=kind,
        pop=pop,
        verdict=verdict,
        objective=objective,
        good=good,
        total=total,
        measured=measured,
        lower_bound=lower,
        upper_bound=upper,
        confidence=confidence,
        events_needed=needed,
        budget_allowed=spent.allowed,
        budget_consumed=spent.consumed,
        downtime_seconds=None,
        issues=issues,
    )


def _generator(issues: Sequence[DataIssue]) -> DataIssue | None:
    return next((i for i in issues if i.kind == "generator"), None)


def _claim(r: ObjectiveResult, noun: str, what: str, unit: str, label: str = "") -> str:
    """The verdict clause shared by all kinds: what the bound shows, against the objective."""
    conf, goal, digits = _pct_text(r.confidence), _pct_text(r.objective), _decimals(r.objective)
    goal += label
    assert r.lower_bound is not None
    limited = _generator(r.issues)
    if r.verdict == "INCONCLUSIVE" and limited is not None and r.events_needed is None:
        shown = _upper(r, digits)
        return (
            f"at {conf} confidence {what} is at most {shown} — below the {goal} objective, but "
            f"not proven against the target: {limited.detail.partition(': ')[2]}."
        )
    if r.verdict == "PASS":
        shown = _pct(r.lower_bound, digits)
        return f"at {conf} confidence {what} is at least {shown} — above the {goal} objective."
    if r.verdict == "FAIL":
        shown = _upper(r, digits)
        return f"at {conf} confidence {what} is at most {shown} — below the {goal} objective."
    return (
        f"at {conf} confidence {what} is only known to be at least {_pct(r.lower_bound, digits)} "
        f"— too little evidence for the {goal} objective: {r.events_needed:,} more {noun} "
        f"{unit} without a single failure are needed."
    )


def _no_data(r: ObjectiveResult, noun: str, head: str) -> str | None:
    """The sentence for missing data, or None when the data is there."""
    issue = _blocking(r.issues)
    goal = _pct_text(r.objective)
    if r.total == 0:
        why = f" ({issue.detail.rstrip('.')})" if issue else ""
        return (
            f"No {noun} were counted in the window{why}, so the {goal} objective cannot be "
            f"judged: at least {r.events_needed:,} {noun} without a failure are needed."
        )
    if issue is not None:
        return (
            f"{head} in the data found, but {issue.detail.rstrip('.')}; the {goal} objective "
            f"cannot be judged until the data is complete."
        )
    return None


def _availability_summary(r: ObjectiveResult, noun: str) -> str:
    bad = r.total - r.good
    head = f"{_pct(r.measured or 0.0, _decimals(r.objective))} of {r.total:,} {noun} succeeded"
    head += f" ({bad:,} failed)" if bad else ""
    return _no_data(r, noun, head) or f"{head}; " + _claim(
        r, noun, "the true availability", "in a row"
    )


def _latency_summary(r: ObjectiveResult, noun: str) -> str:
    limit = _duration(r.threshold_seconds or 0.0)
    share = _pct(r.measured or 0.0, _decimals(r.objective))
    head = f"{share} of {r.total:,} {noun} finished within {limit} ({r.total - r.good:,} slower)"
    label = f" (p{_pct_text(r.objective).removesuffix(' %')} ≤ {limit})"
    return _no_data(r, noun, head) or f"{head}; " + _claim(
        r, noun, "the true share", f"within {limit} in a row", label
    )


def _lag_summary(
    r: ObjectiveResult, lags: Sequence[float], step: float, worst: float | None = None
) -> str:
    limit = _duration(r.threshold_seconds or 0.0)
    finite = sorted(x for x in lags if math.isfinite(x))
    spread = ""
    if finite:
        p50, p99 = (finite[max(0, math.ceil(q * len(finite)) - 1)] for q in (0.50, 0.99))
        spread = f" (p50 {_duration(p50)}, p99 {_duration(p99)}, max {_duration(finite[-1])})"
    elif worst is not None:
        spread = f" (worst {_duration(worst)})"
    over = (r.total - r.good) * step
    head = (
        f"Replication lag stayed within {limit} for "
        f"{_pct(r.measured or 0.0, _decimals(r.objective))} of {_duration(r.total * step)}"
        f"{spread}, {_duration(over)} over it"
    )
    return _no_data(r, "lag samples", head) or f"{head}; " + _claim(
        r, "samples", "the true share of time", f"within {limit} in a row"
    )


# --- evaluators -------------------------------------------------------------------------


def availability(
    name: str,
    evidence: AvailabilityEvidence,
    objective: float,
    confidence: float,
    *,
    noun: str | None = None,
) -> ObjectiveResult:
    """Judge good/total events of one SLI at one PoP against ``objective`` (a fraction).

    Downtime is the evidence's own (time the SLI was failing) when it has one, else an
    estimate: the failing share of events times the window. ``noun`` names the events in
    the summary ("probes", "requests"); by default it follows ``evidence.sli``.
    """
    window = (evidence.window_end - evidence.window_start).total_seconds()
    issues = evidence.issues + _incomplete(
        evidence.unobserved_seconds, window, objective, "failure time"
    )
    result = _judge(
        name,
        "availability",
        evidence.pop,
        objective,
        evidence.good,
        evidence.total,
        confidence,
        issues,
    )
    downtime = evidence.downtime_seconds
    if downtime is None and evidence.total:
        downtime = round((evidence.total - evidence.good) / evidence.total * window, 3)
    bracket, notes = _bracket(
        downtime, evidence.outages, evidence.resolution_seconds, (1 - objective) * window
    )
    coarse = resolution.resolution_issue(evidence.probe_intervals, (1 - objective) * window, window)
    if coarse is not None and resolution.is_control_plane(evidence.sli):
        notes += (coarse,)
    result = dataclasses.replace(
        result,
        downtime_seconds=downtime,
        downtime_bracket=bracket,
        evidence=evidence,
        issues=result.issues + notes,
        probe_interval_seconds=resolution.coarsest(evidence.probe_intervals),
    )
    summary = _availability_summary(result, noun or _noun(evidence.sli, "availability"))
    return dataclasses.replace(result, summary=summary)


def latency(
    name: str,
    evidence: LatencyEvidence,
    percentile: float,
    confidence: float,
    *,
    noun: str | None = None,
) -> ObjectiveResult:
    """Judge "p``percentile`` < threshold": the share of requests within the evidence's
    threshold (good = total - over, counted exactly) against ``percentile / 100``."""
    issues = evidence.issues + _incomplete(
        evidence.unobserved_seconds, evidence.period_seconds, percentile / 100, "slow time"
    )
    result = _judge(
        name,
        "latency",
        evidence.pop,
        percentile / 100,
        evidence.total - evidence.over,
        evidence.total,
        confidence,
        issues,
    )
    result = dataclasses.replace(
        result, threshold_seconds=evidence.threshold_seconds, evidence=evidence
    )
    summary = _latency_summary(result, noun or _noun(evidence.sli, "latency"))
    return dataclasses.replace(result, summary=summary)


def replication_lag(
    name: str,
    evidence: LagEvidence,
    objective: float,
    threshold: float,
    confidence: float,
) -> ObjectiveResult:
    """Judge the share of time the lag stays at or under ``threshold`` (seconds).

    Each sample stands for ``step_seconds`` of time; a sample that is not a number (NaN:
    lag unknown) counts as over the threshold. Time over the threshold is the result's
    ``downtime_seconds``. The bound treats samples as independent events, which lag is not:
    it moves slowly, so neighbouring samples say nearly the same thing and the true
    confidence is lower than stated. Sample no more often than lag changes (the heartbeat
    interval) and read a lag PASS as "no sign of trouble" rather than proof.
    """
    lags = [lag for _, lag in evidence.samples]
    if evidence.counted is None:
        good, total = sum(1 for lag in lags if lag <= threshold), len(lags)
    else:
        good, total = evidence.counted
    issues = evidence.issues + _incomplete(
        evidence.unobserved_seconds, evidence.period_seconds, objective, "time over the threshold"
    )
    result = _judge(
        name, "replication_lag", evidence.pop, objective, good, total, confidence, issues
    )
    result = dataclasses.replace(
        result,
        downtime_seconds=(total - good) * evidence.step_seconds,
        threshold_seconds=threshold,
        evidence=evidence,
    )
    spread = lags if evidence.counted is None else []
    worst = max((lag for lag in lags if math.isfinite(lag)), default=None)
    summary = _lag_summary(result, spread, evidence.step_seconds, worst)
    return dataclasses.replace(result, summary=summary)


def roll_up(
    results: Sequence[ObjectiveResult],
    confidence: float,
    *,
    objectives: Mapping[str, float] | None = None,
) -> list[ObjectiveResult]:
    """One ``pop="fleet"`` result per objective name, in order of first appearance.

    Good and total events are summed over the PoPs and judged the same way as one PoP's,
    against ``objectives[name]`` (the spec's objective before per-PoP overrides) or, when
    not given, the strictest objective any PoP has. A PoP that FAILs fails the fleet too,
    whatever the pooled figures say: a fleet average must not hide a broken PoP.
    Downtime is not summed (PoP-seconds are not fleet downtime): it is None.
    """
    groups: dict[str, list[ObjectiveResult]] = {}
    for result in results:
        if result.pop != FLEET:
            groups.setdefault(result.name, []).append(result)
    fleet: list[ObjectiveResult] = []
    for name, group in groups.items():
        kinds = {r.kind for r in group}
        if len(kinds) != 1:
            raise ValueError(f"objective {name!r} has results of kinds {sorted(kinds)}")
        kind = group[0].kind
        goal = (objectives or {}).get(name, max(r.objective for r in group))
        issues = tuple(
            dataclasses.replace(i, detail=f"{r.pop}: {i.detail}") for r in group for i in r.issues
        )
        pooled = _judge(
            name,
            kind,
            FLEET,
            goal,
            sum(r.good for r in group),
            sum(r.total for r in group),
            confidence,
            issues,
        )
        thresholds = {r.threshold_seconds for r in group}
        intervals = [r.probe_interval_seconds for r in group if r.probe_interval_seconds]
        pooled = dataclasses.replace(
            pooled,
            threshold_seconds=thresholds.pop() if len(thresholds) == 1 else None,
            probe_interval_seconds=max(intervals, default=None),
        )
        if kind == "replication_lag":
            lags = [
                lag
                for r in group
                if isinstance(r.evidence, LagEvidence)
                for _, lag in r.evidence.samples
            ]
            steps = {r.evidence.step_seconds for r in group if isinstance(r.evidence, LagEvidence)}
            text = _lag_summary(pooled, lags, steps.pop() if len(steps) == 1 else 0.0)
        else:
            describe: _Summary = (
                _availability_summary if kind == "availability" else _latency_summary
            )
            evidence = group[0].evidence
            sli = evidence.sli if evidence is not None else ""
            text = describe(pooled, _noun(sli, kind))
        text = f"Across {len(group)} PoPs: {text[0].lower()}{text[1:]}"
        failing = sorted(r.pop for r in group if r.verdict == "FAIL")
        if failing and pooled.verdict != "FAIL":
            who = ", ".join(failing)
            verb = "fails" if len(failing) == 1 else "fail"
            own = "its own" if len(failing) == 1 else "their own"
            text += f" But {who} {verb} this objective on {own}, so the fleet fails it too."
            pooled = dataclasses.replace(pooled, verdict="FAIL", events_needed=None)
        elif failing:
            text += f" PoPs that fail it on their own: {', '.join(failing)}."
        fleet.append(dataclasses.replace(pooled, summary=text))
    return fleet


def _order(result: ObjectiveResult) -> tuple[bool, str, int, str]:
    return (result.pop == FLEET, result.pop, _SEVERITY[result.verdict], result.name)


def build_report(
    results: Sequence[ObjectiveResult],
    *,
    title: str,
    generated_at: datetime,
    window_start: datetime,
    window_end: datetime,
    confidence: float,
    sources: Sequence[str] = (),
    maintenance: Sequence[tuple[datetime, datetime, str]] = (),
    issues: Sequence[DataIssue] = (),
    fleet_objectives: Mapping[str, float] | None = None,
    period: str = "",
    unlisted_pops: Sequence[str] = (),
    provenance: Provenance | None = None,
) -> Report:
    """Gather per-PoP results into a ``Report``: PoPs by name, worst verdict first within
    each, then the fleet roll-up (added when there is more than one PoP). The overall
    verdict is ``model.overall`` of every result: nothing to judge is INCONCLUSIVE."""
    per_pop = [r for r in results if r.pop != FLEET]
    pops = sorted({r.pop for r in per_pop})
    fleet = roll_up(per_pop, confidence, objectives=fleet_objectives) if len(pops) > 1 else []
    ordered = tuple(sorted([*per_pop, *fleet], key=_order))
    return Report(
        title=title,
        generated_at=generated_at,
        window_start=window_start,
        window_end=window_end,
        confidence=confidence,
        verdict=overall([r.verdict for r in ordered]),
        objectives=ordered,
        pops=tuple(pops),
        sources=tuple(sources),
        maintenance=tuple(maintenance),
        issues=tuple(issues),
        period=period,
        unlisted_pops=tuple(unlisted_pops),
        provenance=provenance,
    )
