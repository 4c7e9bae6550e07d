"""The low-traffic guard of the burn-rate alerts (spec ``alerting:``), as generated rules:
what each option adds, and that the alerts take the report's confidence level. Their
behaviour is in tests/rules/promtool/low_traffic_*.yml; the formula in test_confidence.py."""

from __future__ import annotations

import yaml

from edgesla import conventions as conv
from edgesla.rules import generate_rules
from edgesla.rules.model import Alert, Recording
from edgesla.slo.spec import parse_spec

_OBJECTIVE = "objectives:\n  - {name: avail, sli: probe_success, objective: 99.999%}\n"


def _rules(extra: str) -> tuple[dict[str, Recording], dict[str, Alert]]:
    """Recordings by name (the default scope has one of each) and the two burn alerts."""
    spec = parse_spec(yaml.safe_load(f"version: 1\n{extra}{_OBJECTIVE}"), "<test>")
    rules = generate_rules(spec)
    alerts = {a.alert: a for a in rules.alerts if a.alert.startswith("EdgeslaSloBurnRate")}
    return {r.record: r for r in rules.recordings}, alerts


def test_without_alerting_the_alerts_are_todays() -> None:
    records, alerts = _rules("")
    assert not any("lower_bound" in r for r in records)
    assert conv.RULE_POP_EVENTS.format(window="1h") not in records
    assert "ratio_rate1h" in alerts["EdgeslaSloBurnRatePage"].expr
    assert not any(">=" in a.expr for a in alerts.values())


def test_min_events_alone_guards_the_observed_ratio() -> None:
    records, alerts = _rules("alerting: {min_events: 30}\n")
    assert not any("lower_bound" in r for r in records)
    page = alerts["EdgeslaSloBurnRatePage"]
    assert 'pop:edgesla_slo_events:increase1h{slo="avail"} >= 30' in page.expr
    assert 'pop:edgesla_slo_events:increase6h{slo="avail"} >= 30' in page.expr
    assert "ratio_rate5m" in page.expr
    assert "at least 30 events" in page.annotations["description"]


def test_wilson_guard_takes_the_reports_confidence() -> None:
    records, alerts = _rules("confidence: 0.99\nalerting: {guard: wilson}\n")
    for window in conv.BURN_RATE_WINDOWS:
        assert conv.RULE_POP_ERROR_RATIO_LOWER.format(window=window) in records
        assert conv.RULE_POP_EVENTS.format(window=window) in records
    assert "2.326348 * sqrt(" in records["pop:edgesla_slo_errors:ratio_lower_bound1h"].expr
    ticket = alerts["EdgeslaSloBurnRateTicket"]
    assert "ratio_lower_bound1d" in ticket.expr
    assert "ratio_rate" not in ticket.expr
    assert ">=" not in ticket.expr
    assert "the 99 % lower confidence bound" in ticket.annotations["description"]
    assert ticket.signal.startswith("pop:edgesla_slo_errors:ratio_lower_bound1d")


def test_events_5m_is_the_existing_record() -> None:
    assert conv.RULE_POP_EVENTS.format(window="5m") == conv.RULE_POP_EVENTS_5M
