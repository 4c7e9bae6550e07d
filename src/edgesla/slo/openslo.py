"""OpenSLO v1 → the edgesla SLO spec (``edgesla slo import FILE``).

A pipeline, each step pure: the file's YAML documents (several per file, or lists of them)
→ each read by its kind (``SLO``, ``SLI``, ``DataSource`` checked, ``Service`` ignored)
→ per SLO: its indicator as an edgesla SLI kind (``openslo_sli``), its window, its objectives
→ one spec mapping → edgesla's own strict loader (``parse_spec``) → YAML text.

What maps:

    indicator / indicatorRef       the SLI kind, from the series and matchers of its queries
    objectives[].target            objective (a fraction; or targetPercent), percentile for
                                   latency; several objectives: one edgesla objective each,
                                   named <slo>-1, <slo>-2...
    objectives[].op, value         a thresholdMetric's threshold (replication lag: op lte)
    a pop="x" matcher              an override under pops: of the fleet-wide SLO over the
                                   same series (``openslo_pops``)
    timeWindow                     window: a rolling duration (m, h, d, w); every SLO of the
                                   file must have the same one (a spec has one window)
    budgetingMethod                Occurrences (edgesla counts events); Timeslices and
                                   RatioTimeslices are refused: edgesla does not judge slices

SLI documents that no SLO uses are not read. Everything else is refused — every problem of
the file listed at once, each naming the document (``SLO name``), the field and what edgesla
supports (``ConfigError``, exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml

from edgesla._errors import ConfigError
from edgesla.durations import format_duration
from edgesla.locations import printable
from edgesla.slo.openslo_nodes import Refusal, fields, optional, required
from edgesla.slo.openslo_pops import Made, fold
from edgesla.slo.openslo_sli import Indicator, indicator, seconds_text
from edgesla.slo.spec import SPEC_VERSION, SloSpec, parse_spec
from edgesla.yamlfile import read_yaml_documents

__all__ = ["API_VERSION", "Imported", "convert", "import_file"]

API_VERSION = "openslo/v1"
#: OpenSLO's RFC 1123 names (dots too, as OpenSLO encourages), all valid edgesla objective names
_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$")
_SHORTHAND = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_KINDS = ("SLO", "SLI", "DataSource", "Service")
_REFUSED_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
_ALERTS = (
    "edgesla's alerts come from `edgesla rules` (multi-window burn rates from the spec, "
    "guarded by its alerting: key), not from OpenSLO alert policies; remove them to import"
)
_SLICES = (
    "edgesla counts occurrences (good events over all events, exact counter increases) and "
    "does not judge time slices: use budgetingMethod: Occurrences"
)
_COMPOSITE = "composite SLOs (an indicator per objective) are not imported; one indicator per SLO"
_OBJECTIVE_REFUSED = {
    "timeSliceTarget": _SLICES,
    "timeSliceWindow": _SLICES,
    "indicator": _COMPOSITE,
    "indicatorRef": _COMPOSITE,
    "compositeWeight": _COMPOSITE,
}
_WINDOW_HINT = "e.g. timeWindow: [{duration: 28d, isRolling: true}]"
_SLO_KEYS = (
    "description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod",
    "objectives", "alertPolicies",
)  # fmt: skip
T = TypeVar("T")


@dataclass(frozen=True)
class Imported:
    spec: SloSpec  #: as edgesla's loader read the text back
    text: str  #: the spec file


@dataclass(frozen=True)
class _Document:
    kind: str
    name: str
    spec: Any
    metadata: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


class _Problems(Exception):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def import_file(path: Path) -> Imported:
    """Read ``path`` (OpenSLO v1, YAML documents) and convert it; ConfigError (exit 2)
    listing everything that cannot be mapped."""
    source = str(path)
    spec = convert(read_yaml_documents(path, "the OpenSLO file"), source)
    text = _render(spec, source)
    loaded = parse_spec(yaml.safe_load(text), f"{source} (imported)")
    return Imported(loaded, text)


def convert(documents: list[Any], source: str) -> dict[str, Any]:
    """The spec mapping from the parsed documents; ConfigError listing every refusal."""
    try:
        docs, problems = _read(documents)
        return _spec(docs, problems)
    except _Problems as exc:
        raise ConfigError(
            f"{source}: cannot import as an edgesla SLO spec:\n"
            + "\n".join(f"  {line}" for line in exc.lines)
        ) from None


def _read(documents: list[Any]) -> tuple[list[_Document], list[str]]:
    """Every object of the file as a document, each checked for its version, kind, name;
    and the problems of those that are not."""
    flat = [d for doc in documents for d in (doc if isinstance(doc, list) else [doc])]
    found, problems, seen = [], [], set()
    for i, doc in enumerate(d for d in flat if d is not None):
        label = f"document {i + 1}"
        try:
            found.append(_document(doc))
        except Refusal as exc:
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            name = meta.get("name") if isinstance(meta, dict) else None
            kind = doc.get("kind") if isinstance(doc, dict) else None
            if isinstance(name, str) and isinstance(kind, str):
                label = f"{printable(kind)} {printable(name)}"
            problems.append(f"{label}: {exc}")
            continue
        if (found[-1].kind, found[-1].name) in seen:
            problems.append(f"{found[-1].label}: metadata.name: used twice; names are unique")
        seen.add((found[-1].kind, found[-1].name))
    if not problems and not any(d.kind == "SLO" for d in found):
        problems.append(f"no SLO document (apiVersion: {API_VERSION}, kind: SLO) in the file")
    return found, problems


def _document(doc: object) -> _Document:
    node = fields(doc, "(top level)", ("apiVersion", "kind", "metadata", "spec"))
    version = node.get("apiVersion")
    if version != API_VERSION:
        raise Refusal("apiVersion", f"{version!r}: edgesla imports {API_VERSION} documents")
    kind = required(node, "kind", "", "one of " + ", ".join(_KINDS))
    if kind in _REFUSED_KINDS:
        raise Refusal("kind", f"{kind}: {_ALERTS}")
    if kind not in _KINDS:
        raise Refusal(
            "kind",
            f"unknown kind {kind!r}; edgesla imports SLO and SLI (DataSource is checked, "
            "Service ignored)",
        )
    metadata = fields(
        required(node, "metadata", "", "give metadata: {name: ...}"),
        "metadata",
        ("name", "displayName", "labels", "annotations"),
    )
    name = required(metadata, "name", "metadata", "give the document a name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise Refusal(
            "metadata.name",
            f"{name!r}: names are lowercase letters, digits, '-' and '.', at most 63 (RFC 1123)",
        )
    return _Document(kind, name, node.get("spec"), metadata)


def _source_types(docs: list[_Document]) -> tuple[dict[str, str], list[str]]:
    """DataSource name → type, and the problems of the DataSource documents."""
    types, problems = {}, []
    for doc in (d for d in docs if d.kind == "DataSource"):
        try:
            spec = fields(doc.spec, "spec", ("description", "type", "connectionDetails"))
            kind = required(spec, "type", "spec", "give the source's type, e.g. Prometheus")
            types[doc.name] = str(kind)
        except Refusal as exc:
            problems.append(f"{doc.label}: {exc}")
    return types, problems


def _spec(docs: list[_Document], problems: list[str]) -> dict[str, Any]:
    sources, more = _source_types(docs)
    problems = [*problems, *more]
    slis = {d.name: d for d in docs if d.kind == "SLI"}
    indicators: dict[str, Indicator | None] = {}
    windows: dict[str, float] = {}
    made: list[Made] = []
    for slo in (d for d in docs if d.kind == "SLO"):
        node = _attempt(problems, slo, partial(fields, slo.spec, "spec", _SLO_KEYS))
        if node is None:
            continue
        _attempt(problems, slo, partial(_budgeting, node))
        window = _attempt(problems, slo, partial(_window, node))
        if window is not None:
            windows[slo.name] = window
        step = partial(_indicator, slo, node, slis, sources, indicators, problems)
        found = _attempt(problems, slo, step)
        if found is not None:
            made += _attempt(problems, slo, partial(_objectives, slo, node, found)) or []
    problems += _one_window(windows)
    objectives, pops, more = fold(made)
    problems += more + _unique(objectives)
    if problems:
        raise _Problems(problems)
    window = next(iter(windows.values()))
    spec = {"version": SPEC_VERSION, "window": format_duration(window), "objectives": objectives}
    return {**spec, "pops": pops} if pops else spec


def _attempt(problems: list[str], slo: _Document, step: Callable[[], T]) -> T | None:
    """``step()``, or None with its refusal added to ``problems``: the independent parts of
    an SLO (budgeting, window, indicator) are each checked, and every refusal listed."""
    try:
        return step()
    except Refusal as exc:
        problems.append(f"{slo.label}: {exc}")
        return None


def _budgeting(node: Mapping[str, Any]) -> None:
    """Occurrences, and no alert policies."""
    if node.get("alertPolicies"):
        raise Refusal("spec.alertPolicies", _ALERTS)
    method = required(node, "budgetingMethod", "spec", "write budgetingMethod: Occurrences")
    if method != "Occurrences":
        raise Refusal("spec.budgetingMethod", f"{method}: {_SLICES}")


def _indicator(
    slo: _Document,
    node: Mapping[str, Any],
    slis: Mapping[str, _Document],
    sources: Mapping[str, str],
    done: dict[str, Indicator | None],
    problems: list[str],
) -> Indicator | None:
    """The SLO's indicator: inline (its refusals are the SLO's) or a referenced SLI document
    (its refusals are the SLI's, listed once however many SLOs use it); None when refused."""
    inline, ref = node.get("indicator"), node.get("indicatorRef")
    if (inline is None) == (ref is None):
        raise Refusal("spec", "give exactly one of indicator and indicatorRef")
    if inline is not None:
        part = fields(inline, "spec.indicator", ("metadata", "spec"))
        spec = required(part, "spec", "spec.indicator", "give the indicator's spec")
        return indicator(spec, "spec.indicator.spec", sources)
    if not isinstance(ref, str) or ref not in slis:
        known = ", ".join(sorted(slis)) or "none in the file"
        raise Refusal("spec.indicatorRef", f"no SLI document named {ref!r} (SLIs: {known})")
    if ref not in done:
        try:
            done[ref] = indicator(slis[ref].spec, "spec", sources)
        except Refusal as exc:
            done[ref] = None
            problems.append(f"{slis[ref].label} (indicator of SLO {slo.name}): {exc}")
    return done[ref]


def _window(node: Mapping[str, Any]) -> float:
    """The SLO's rolling window in seconds."""
    items = required(node, "timeWindow", "spec", "edgesla judges over a window: " + _WINDOW_HINT)
    if not isinstance(items, list) or len(items) != 1:
        raise Refusal(
            "spec.timeWindow", "a list of exactly one window (OpenSLO v1); " + _WINDOW_HINT
        )
    path = "spec.timeWindow[0]"
    item = fields(items[0], path, ("duration", "isRolling", "calendar"))
    rolling = optional(item, "isRolling", path, bool, "true or false")
    duration = required(item, "duration", path, "a duration such as 28d")
    if item.get("calendar") is not None or rolling is False:
        raise Refusal(
            path,
            f"a calendar-aligned window ({duration} from its calendar start) is not an edgesla "
            "spec window, which is rolling or one fixed period: write isRolling: true (and "
            "no calendar) to import it, and judge calendar months with `edgesla report "
            "--month YYYY-MM --tz ZONE`, which takes precedence over the spec's window",
        )
    match = _SHORTHAND.match(str(duration))
    if match is None:
        raise Refusal(f"{path}.duration", f"{duration!r}: a number and m, h, d or w, e.g. 28d")
    if match.group(2) not in _SECONDS:
        raise Refusal(
            f"{path}.duration",
            f"{duration}: a rolling month, quarter or year has no fixed length; edgesla's "
            "windows do: write days, e.g. 30d or 90d",
        )
    return float(int(match.group(1)) * _SECONDS[match.group(2)])


def _one_window(windows: Mapping[str, float]) -> list[str]:
    if len(set(windows.values())) <= 1:
        return []
    listed = ", ".join(f"{name}: {format_duration(w)}" for name, w in windows.items())
    return [
        f"spec.timeWindow: the SLOs have different windows ({listed}); an edgesla spec judges "
        "every objective over one window: give them the same one, or import them separately"
    ]


def _unique(objectives: list[dict[str, Any]]) -> list[str]:
    names = [o["name"] for o in objectives]
    twice = sorted({n for n in names if names.count(n) > 1})
    return [f"objective {n}: the name is made twice (an SLO named so, and <slo>-N)" for n in twice]


def _objectives(slo: _Document, node: Mapping[str, Any], found: Indicator) -> list[Made]:
    items = required(node, "objectives", "spec", "give objectives: [{target: 0.999}]")
    if not isinstance(items, list) or not items:
        raise Refusal("spec.objectives", "a non-empty list, e.g. [{target: 0.999}]")
    if found.threshold_metric and len(items) != 1:
        raise Refusal("spec.objectives", "a thresholdMetric SLO has exactly one objective")
    description = node.get("description") or slo.metadata.get("displayName") or ""
    made = []
    for i, item in enumerate(items):
        path = f"spec.objectives[{i}]"
        objective = fields(
            item,
            path,
            ("displayName", "op", "value", "target", "targetPercent"),
            _OBJECTIVE_REFUSED,
        )
        name = slo.name if len(items) == 1 else f"{slo.name}-{i + 1}"
        if len(name) > 63:
            raise Refusal(path, f"{name}: too long a name for an objective (63 at most)")
        keys: dict[str, Any] = {"name": name, **found.keys}
        keys.update(_threshold(objective, path, found))
        percent = _percent(objective, path)
        if found.target_key == "percentile":  # a number: 99, 99.9
            keys["percentile"] = (
                int(percent) if percent == percent.to_integral() else float(percent)
            )
        else:
            keys["objective"] = f"{percent:f}%"
        said = objective.get("displayName")
        if len(items) == 1 or not said:
            said = description or said
        elif description:
            said = f"{description}: {said}"
        if said:
            keys["description"] = said
        made.append(Made(slo.name, keys, found.identity, found.pops))
    return made


def _threshold(objective: Mapping[str, Any], path: str, found: Indicator) -> dict[str, Any]:
    """A thresholdMetric's threshold (op and value); a ratio objective has neither."""
    op, value = objective.get("op"), objective.get("value")
    if not found.threshold_metric:
        if op is not None or value is not None:
            raise Refusal(
                f"{path}.{'op' if op is not None else 'value'}",
                "op and value compare a thresholdMetric; a ratioMetric's objective is its target",
            )
        return {}
    if op != "lte":
        raise Refusal(
            f"{path}.op",
            f"{op!r}: edgesla counts a lag sample good when it is at most the threshold: op: lte",
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise Refusal(f"{path}.value", f"{value!r}: the threshold in seconds, above 0, e.g. 1")
    return {"threshold": seconds_text(float(value))}


def _percent(objective: Mapping[str, Any], path: str) -> Decimal:
    """The objective's target as a percentage (exactly: decimal arithmetic)."""
    target, percent = objective.get("target"), objective.get("targetPercent")
    if (target is None) == (percent is None):
        raise Refusal(path, "give exactly one of target (e.g. 0.999) and targetPercent (99.9)")
    key, value, top = (
        ("target", target, 1) if target is not None else ("targetPercent", percent, 100)
    )
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < top:
        raise Refusal(
            f"{path}.{key}",
            f"{value!r}: a number above 0 and below {top} (100 % cannot be proven by "
            "counting events)",
        )
    number = Decimal(repr(value)) * (100 if key == "target" else 1)
    return number.normalize()


def _render(spec: Mapping[str, Any], source: str) -> str:
    header = (
        f"# edgesla SLO spec, imported from {source} by `edgesla slo import`.\n"
        "# Generate its rules: edgesla rules --slo FILE --out rules/\n"
        "# Judge it:           edgesla report --slo FILE --prometheus URL ...\n"
    )
    return header + yaml.safe_dump(dict(spec), sort_keys=False, allow_unicode=True, width=100)
