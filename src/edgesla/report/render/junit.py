"""JUnit XML for CI: one test case per objective per PoP.

FAIL becomes ``<failure>``, INCONCLUSIVE becomes ``<skipped>`` with the reason (CI shows it
as neither green nor red), PASS is a bare test case. Built with ``xml.etree``, so names
and messages are always escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from edgesla import wording
from edgesla.atomic import write_atomic
from edgesla.report.model import ObjectiveResult, Report
from edgesla.report.render import _format as fmt

__all__ = ["render_junit", "write_junit"]


def _details(result: ObjectiveResult, window_seconds: float) -> str:
    lines = [
        f"objective: {fmt.describe_objective(result)}",
        f"measured: {fmt.measured_text(result)} "
        f"({fmt.count(result.good)} good of {fmt.count(result.total)})",
        f"confidence bound: {fmt.bound_text(result)}",
        f"error budget: {fmt.budget_text(result)}",
    ]
    needed = fmt.events_needed_text(result, window_seconds)
    if needed and result.verdict == "INCONCLUSIVE":
        lines.append(f"still needed: {needed}")
    lines += [f"data issue ({i.kind}): {i.detail}" for i in result.issues]
    return "\n".join(lines)


def _reason(result: ObjectiveResult) -> str:
    return result.summary or f"{result.verdict}: {fmt.measured_text(result)}"


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document (``<testsuites>`` with one ``<testsuite>``)."""
    results = report.objectives
    failures = sum(r.verdict == "FAIL" for r in results)
    skipped = sum(r.verdict == "INCONCLUSIVE" for r in results)
    counts = {"tests": str(len(results)), "failures": str(failures), "errors": "0"}
    root = ET.Element("testsuites", {"name": report.title, **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": report.title,
            **counts,
            "skipped": str(skipped),
            "timestamp": report.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("verdict", report.verdict),
        ("window", fmt.window_text(report)),
        ("confidence", f"{report.confidence:g}"),
        ("thresholds", wording.THRESHOLD_CONVENTION),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    seconds = fmt.window_seconds(report)
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"edgesla.sla.{result.kind}", "name": fmt.label(result), "time": "0"},
        )
        if result.verdict == "FAIL":
            failure = ET.SubElement(case, "failure", {"message": _reason(result), "type": "FAIL"})
            failure.text = _details(result, seconds)
        elif result.verdict == "INCONCLUSIVE":
            reason = _reason(result)
            needed = fmt.events_needed_text(result, seconds)
            if needed and needed not in reason:
                reason += f" Needs {needed}."
            ET.SubElement(case, "skipped", {"message": reason})
        ET.SubElement(case, "system-out").text = _details(result, seconds)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: Path) -> Path:
    """Write :func:`render_junit` to ``path`` (UTF-8) and return it."""
    write_atomic(path, render_junit(report))
    return path
