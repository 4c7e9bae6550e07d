"""Exit codes of every edgesla command: what a script or CI job can rely on."""

from __future__ import annotations

from typing import Final

OK: Final = 0  #: all good: every component up / every objective met
FAILURE: Final = 1  #: ran, and the answer is no: a component is down, a process would not stop
USAGE: Final = 2  #: bad input or a failed precondition: nothing was done
INCONCLUSIVE: Final = 3  #: not enough evidence for a verdict (SLA report)


def of_verdict(verdict: str) -> int:
    """The exit code of a verdict: PASS 0, FAIL 1, INCONCLUSIVE 3."""
    return {"PASS": OK, "FAIL": FAILURE, "INCONCLUSIVE": INCONCLUSIVE}[verdict]
