"""A load test with a sync, as a manager reads its report: the objective's card shows the
judged requests during the sync beside those outside it, in the HTML and on the PDF's page
(real headless Chromium, text read back with pdftotext)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla.loadtests.profile import OPERATIONS
from edgesla.report.gate import judge, load_gate
from edgesla.report.render import write_all
from tests.report.loadtest_runs import write_synced_run
from tests.report.render.browser import NEEDS_BROWSER, pdf_text

SPEC = """\
version: 1
window: loadtest
objectives:
  - {name: lookup-p99, sli: latency, source: loadtest, operations: [care_lookup],
     threshold: 10ms, percentile: 99}
"""


@pytest.mark.parametrize("pdf", [False, pytest.param(True, marks=NEEDS_BROWSER)])
def test_the_card_shows_the_sync_window_beside_the_rest(tmp_path: Path, pdf: bool) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    report = judge(load_gate(spec, OPERATIONS, ["care_lookup"]), write_synced_run(tmp_path, "r"))
    written = write_all(report, tmp_path / "out", pdf=pdf)
    text = pdf_text(written["pdf"]) if pdf else written["html"].read_text()
    text = " ".join(text.replace("</dt><dd>", " ").split())
    assert "During the sync 100 of 100 requests over 10 ms (100 %); p99 ≤ 50" in text
    assert "Outside the sync 0 of 200 requests over 10 ms (0 %); p99 ≤ 5" in text
