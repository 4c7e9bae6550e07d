"""One definition per SLI kind: which series, how they are counted, the PromQL, the words.

    probe_success.py     probe_success, controlplane_ready (probe outcome counters)
    probe_latency.py     probe_latency (the exporter's latency histogram)
    replication_lag.py   replication_lag (the share of time the worst lag is within)
    loadtest.py          loadtest_success, loadtest_latency (``edgesla loadtest`` results)

The report (``report.inputs``), the rules (``rules.sli``) and the dashboards read these; a
new kind is a new module here and one line in ``KINDS``.
"""

from __future__ import annotations

from typing import Final

from edgesla.slo.sli._base import CounterSli, LoadTestSli, ObjectiveKind, Sli, TimeShareSli, Words
from edgesla.slo.sli.loadtest import LOADTEST_LATENCY, LOADTEST_SUCCESS
from edgesla.slo.sli.probe_latency import PROBE_LATENCY, ProbeLatency
from edgesla.slo.sli.probe_success import CONTROLPLANE_READY, PROBE_SUCCESS, ProbeOutcomes
from edgesla.slo.sli.replication_lag import REPLICATION_LAG, ReplicationLag

__all__ = [
    "CONTROLPLANE_READY",
    "KINDS",
    "LOADTEST_LATENCY",
    "LOADTEST_SUCCESS",
    "PROBE_LATENCY",
    "PROBE_SUCCESS",
    "REPLICATION_LAG",
    "CounterSli",
    "LoadTestSli",
    "ObjectiveKind",
    "ProbeLatency",
    "ProbeOutcomes",
    "ReplicationLag",
    "Sli",
    "TimeShareSli",
    "Words",
    "of_objective",
    "within",
    "words_of",
]

KINDS: Final[dict[str, Sli]] = {
    sli.key: sli
    for sli in (
        PROBE_SUCCESS,
        CONTROLPLANE_READY,
        PROBE_LATENCY,
        REPLICATION_LAG,
        LOADTEST_SUCCESS,
        LOADTEST_LATENCY,
    )
}
_GENERIC: Final = {
    "availability": Words("events", "the true availability"),
    "latency": Words("requests", "the true share"),
    "replication_lag": Words("samples", "the true share of time"),
}


def words_of(key: str, kind: ObjectiveKind) -> Words:
    """The words of SLI ``key``; a generic wording of ``kind`` for evidence made by hand."""
    sli = KINDS.get(key)
    return sli.words if sli is not None else _GENERIC[kind]


def of_objective(objective: object) -> Sli:
    """The SLI kind an objective of the spec measures."""
    from edgesla.slo.spec import AvailabilityObjective, LagObjective, LatencyObjective

    if isinstance(objective, LagObjective):
        return REPLICATION_LAG
    if isinstance(objective, LatencyObjective):
        return PROBE_LATENCY if objective.source == "probes" else LOADTEST_LATENCY
    assert isinstance(objective, AvailabilityObjective)
    return KINDS[objective.sli]
