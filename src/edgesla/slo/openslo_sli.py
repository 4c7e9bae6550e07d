"""An OpenSLO indicator (``ratioMetric`` or ``thresholdMetric``) as the edgesla SLI kind it is.

Recognised by the series and matchers each kind of ``edgesla.slo.sli`` counts — the names come
from there and from ``conventions``, never retyped:

    ratioMetric over edgesla_probe_results_total        probe_success (target=~ → targets)
      good: result="success" (or bad: result="failure"); with prober=~"etcd|kube_apiserver":
      controlplane_ready
    ratioMetric over edgesla_probe_latency_seconds       latency, source probes
      good: _bucket{le="0.2"} (a bucket bound: the threshold), total: _count (or le="+Inf")
    thresholdMetric over edgesla_pg_replication_lag_seconds   replication_lag (the objective's
      op: lte, value: the threshold in seconds), bare or in max()

Counters may be read bare (with ``counter: true``), in ``rate()`` or ``increase()``, summed
or not: edgesla counts exact increases per PoP whatever the form. Anything else is a
``Refusal`` naming the field and what edgesla supports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edgesla import conventions as conv
from edgesla.durations import format_duration, parse_duration
from edgesla.slo import sli as kinds
from edgesla.slo.openslo_nodes import Refusal, fields, optional, required
from edgesla.slo.openslo_query import Matcher, Query, QueryError, parse_query

__all__ = ["Indicator", "indicator", "seconds_text"]

_LATENCY_COUNT = f"{conv.PROBE_LATENCY_SECONDS}_count"
_LATENCY_BUCKET = kinds.PROBE_LATENCY.metric
_COUNTED_BY = ("rate", "increase")
_KINDS_HINT = (
    f"edgesla imports a ratioMetric over {kinds.PROBE_SUCCESS.metric} (probe availability) or "
    f"{conv.PROBE_LATENCY_SECONDS} (probe latency), and a thresholdMetric over "
    f"{kinds.REPLICATION_LAG.metric} (replication lag)"
)
_PER_POP = (
    "edgesla applies every objective to every PoP, each PoP on its own, with per-PoP values "
    'by PoP: select pop="x" or pop=~"x|y" (beside a fleet-wide SLO over the same series), '
    "or remove the matcher"
)
_RATIO_REFUSED = {
    "raw": "a precomputed ratio cannot be counted exactly; give good (or bad) and total",
    "rawType": "belongs to raw, which edgesla does not import; give good (or bad) and total",
}


@dataclass(frozen=True)
class Indicator:
    """What the indicator is in edgesla's terms."""

    kind: kinds.Sli
    #: the objective's keys this kind fixes (sli, source, targets, threshold)
    keys: dict[str, Any] = field(default_factory=dict)
    #: a thresholdMetric: its threshold is the objective's ``op`` and ``value``
    threshold_metric: bool = False
    #: the PoPs a ``pop`` matcher selects: an override of the fleet-wide objective there
    pops: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[tuple[str, Any], ...]:
        """What a per-PoP SLO and the fleet-wide one it overrides share: kind and targets."""
        return tuple((k, str(v)) for k, v in sorted(self.keys.items()) if k != "threshold")

    @property
    def target_key(self) -> str:
        """The spec key the OpenSLO target goes to: latency has a percentile."""
        return "percentile" if self.kind is kinds.PROBE_LATENCY else "objective"


def indicator(spec: object, path: str, sources: Mapping[str, str]) -> Indicator:
    """The SLI ``spec`` (at ``path``); ``sources``: DataSource names → their type."""
    node = fields(spec, path, ("description", "ratioMetric", "thresholdMetric"))
    ratio, threshold = node.get("ratioMetric"), node.get("thresholdMetric")
    if (ratio is None) == (threshold is None):
        raise Refusal(path, "give exactly one of ratioMetric and thresholdMetric; " + _KINDS_HINT)
    if ratio is not None:
        return _ratio(ratio, f"{path}.ratioMetric", sources)
    return _lag(threshold, f"{path}.thresholdMetric", sources)


def seconds_text(seconds: float) -> str | float:
    """``1s``, ``250ms``, ``2.5s``; the number itself where no unit spells it exactly."""
    text = format_duration(seconds)
    return text if parse_duration(text) == seconds else seconds


def _query(metric: object, base: str, sources: Mapping[str, str]) -> tuple[Query, str]:
    """The parsed query of a metric spec and the path of its text."""
    node = fields(metric, base, ("metricSource",))
    path = f"{base}.metricSource"
    source = fields(
        required(node, "metricSource", base, "write metricSource: {type: Prometheus, spec: ...}"),
        path,
        ("metricSourceRef", "type", "spec"),
    )
    ref = optional(source, "metricSourceRef", path, str, "the name of a DataSource document")
    kind = optional(source, "type", path, str, "a metric source type such as Prometheus")
    types = [(f"{path}.type", "", kind)]
    if ref is not None:
        if ref not in sources:
            known = ", ".join(sorted(sources)) or "none"
            raise Refusal(f"{path}.metricSourceRef", f"no DataSource {ref!r} here (known: {known})")
        types.append((f"{path}.metricSourceRef", f" (the type of DataSource {ref})", sources[ref]))
    if not any(kind for _, _, kind in types):
        raise Refusal(f"{path}.type", "missing; edgesla reads Prometheus queries: type: Prometheus")
    for where, whose, kind in types:
        if kind and kind.lower() != "prometheus":
            raise Refusal(
                where, f"{kind!r}{whose}: edgesla imports Prometheus queries over its own series"
            )
    spec = fields(
        required(source, "spec", path, "write spec: {query: ...}"), f"{path}.spec", ("query",)
    )
    text = required(spec, "query", f"{path}.spec", "write the PromQL query")
    where = f"{path}.spec.query"
    if not isinstance(text, str):
        raise Refusal(where, f"expected a PromQL string, got {text!r}")
    try:
        return parse_query(text), where
    except QueryError as exc:
        raise Refusal(where, str(exc)) from exc


def _counted(query: Query, where: str, counter: bool | None) -> None:
    """A counter read so that its increases are the events."""
    if query.aggregation not in (None, "sum"):
        raise Refusal(where, f"{query.aggregation}() of a counter does not count events: use sum()")
    if query.function is None and counter is not True:
        raise Refusal(
            where,
            f"{query.metric} is a counter: say counter: true, or read it in increase() or rate()",
        )
    if query.function is not None and query.function not in _COUNTED_BY:
        raise Refusal(where, f"{query.function}() does not count events: use increase() or rate()")


def _scope(m: Matcher, where: str) -> tuple[str, ...] | None:
    """The PoPs a ``pop`` matcher selects; None for ``job="edgesla-exporter"`` (what every
    edgesla series says). Any other job, a region, a negative pop matcher: refused."""
    if m.label == "job":
        if m.op != "=" or m.value != conv.JOB_EXPORTER:
            raise Refusal(
                where, f'{m.text()}: edgesla\'s series come from job="{conv.JOB_EXPORTER}"'
            )
        return None
    if m.label == conv.LABEL_REGION or m.op not in ("=", "=~"):
        raise Refusal(where, f"{m.text()}: {_PER_POP}")
    try:
        return m.names()
    except QueryError as exc:
        raise Refusal(where, str(exc)) from exc


def _selection(
    matchers: frozenset[Matcher], where: str, controlplane: bool
) -> tuple[tuple[str, ...], bool, tuple[str, ...]]:
    """(targets, whether the control-plane probers are selected, PoPs) from a probe
    query's matchers other than ``result`` and ``le``."""
    targets: tuple[str, ...] = ()
    probers: frozenset[str] = frozenset()
    pops: tuple[str, ...] = ()
    for m in sorted(matchers, key=lambda m: m.label):
        if m.label in (conv.LABEL_POP, conv.LABEL_REGION, "job"):
            pops = _scope(m, where) or pops
            continue
        if m.label not in (conv.LABEL_TARGET, conv.LABEL_PROBER):
            raise Refusal(
                where,
                f"{m.text()}: edgesla's probe series carry pop, region, target and prober; "
                "an objective selects probes by target",
            )
        if m.op not in ("=", "=~"):
            raise Refusal(where, f'{m.text()}: list the {m.label}s to keep (= or =~"a|b")')
        try:
            names = m.names()
        except QueryError as exc:
            raise Refusal(where, str(exc)) from exc
        if m.label == conv.LABEL_TARGET:
            targets = tuple(sorted(names))
        else:
            probers = frozenset(names)
    wanted = frozenset(kinds.CONTROLPLANE_READY.probers)
    if probers and (probers != wanted or not controlplane):
        whole = "|".join(sorted(wanted))
        also = f', or the whole control plane (prober=~"{whole}")' if controlplane else ""
        raise Refusal(where, f"prober: this objective selects probes by target{also}")
    return targets, bool(probers), tuple(sorted(pops))


def _same(part: Query, total: Query, where: str, *besides: str) -> None:
    if part.without(*besides) != total.without(*besides):
        found = ", ".join(
            sorted(m.text() for m in part.without(*besides) ^ total.without(*besides))
        )
        raise Refusal(
            where, f"selects other probes than total ({found}); use the same matchers in both"
        )


def _ratio(spec: object, path: str, sources: Mapping[str, str]) -> Indicator:
    node = fields(spec, path, ("counter", "good", "bad", "total"), _RATIO_REFUSED)
    counter = optional(node, "counter", path, bool, "true or false")
    total_node = required(node, "total", path, "edgesla counts good (or bad) events over total")
    if ("good" in node) == ("bad" in node):
        raise Refusal(path, "give exactly one of good and bad, with total")
    which = "good" if "good" in node else "bad"
    total, total_at = _query(total_node, f"{path}.total", sources)
    part, part_at = _query(node[which], f"{path}.{which}", sources)
    _counted(total, total_at, counter)
    _counted(part, part_at, counter)
    if total.metric == kinds.PROBE_SUCCESS.metric:
        return _outcomes(total, part, which, total_at, part_at)
    if total.metric in (_LATENCY_COUNT, _LATENCY_BUCKET):
        return _latency(total, part, which, total_at, part_at)
    if total.metric in (conv.LOADTEST_REQUESTS_TOTAL, f"{conv.LOADTEST_LATENCY_SECONDS}_count"):
        raise Refusal(
            total_at,
            f"{total.metric}: edgesla judges load-test requests from `edgesla loadtest` "
            "results (report --loadtest DIR), not from Prometheus; write those objectives "
            "in the edgesla spec (sli: loadtest_success, or latency with source: loadtest)",
        )
    raise Refusal(total_at, f"{total.metric} is not a series edgesla imports; {_KINDS_HINT}")


def _outcomes(total: Query, part: Query, which: str, total_at: str, part_at: str) -> Indicator:
    label = conv.LABEL_RESULT
    if total.matcher(label) is not None:
        raise Refusal(total_at, f"total counts every run: remove the {label} matcher")
    wanted = {"good": ("success", "failure"), "bad": ("failure", "success")}[which]
    found = part.matcher(label)
    if part.metric != total.metric or found is None or found.op not in ("=", "!="):
        raise Refusal(
            part_at, f'{which} is {total.metric} with {label}="{wanted[0]}", as total otherwise'
        )
    if (found.op, found.value) not in (("=", wanted[0]), ("!=", wanted[1])):
        raise Refusal(part_at, f'{found.text()}: {which} events are {label}="{wanted[0]}"')
    _same(part, total, part_at, label)
    targets, controlplane, pops = _selection(total.without(label), total_at, controlplane=True)
    kind = kinds.CONTROLPLANE_READY if controlplane else kinds.PROBE_SUCCESS
    keys: dict[str, Any] = {"sli": kind.key}
    if targets:
        keys["targets"] = list(targets)
    return Indicator(kind, keys, pops=pops)


def _latency(total: Query, part: Query, which: str, total_at: str, part_at: str) -> Indicator:
    if which == "bad":
        raise Refusal(
            part_at.rsplit(".bad", 1)[0] + ".bad",
            f'probe latency is imported as good: {_LATENCY_BUCKET}{{le="0.2"}} (the runs '
            f"within the threshold) over total: {_LATENCY_COUNT}",
        )
    inf = total.matcher("le")
    if total.metric == _LATENCY_COUNT and inf is not None:
        raise Refusal(total_at, f"{inf.text()}: {_LATENCY_COUNT} counts every run; remove le")
    if total.metric == _LATENCY_BUCKET and (inf is None or inf.text() != 'le="+Inf"'):
        raise Refusal(total_at, f'total is {_LATENCY_COUNT}, or {_LATENCY_BUCKET}{{le="+Inf"}}')
    bound = part.matcher("le")
    if part.metric != _LATENCY_BUCKET or bound is None or bound.op != "=":
        raise Refusal(part_at, f'good is {_LATENCY_BUCKET}{{le="<threshold in seconds>"}}')
    bounds = ", ".join(f'"{b:g}"' for b in conv.LATENCY_BUCKETS_SECONDS)
    try:
        threshold = float(bound.value)
    except ValueError:
        threshold = math.nan
    if not any(math.isclose(threshold, b) for b in conv.LATENCY_BUCKETS_SECONDS):
        raise Refusal(part_at, f"{bound.text()} is not a bucket bound; the bounds are {bounds}")
    _same(part, total, part_at, "le")
    targets, _, pops = _selection(part.without("le"), part_at, controlplane=False)
    keys: dict[str, Any] = {"sli": "latency", "source": "probes"}
    if targets:
        keys["targets"] = list(targets)
    keys["threshold"] = seconds_text(threshold)
    return Indicator(kinds.PROBE_LATENCY, keys, pops=pops)


def _lag(spec: object, path: str, sources: Mapping[str, str]) -> Indicator:
    query, where = _query(spec, path, sources)
    metric = kinds.REPLICATION_LAG.metric
    if query.metric != metric:
        raise Refusal(where, f"{query.metric} is not a series edgesla imports; {_KINDS_HINT}")
    if query.function is not None:
        raise Refusal(
            where, f"{metric} is a gauge sampled as it is: read it without {query.function}()"
        )
    if query.aggregation not in (None, "max"):
        raise Refusal(
            where,
            f"{query.aggregation}(): edgesla judges a PoP by its worst pair (max); a "
            f"{query.aggregation} would hide a lagging one: use max() or the bare selector",
        )
    pops: tuple[str, ...] = ()
    for m in query.matchers:
        if m.label not in (conv.LABEL_POP, conv.LABEL_REGION, "job"):
            raise Refusal(
                where,
                f"{m.text()}: edgesla judges the worst of every origin→peer pair of the PoP; "
                "remove the matcher",
            )
        pops = _scope(m, where) or pops
    keys = {"sli": kinds.REPLICATION_LAG.key}
    return Indicator(kinds.REPLICATION_LAG, keys, threshold_metric=True, pops=tuple(sorted(pops)))
