"""Step 4: absent-data alerts — missing data is never "all good".

When a PoP's exporter cannot be scraped, its SLO series stop and every burn-rate alert goes
quiet: the outage would be invisible. Three ways to notice:

* ``EdgeslaExporterDown``: Prometheus still has the target but ``up`` is 0;
* ``EdgeslaPopSeriesVanished``: a PoP whose series existed in the last hour has none now
  (the target left service discovery, or its labels changed);
* ``EdgeslaPopAbsent`` (with ``--fleet``): a PoP of the inventory has no series at all —
  also one that never reported.

One cause, one page: a dead exporter's series vanish too, so the last two stay silent while
Prometheus still has the PoP's exporter target (its ``up`` series, 0 or 1): then
``EdgeslaExporterDown`` is the page, or the data is coming.
"""

from __future__ import annotations

from edgesla import conventions as conv
from edgesla import promql
from edgesla.rules.model import Alert, FleetPopRef, Group

__all__ = ["ALERT_EXPORTER_DOWN", "ALERT_POP_ABSENT", "ALERT_POP_VANISHED", "absent_group"]

ALERT_EXPORTER_DOWN = "EdgeslaExporterDown"
ALERT_POP_VANISHED = "EdgeslaPopSeriesVanished"
ALERT_POP_ABSENT = "EdgeslaPopAbsent"
BY = f"{conv.LABEL_POP}, {conv.LABEL_REGION}"
_DOWN_FOR = "30s"
_ABSENT_FOR = "1m"
_UP = f"up{promql.matchers(promql.equals('job', conv.JOB_EXPORTER))}"
_SEEN = f"group by ({BY}) (max_over_time({conv.PROBE_UP}[1h]))"
_NOW = f"group by ({BY}) ({conv.PROBE_UP})"
#: the PoP's exporter target is still known to Prometheus (ExporterDown speaks for it)
_TARGET = f"unless on ({BY})\n{_UP}"


def _exporter_down() -> Alert:
    return Alert(
        ALERT_EXPORTER_DOWN,
        f"{_UP} == 0",
        {conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: the edgesla exporter cannot be scraped",
            "description": "Prometheus fails to scrape {{ $labels.instance }} (PoP "
            "{{ $labels.pop }}, {{ $labels.region }}): no SLO data comes from this PoP, so "
            "its burn-rate alerts cannot fire. The PoP itself may be unreachable.",
            "runbook": "curl http://{{ $labels.instance }}/metrics from the Prometheus host; "
            "on the PoP: systemctl status edgesla-exporter and its journal; check the network "
            "path to the PoP.",
        },
        for_=_DOWN_FOR,
        comment=f"for: {_DOWN_FOR}: a few failed scrapes in a row (one lost scrape is noise); "
        "blind for longer than the whole 30-day five-nines budget (25.9 s) is already too long",
        signal=_UP,
    )


def _vanished() -> Alert:
    return Alert(
        ALERT_POP_VANISHED,
        f"{_SEEN}\nunless on ({BY})\n{_NOW}\n{_TARGET}",
        {conv.LABEL_SEVERITY: "page"},
        {
            "summary": "{{ $labels.pop }}: no edgesla series any more",
            "description": "PoP {{ $labels.pop }} ({{ $labels.region }}) had "
            f"{conv.PROBE_UP} series within the last hour and has none now: its exporter "
            "left service discovery or changed its pop/region labels.",
            "runbook": "Check the Prometheus targets page and the file-SD targets of the "
            "PoP's region (`edgesla scrape-config`); compare the pop label in the PoP config.",
        },
        for_=_ABSENT_FOR,
        comment=f"for: {_ABSENT_FOR}: rides out a target being re-discovered; stops by itself "
        "an hour after the series went (use --fleet for alerts that never stop)",
        signal=_SEEN,
    )


def _absent(pop: FleetPopRef) -> Alert:
    this = promql.equals(conv.LABEL_POP, pop.name)
    selector = conv.PROBE_UP + promql.matchers(this)
    target = "up" + promql.matchers(promql.equals("job", conv.JOB_EXPORTER), this)
    return Alert(
        ALERT_POP_ABSENT,
        f"absent({selector})\nunless on ({conv.LABEL_POP})\n{target}",
        {conv.LABEL_POP: pop.name, conv.LABEL_REGION: pop.region, conv.LABEL_SEVERITY: "page"},
        {
            # absent() has only the labels of its equality matchers: the region is written in
            "summary": f"{pop.name}: no data from a PoP of the fleet",
            "description": f"PoP {pop.name} ({pop.region}) is in the fleet "
            f"inventory but Prometheus has no {conv.PROBE_UP} series for it: its SLOs are "
            "unmeasured, which is never a pass.",
            "runbook": "Is the PoP in the scrape config (`edgesla scrape-config --fleet ...`)? "
            "Is its exporter running and reachable? Compare the pop label in its PoP config.",
        },
        for_=_ABSENT_FOR,
        comment=f"for: {_ABSENT_FOR}: a PoP whose exporter restarts reappears within seconds",
        signal=selector,
    )


def absent_group(fleet: tuple[FleetPopRef, ...]) -> Group:
    return Group(
        "edgesla-absent-data",
        (_exporter_down(), _vanished(), *(_absent(p) for p in fleet)),
        "Missing data is never a pass: alert when a PoP's SLO data stops",
    )
