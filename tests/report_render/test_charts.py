"""Charts a manager can read: bucket labels of the latency chart never overlap."""

from __future__ import annotations

import math
import re

from edgesla import conventions as conv
from edgesla.report.model import LatencyEvidence
from edgesla.report.render.svg import latency_chart

#: DejaVu Sans digits are 0.64 em wide; generous for '+Inf' and '.'.
_EM_PER_CHAR = 0.64


def test_latency_bucket_labels_fit_their_slots() -> None:
    bounds = [*conv.LATENCY_BUCKETS_SECONDS, math.inf]
    cumulative = [100 * (i + 1) for i in range(len(bounds))]
    evidence = LatencyEvidence(
        sli="latency", pop="p", threshold_seconds=0.2, over=400, total=cumulative[-1],
        buckets=tuple(zip(bounds, cumulative, strict=True)),
    )  # fmt: skip
    svg = latency_chart(evidence)
    labels = re.findall(r'font-size="9.5"[^>]*>([^<]+)</text>', svg)
    assert labels == [f"{b * 1000:g}" for b in conv.LATENCY_BUCKETS_SECONDS] + ["+Inf"]
    xs = [float(x) for x in re.findall(r'<text x="([\d.]+)"[^>]*font-size="9.5"', svg)]
    slot = xs[1] - xs[0]
    assert max(len(label) for label in labels) * 9.5 * _EM_PER_CHAR < slot - 2
    assert "≤ ms" in svg  # the unit of the row, once
