"""``edgesla probe`` answers with its target's heartbeat too: the duty measures the lag.

Fake probers, as in test_framework.py (the real heartbeat: tests/probes/pg/). That a duty's
samples are published beside the probe's on /metrics is tested in test_deadlines.py.
"""

from __future__ import annotations

from typing import Any

from edgesla.exporters.exporter import Exporter
from edgesla.probes._duty import Duty
from edgesla.probes._result import ProbeResult, Sample
from tests.exporters.conftest import FakeProbers, pop_config


def beat(target: Any, timeout: float) -> ProbeResult:
    """A duty for 'etcd' targets that measured something."""
    return ProbeResult.ok(0.001, "beat", (Sample("edgesla_pg_heartbeat_seq", 7.0),))


def test_probe_once_with_duties_first_answers_with_the_duties_samples_and_words(
    fakes: FakeProbers,
) -> None:
    duties = {"etcd": (Duty("beat", beat),)}
    core = Exporter(pop_config(interval="1h", timeout="1s"), fakes.map, duties)
    try:
        result, _ = core.probe_once("good", duties_first=True)
        assert {s.name for s in result.samples} == {
            "edgesla_etcd_quorum_ok",
            "edgesla_pg_heartbeat_seq",
        }
        assert result.detail == "beat; fine"
        assert result.success  # the probe's verdict
        alone, _ = core.probe_once("good")  # /probe: the probe's run only
        assert {s.name for s in alone.samples} == {"edgesla_etcd_quorum_ok"}
    finally:
        core.stop()
