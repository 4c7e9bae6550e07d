"""The PromQL subset of OpenSLO queries: parsed into a tree, anything else refused."""

from __future__ import annotations

import pytest

from edgesla.slo.openslo_query import Matcher, Query, QueryError, parse_query


def test_bare_selector() -> None:
    assert parse_query("edgesla_probe_results_total") == Query("edgesla_probe_results_total")


def test_aggregated_range_function_with_matchers_and_grouping() -> None:
    query = parse_query(
        'sum by (pop, region) (rate(edgesla_probe_results_total{target=~"pg-a|etcd",'
        " result='success'}[5m]))"
    )
    assert query == Query(
        "edgesla_probe_results_total",
        (Matcher("target", "=~", "pg-a|etcd"), Matcher("result", "=", "success")),
        function="rate",
        aggregation="sum",
        grouping=("pop", "region"),
    )
    assert query.matcher("target") is not None
    assert query.matcher("target").names() == ("pg-a", "etcd")  # type: ignore[union-attr]


def test_grouping_after_the_aggregation_and_raw_strings() -> None:
    query = parse_query("max(edgesla_pg_replication_lag_seconds{job=`edgesla-exporter`}) by (pop)")
    assert query.aggregation == "max"
    assert query.grouping == ("pop",)
    assert query.matchers == (Matcher("job", "=", "edgesla-exporter"),)


def test_escaped_regex_characters_are_literal_names() -> None:
    assert Matcher("target", "=~", r"pg\.a|b").names() == ("pg.a", "b")
    assert parse_query(r'x{target=~"pg\\.a"}').matchers == (Matcher("target", "=~", r"pg\.a"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the query is empty"),
        ("sum(rate(x[5m])) / sum(rate(y[5m]))", "'/' is not understood"),
        ("x * 100", "'*' is not understood"),
        ("rate(x)", "rate(x) needs a range"),
        ("x[5m]", "wrap it in rate() or increase()"),
        ("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))", "estimates a quantile"),
        ("sum(sum(x))", "inside another aggregation"),
        ("sum(rate(x[5m] offset 1h))", "expected ')', found 'offset'"),
        ("x offset 5m", "'offset' after the selector is not understood"),
        ('x{a="1", a="2"}', "label a is matched twice"),
        ('x{a="\\d"}', "unsupported escape"),
        ("sum(x", "the query ends too early"),
        ("x{a 1}", "expected =, !=, =~ or !~ after a"),
        ("0.999", "is a number, not a selector"),
    ],
)
def test_refused_shapes(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=None) as caught:
        parse_query(text)
    assert message in str(caught.value)


@pytest.mark.parametrize("value", ["pg-.*", "a|", "(a|b)", "pg.a"])
def test_a_regex_that_is_more_than_names_is_refused(value: str) -> None:
    with pytest.raises(QueryError):
        Matcher("target", "=~", value).names()
