"""OpenSLO v1 → edgesla SLO spec: what maps, what is refused and how, and the CLI.

Every conversion is checked the way a user would rely on it: the produced spec loads with
edgesla's own strict loader, and `edgesla rules` accepts it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from edgesla import promql
from edgesla._errors import ConfigError
from edgesla.cli import cli
from edgesla.rules import generate_rules
from edgesla.slo import sli as kinds
from edgesla.slo.openslo import convert, import_file
from edgesla.slo.spec import AvailabilityObjective, LagObjective, LatencyObjective, parse_spec
from tests.golden import matches_golden
from tests.helpers import edgesla

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "openslo.yaml"
GOLDEN = ROOT / "tests" / "testdata" / "openslo" / "out-example.yaml"
RESULTS = "edgesla_probe_results_total"
LATENCY = "edgesla_probe_latency_seconds"
LAG = "edgesla_pg_replication_lag_seconds"


def _prom(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _ratio(total: str, good: str | None = None, bad: str | None = None) -> dict[str, Any]:
    metric: dict[str, Any] = {"counter": True, "total": _prom(total)}
    if good is not None:
        metric["good"] = _prom(good)
    if bad is not None:
        metric["bad"] = _prom(bad)
    return {"ratioMetric": metric}


AVAILABILITY = _ratio(
    f"sum(rate({RESULTS}[5m]))", good=f'sum(rate({RESULTS}{{result="success"}}[5m]))'
)


def _slo(
    name: str = "probe-availability",
    sli: dict[str, Any] | None = None,
    objectives: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service": "edge-pop",
        "indicator": {"metadata": {"name": f"{name}-sli"}, "spec": sli or AVAILABILITY},
        "budgetingMethod": "Occurrences",
        "timeWindow": [{"duration": "28d", "isRolling": True}],
        "objectives": objectives or [{"target": 0.999}],
    }
    body.update(spec)
    return {"apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": name}, "spec": body}


def _objectives(*docs: dict[str, Any]) -> list[dict[str, Any]]:
    spec = convert(list(docs), "in.yaml")
    parse_spec(spec, "in.yaml (imported)")
    objectives: list[dict[str, Any]] = spec["objectives"]
    return objectives


def _refused(*docs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        convert(list(docs), "in.yaml")
    text = str(caught.value)
    assert text.startswith("in.yaml: cannot import as an edgesla SLO spec:\n  "), text
    return text


# --- what maps ---


def test_the_example_converts_to_the_golden_spec_that_edgesla_loads_and_rules_accept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    imported = import_file(Path("examples/openslo.yaml"))
    matches_golden(GOLDEN, imported.text)
    spec = imported.spec
    assert spec.window == 28 * 86400.0
    kinds = {o.name: type(o) for o in spec.objectives}
    assert kinds == {
        "probe-availability": AvailabilityObjective,
        "controlplane-availability": AvailabilityObjective,
        "subscriber-lookup-probe-p99": LatencyObjective,
        "replication-lag": LagObjective,
    }
    ruleset = generate_rules(spec, source=str(EXAMPLE))
    assert {a.labels["slo"] for a in ruleset.alerts if "slo" in a.labels} >= set(kinds)


def test_good_over_total_is_probe_success_and_keeps_exact_targets() -> None:
    sli = _ratio(
        f'sum by (pop) (increase({RESULTS}{{target=~"pg-a-billing-lookup|etcd"}}[1h]))',
        good=f'sum by (pop) (increase({RESULTS}{{target=~"pg-a-billing-lookup|etcd", '
        f'result="success"}}[1h]))',
    )
    assert _objectives(_slo(sli=sli, objectives=[{"targetPercent": 99.95}])) == [
        {
            "name": "probe-availability",
            "sli": "probe_success",
            "targets": ["etcd", "pg-a-billing-lookup"],
            "objective": "99.95%",
        }
    ]


def test_bad_over_total_of_the_control_plane_probers_is_controlplane_ready() -> None:
    total = f'sum(rate({RESULTS}{{prober=~"kube_apiserver|etcd", job="edgesla-exporter"}}[5m]))'
    bad = total.replace("job=", 'result="failure", job=')
    (objective,) = _objectives(_slo(sli=_ratio(total, bad=bad)))
    assert objective["sli"] == "controlplane_ready"
    assert "targets" not in objective


def test_a_bare_counter_selector_counts_with_counter_true() -> None:
    sli = _ratio(RESULTS, good=f'{RESULTS}{{result!="failure"}}')
    assert _objectives(_slo(sli=sli))[0]["sli"] == "probe_success"


def test_latency_good_bucket_over_count_is_a_percentile_at_a_bucket_bound() -> None:
    sli = _ratio(
        f'sum(rate({LATENCY}_bucket{{target="subscribers-lookup", le="+Inf"}}[5m]))',
        good=f'sum(rate({LATENCY}_bucket{{target="subscribers-lookup", le="0.0025"}}[5m]))',
    )
    (objective,) = _objectives(_slo("lookup-p999", sli, [{"target": 0.999}]))
    assert objective == {
        "name": "lookup-p999",
        "sli": "latency",
        "source": "probes",
        "targets": ["subscribers-lookup"],
        "threshold": 0.0025,  # "2.5ms" is not a duration edgesla spells: the number itself
        "percentile": 99.9,
    }


def test_a_lag_threshold_metric_is_replication_lag() -> None:
    sli = {"thresholdMetric": _prom(LAG)}
    objectives = [{"op": "lte", "value": 0.5, "target": 0.9995, "displayName": "half a second"}]
    assert _objectives(_slo("lag", sli, objectives)) == [
        {
            "name": "lag",
            "sli": "replication_lag",
            "threshold": "500ms",
            "objective": "99.95%",
            "description": "half a second",
        }
    ]


def test_several_objectives_are_one_edgesla_objective_each() -> None:
    doc = _slo(
        objectives=[{"target": 0.99, "displayName": "page"}, {"target": 0.99999}],
        description="every probe succeeds",
    )
    made = _objectives(doc)
    assert [(o["name"], o["objective"], o["description"]) for o in made] == [
        ("probe-availability-1", "99%", "every probe succeeds: page"),
        ("probe-availability-2", "99.999%", "every probe succeeds"),
    ]


def test_an_indicator_ref_reads_the_sli_document_and_a_data_source_ref_its_type() -> None:
    metric = copy.deepcopy(AVAILABILITY)
    for part in ("good", "total"):
        metric["ratioMetric"][part]["metricSource"] = {
            "metricSourceRef": "prom",
            "spec": metric["ratioMetric"][part]["metricSource"]["spec"],
        }
    source = {
        "apiVersion": "openslo/v1",
        "kind": "DataSource",
        "metadata": {"name": "prom"},
        "spec": {"type": "Prometheus", "connectionDetails": {"url": "http://p:9090"}},
    }
    sli = {"apiVersion": "openslo/v1", "kind": "SLI", "metadata": {"name": "runs"}, "spec": metric}
    slo = _slo()
    del slo["spec"]["indicator"]
    slo["spec"]["indicatorRef"] = "runs"
    assert _objectives([source, sli], slo)[0]["sli"] == "probe_success"  # a list is a document


def _by_pop(inner: str) -> str:
    return f"sum by (pop, region) ({inner})"


def test_edgesla_own_sli_queries_import_as_the_objective_they_describe() -> None:
    """The PromQL that ``edgesla.slo.sli`` writes for rules and dashboards reads back as the
    same kind: the importer and the definitions cannot drift apart."""
    success = kinds.PROBE_SUCCESS
    pg = success.filters(("pg-a-billing-lookup",))
    plane = kinds.CONTROLPLANE_READY
    latency = kinds.PROBE_LATENCY
    fast = promql.selector(latency.metric, *pg, promql.equals("le", promql.le(0.01)))
    slis = {
        "a": _ratio(success.total(pg, "5m", _by_pop), bad=success.bad(pg, "5m", _by_pop)),
        "b": _ratio(
            plane.total(plane.filters(), "1h", _by_pop),
            bad=plane.bad(plane.filters(), "1h", _by_pop),
        ),
        "c": _ratio(latency.total(pg, "5m", _by_pop), good=_by_pop(f"increase({fast}[5m])")),
        "d": {"thresholdMetric": _prom(kinds.REPLICATION_LAG.metric)},
    }
    lag = [{"op": "lte", "value": 1, "target": 0.999}]
    docs = [_slo(n, sli, lag if n == "d" else None) for n, sli in slis.items()]
    keys = [
        {k: v for k, v in o.items() if k not in ("name", "objective", "percentile")}
        for o in _objectives(*docs)
    ]
    assert keys == [
        {"sli": "probe_success", "targets": ["pg-a-billing-lookup"]},
        {"sli": "controlplane_ready"},
        {
            "sli": "latency",
            "source": "probes",
            "targets": ["pg-a-billing-lookup"],
            "threshold": "10ms",
        },
        {"sli": "replication_lag", "threshold": "1s"},
    ]


def test_a_per_pop_slo_is_an_override_of_the_fleet_wide_one_over_the_same_series() -> None:
    lag = {"thresholdMetric": _prom(LAG)}
    labs = {"thresholdMetric": _prom(f'max({LAG}{{pop=~"lab-1|lab-2"}})')}
    fast = _ratio(f"{LATENCY}_count", good=f'{LATENCY}_bucket{{le="0.2"}}')
    slow = _ratio(
        f'{LATENCY}_count{{pop="lab-1"}}', good=f'{LATENCY}_bucket{{pop="lab-1", le="0.5"}}'
    )
    spec = convert(
        [
            _slo("avail"),
            _slo("avail-lab-1", _runs('pop="lab-1"'), [{"target": 0.99}]),
            _slo("lag", lag, [{"op": "lte", "value": 1, "target": 0.999}]),
            _slo("lag-labs", labs, [{"op": "lte", "value": 2, "target": 0.999}]),
            _slo("p99", fast, [{"target": 0.99}]),
            _slo("p99-lab-1", slow, [{"target": 0.95}]),
        ],
        "in.yaml",
    )
    assert [o["name"] for o in spec["objectives"]] == ["avail", "lag", "p99"]
    assert spec["pops"] == {
        "lab-1": {
            "avail": {"objective": "99%"},
            "lag": {"threshold": "2s"},
            "p99": {"percentile": 95, "threshold": "500ms"},
        },
        "lab-2": {"lag": {"threshold": "2s"}},
    }
    loaded = parse_spec(spec, "in.yaml (imported)")
    assert loaded.objectives_for("lab-1")[2].threshold == 0.5


def test_a_per_pop_slo_needs_exactly_one_fleet_wide_slo_and_one_per_pop() -> None:
    lone = _refused(_slo("lab", _runs('pop="lab-1"')))
    assert "SLO lab: selects pop lab-1 only; edgesla applies every objective to every PoP" in lone
    twice = _refused(
        _slo("all"),
        _slo("lab", _runs('pop="lab-1"')),
        _slo("lab-again", _runs('pop=~"lab-1|lab-2"')),
    )
    assert "SLO lab-again: selects pop lab-1|lab-2 only; SLO lab already sets all at lab-1" in twice
    several = _refused(
        _slo("all", objectives=[{"target": 0.9}, {"target": 0.99}]),
        _slo("lab", _runs('pop="lab-1"')),
    )
    assert "several fleet-wide objectives over the same series (all-1, all-2)" in several


# --- what is refused, and how it is said ---


def test_refusals_name_the_document_and_field_and_are_listed_together() -> None:
    timeslices = _slo("sliced", budgetingMethod="Timeslices")
    foreign = _slo("web", _ratio("sum(rate(http_requests_total[5m]))", good="sum(x)"))
    text = _refused(timeslices, foreign)
    assert text.splitlines()[1:] == [
        "  SLO sliced: spec.budgetingMethod: Timeslices: edgesla counts occurrences (good "
        "events over all events, exact counter increases) and does not judge time slices: "
        "use budgetingMethod: Occurrences",
        "  SLO web: spec.indicator.spec.ratioMetric.total.metricSource.spec.query: "
        "http_requests_total is not a series edgesla imports; edgesla imports a ratioMetric "
        f"over {RESULTS} (probe availability) or {LATENCY} (probe latency), and a "
        f"thresholdMetric over {LAG} (replication lag)",
    ]


def test_every_independent_part_of_an_slo_is_checked() -> None:
    doc = _slo("x", budgetingMethod="Timeslices", timeWindow=[{"duration": "1Y"}])
    doc["spec"]["indicator"]["spec"] = {"thresholdMetric": _prom("up")}
    lines = _refused(doc).splitlines()[1:]
    assert [line.split(": ")[1] for line in lines] == [
        "spec.budgetingMethod",
        "spec.timeWindow[0].duration",
        "spec.indicator.spec.thresholdMetric.metricSource.spec.query",
    ]


_Q = "spec.indicator.spec.ratioMetric"
_QUANTILE = f"histogram_quantile(0.99, sum by (le) (rate({LATENCY}_bucket[5m])))"


def _runs(matchers: str, agg: str = "sum") -> dict[str, Any]:
    """good over total of the probe counters, both with ``matchers``."""
    sep = ", " if matchers else ""
    return _ratio(
        f"{agg}(rate({RESULTS}{{{matchers}}}[5m]))",
        good=f'{agg}(rate({RESULTS}{{{matchers}{sep}result="success"}}[5m]))',
    )


@pytest.mark.parametrize(
    ("sli", "where", "says"),
    [
        (
            _runs('region="eu"'),
            f"{_Q}.total.metricSource.spec.query",
            'region="eu": edgesla applies every objective to every PoP',
        ),
        (
            _runs('pop!="fra-03"'),
            f"{_Q}.total.metricSource.spec.query",
            'pop!="fra-03": edgesla applies every objective to every PoP',
        ),
        (
            _ratio(f"sum({RESULTS})", good=f'sum({RESULTS}{{result="failure"}})'),
            f"{_Q}.good.metricSource.spec.query",
            'result="failure": good events are result="success"',
        ),
        (
            _ratio(f"sum({RESULTS})", good=f'sum({RESULTS}{{result="success", target="a"}})'),
            f"{_Q}.good.metricSource.spec.query",
            'selects other probes than total (target="a")',
        ),
        (
            _runs('target!="a"'),
            f"{_Q}.total.metricSource.spec.query",
            'target!="a": list the targets to keep',
        ),
        (
            _runs('prober="etcd"'),
            f"{_Q}.total.metricSource.spec.query",
            "prober: this objective selects probes by target",
        ),
        (
            _runs("", agg="max"),
            f"{_Q}.total.metricSource.spec.query",
            "max() of a counter does not count events: use sum()",
        ),
        (
            _ratio(f"{LATENCY}_count", good=f'{LATENCY}_bucket{{le="0.3"}}'),
            f"{_Q}.good.metricSource.spec.query",
            'le="0.3" is not a bucket bound',
        ),
        (
            _ratio(f"{LATENCY}_count", bad=f'{LATENCY}_bucket{{le="0.2"}}'),
            f"{_Q}.bad",
            "probe latency is imported as good",
        ),
        (
            {"thresholdMetric": _prom(f"avg({LAG})")},
            "spec.indicator.spec.thresholdMetric.metricSource.spec.query",
            "avg(): edgesla judges a PoP by its worst pair (max)",
        ),
        (
            {"thresholdMetric": _prom(_QUANTILE)},
            "spec.indicator.spec.thresholdMetric.metricSource.spec.query",
            "histogram_quantile() estimates a quantile",
        ),
        (
            _ratio("sum(rate(edgesla_loadtest_requests_total[5m]))", good="sum(x)"),
            f"{_Q}.total.metricSource.spec.query",
            "edgesla judges load-test requests from `edgesla loadtest` results",
        ),
        (
            {"ratioMetric": {"counter": True, "raw": _prom("x"), "rawType": "success"}},
            f"{_Q}.raw",
            "a precomputed ratio cannot be counted exactly",
        ),
    ],
)
def test_queries_edgesla_cannot_count_are_refused(
    sli: dict[str, Any], where: str, says: str
) -> None:
    objectives = [{"op": "lte", "value": 1, "target": 0.99}] if "thresholdMetric" in sli else None
    text = _refused(_slo("x", sli, objectives))
    assert f"  SLO x: {where}: " in text
    assert says in text


def test_a_counter_read_bare_without_counter_true_is_refused() -> None:
    sli = copy.deepcopy(AVAILABILITY)
    sli["ratioMetric"]["good"] = _prom(f'{RESULTS}{{result="success"}}')
    sli["ratioMetric"]["total"] = _prom(RESULTS)
    del sli["ratioMetric"]["counter"]
    assert "is a counter: say counter: true" in _refused(_slo(sli=sli))


def test_a_foreign_metric_source_is_refused() -> None:
    sli = copy.deepcopy(AVAILABILITY)
    sli["ratioMetric"]["good"]["metricSource"]["type"] = "Datadog"
    text = _refused(_slo(sli=sli))
    assert ".good.metricSource.type: 'Datadog': edgesla imports Prometheus queries" in text
    source = {"apiVersion": "openslo/v1", "kind": "DataSource", "metadata": {"name": "dd"},
              "spec": {"type": "Datadog"}}  # fmt: skip
    sli["ratioMetric"]["good"]["metricSource"] = {"metricSourceRef": "dd", "spec": {"query": "x"}}
    text = _refused(source, _slo(sli=sli))
    assert ".good.metricSource.metricSourceRef: 'Datadog' (the type of DataSource dd)" in text


_CALENDAR = {"startTime": "2026-01-01 00:00:00", "timeZone": "UTC"}


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (
            {"timeWindow": [{"duration": "1M", "calendar": _CALENDAR}]},
            "spec.timeWindow[0]",
            "edgesla report --month YYYY-MM --tz ZONE",
        ),
        (
            {"timeWindow": [{"duration": "1Q", "isRolling": True}]},
            "spec.timeWindow[0].duration",
            "a rolling month, quarter or year has no fixed length",
        ),
        ({"timeWindow": None}, "spec.timeWindow", "missing; edgesla judges over a window"),
        (
            {"budgetingMethod": "RatioTimeslices"},
            "spec.budgetingMethod",
            "does not judge time slices",
        ),
        (
            {"budgetingMethod": None},
            "spec.budgetingMethod",
            "missing; write budgetingMethod: Occurrences",
        ),
        (
            {"objectives": [{"target": 1.0}]},
            "spec.objectives[0].target",
            "1.0: a number above 0 and below 1",
        ),
        (
            {"objectives": [{"target": 0.9, "targetPercent": 90}]},
            "spec.objectives[0]",
            "give exactly one of target",
        ),
        (
            {"objectives": [{"target": 0.9, "timeSliceTarget": 0.95}]},
            "spec.objectives[0].timeSliceTarget",
            "does not judge time slices",
        ),
        (
            {"objectives": [{"target": 0.9, "op": "lte", "value": 1}]},
            "spec.objectives[0].op",
            "a ratioMetric's objective is its target",
        ),
        (
            {"objectives": [{"target": 0.9, "indicatorRef": "a"}]},
            "spec.objectives[0].indicatorRef",
            "composite SLOs",
        ),
        ({"alertPolicies": ["page"]}, "spec.alertPolicies", "edgesla's alerts come from"),
        ({"indicatorRef": "missing"}, "spec", "give exactly one of indicator and indicatorRef"),
        (
            {"budgetingMetod": "Occurrences"},
            "spec.budgetingMetod",
            "unknown key (not in OpenSLO v1)",
        ),
    ],
)
def test_slo_fields_edgesla_cannot_map_are_refused(
    change: dict[str, Any], where: str, says: str
) -> None:
    doc = _slo("x")
    for key, value in change.items():
        if value is None:
            del doc["spec"][key]
        else:
            doc["spec"][key] = value
    text = _refused(doc)
    assert f"  SLO x: {where}: " in text
    assert says in text


def test_a_lag_objective_must_be_at_most_its_value() -> None:
    doc = _slo("lag", {"thresholdMetric": _prom(LAG)}, [{"op": "lt", "value": 1, "target": 0.99}])
    assert "SLO lag: spec.objectives[0].op: 'lt': edgesla counts a lag sample good" in _refused(doc)


def test_different_windows_cannot_share_one_spec() -> None:
    week = _slo("b", timeWindow=[{"duration": "1w"}])
    text = _refused(_slo("a"), week)
    assert "the SLOs have different windows (a: 28d, b: 7d)" in text


def test_documents_of_other_versions_kinds_and_names_are_refused() -> None:
    other = {**_slo("a"), "apiVersion": "openslo/v2alpha"}
    policy = {**_slo("p"), "kind": "AlertPolicy"}
    unknown = {**_slo("u"), "kind": "Dashboard"}
    upper = _slo("Not_RFC1123")
    text = _refused(other, policy, unknown, upper)
    assert "SLO a: apiVersion: 'openslo/v2alpha': edgesla imports openslo/v1 documents" in text
    assert "AlertPolicy p: kind: AlertPolicy: edgesla's alerts come from `edgesla rules`" in text
    assert "Dashboard u: kind: unknown kind 'Dashboard'" in text
    assert "SLO Not_RFC1123: metadata.name: 'Not_RFC1123': names are lowercase" in text


def test_a_referenced_sli_is_blamed_once_and_a_missing_one_named() -> None:
    bad = {"apiVersion": "openslo/v1", "kind": "SLI", "metadata": {"name": "runs"},
           "spec": {"thresholdMetric": _prom(RESULTS)}}  # fmt: skip
    slos = []
    for name, ref in (("a", "runs"), ("b", "runs"), ("c", "nope")):
        doc = _slo(name)
        del doc["spec"]["indicator"]
        doc["spec"]["indicatorRef"] = ref
        slos.append(doc)
    lines = _refused(bad, *slos).splitlines()[1:]
    assert len(lines) == 2
    assert lines[0].startswith(
        "  SLI runs (indicator of SLO a): spec.thresholdMetric.metricSource.spec.query: "
        f"{RESULTS} is not a series edgesla imports"
    )
    assert lines[1] == "  SLO c: spec.indicatorRef: no SLI document named 'nope' (SLIs: runs)"


def test_a_file_without_an_slo_is_refused() -> None:
    assert "no SLO document" in _refused(None)


# --- the command line ---


def test_cli_writes_out_atomically_and_stdout_by_default(tmp_path: Path) -> None:
    out = tmp_path / "slo.yaml"
    result = CliRunner().invoke(cli, ["slo", "import", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 4 objectives from {EXAMPLE}" in result.output
    assert parse_spec(yaml.safe_load(out.read_text(encoding="utf-8")), str(out)).objectives
    assert [p.name for p in tmp_path.iterdir()] == ["slo.yaml"]  # no temporary file left
    printed = CliRunner().invoke(cli, ["slo", "import", str(EXAMPLE)])
    assert printed.exit_code == 0
    assert printed.output == out.read_text(encoding="utf-8")


def test_cli_end_to_end_converts_then_rules_accept_and_a_bad_file_writes_nothing(
    tmp_path: Path,
) -> None:
    """The installed command, as a user runs it: import, then `edgesla rules` on the output;
    a file it cannot map exits 2 and leaves the previous output untouched."""
    out = tmp_path / "slo.yaml"
    imported = edgesla("slo", "import", str(EXAMPLE), "-o", str(out))
    assert imported.returncode == 0, imported.stderr
    rules = edgesla("rules", "--slo", str(out), "--out", str(tmp_path / "rules"))
    assert rules.returncode == 0, rules.stderr
    before = out.read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_slo("x", budgetingMethod="Timeslices")), encoding="utf-8")
    refused = edgesla("slo", "import", str(bad), "-o", str(out))
    assert refused.returncode == 2
    assert f"error: {bad}: cannot import as an edgesla SLO spec:" in refused.stderr
    assert "SLO x: spec.budgetingMethod: Timeslices" in refused.stderr
    assert refused.stdout == ""
    assert out.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "rules", "slo.yaml"]


def test_cli_refuses_an_unreadable_or_invalid_yaml_file(tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli, ["slo", "import", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2
    assert "cannot read the OpenSLO file" in missing.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: [", encoding="utf-8")
    invalid = CliRunner().invoke(cli, ["slo", "import", str(broken)])
    assert invalid.exit_code == 2
    assert "not valid YAML" in invalid.output
