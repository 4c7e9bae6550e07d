"""One source of names: conventions, the help texts, the registry and the docs agree."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from edgesla import conventions as conv
from edgesla.config import PROBER_NAMES, Target
from edgesla.exporters.otel import DB_SYSTEM
from edgesla.metric_help import HELP
from edgesla.probes.registry import DUTIES, PROBERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
METRICS = {
    v
    for k, v in vars(conv).items()
    if k.isupper() and isinstance(v, str) and v.startswith("edgesla_")
}


def test_every_metric_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert sorted(m for m in METRICS if f"`{m}`" not in text) == []


def test_every_probe_metric_has_help_text() -> None:
    framework = {n for n in METRICS if n.startswith(("edgesla_probe_", "edgesla_exporter_"))}
    assert sorted(METRICS - framework - set(HELP)) == []


def test_metric_names_use_base_units() -> None:
    for name in METRICS:
        assert not name.endswith(("_ms", "_milliseconds", "_kb", "_mb")), name


def test_the_slo_thresholds_are_histogram_bucket_bounds() -> None:
    assert conv.EDGE_QUERY_LATENCY_SECONDS in conv.LATENCY_BUCKETS_SECONDS
    assert conv.CUSTOMER_CARE_LATENCY_SECONDS in conv.LATENCY_BUCKETS_SECONDS


def test_registry_and_config_agree_on_prober_names() -> None:
    union = get_args(get_args(Target)[0])
    assert len(union) == len(PROBER_NAMES)  # one model per prober
    assert set(PROBERS) == PROBER_NAMES
    assert set(DUTIES) <= PROBER_NAMES
    assert set(DB_SYSTEM) == PROBER_NAMES
