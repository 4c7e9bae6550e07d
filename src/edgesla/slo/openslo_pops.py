"""Per-PoP OpenSLO SLOs (a ``pop`` matcher) as the spec's per-PoP overrides.

An edgesla objective applies to every PoP, and ``pops:`` changes its values at some. So an
SLO whose queries select ``pop="x"`` (or ``pop=~"x|y"``) imports as an override of the
fleet-wide SLO over the same series — the same kind and targets, no ``pop`` matcher: its
target (and threshold) are those in force at these PoPs. A per-PoP SLO without exactly one
such fleet-wide objective is refused: edgesla has no objective for some PoPs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Made", "fold"]

#: The keys an override may change (``edgesla.slo.spec.Override``).
_OVERRIDDEN = ("objective", "percentile", "threshold")


@dataclass(frozen=True)
class Made:
    """One objective made from an SLO document."""

    slo: str  #: the SLO document's name
    keys: dict[str, Any]  #: the objective, as the spec writes it
    identity: tuple[tuple[str, Any], ...]  #: kind and targets (``Indicator.identity``)
    pops: tuple[str, ...] = ()  #: the PoPs it is limited to; () for every PoP


def fold(
    made: Sequence[Made],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, Any]]], list[str]]:
    """(the fleet-wide objectives, ``pops:`` overrides, problems)."""
    fleet = [m for m in made if not m.pops]
    pops: dict[str, dict[str, dict[str, Any]]] = {}
    source: dict[tuple[str, str], str] = {}
    problems = []
    for m in (m for m in made if m.pops):
        base = [f for f in fleet if f.identity == m.identity]
        where = f"SLO {m.slo}: selects pop {'|'.join(m.pops)} only"
        if len(base) != 1:
            why = (
                "edgesla applies every objective to every PoP: add the fleet-wide SLO over the "
                "same series (without a pop matcher), whose values this one overrides there"
                if not base
                else "there are several fleet-wide objectives over the same series ("
                + ", ".join(f.keys["name"] for f in base)
                + "): which one it overrides is unclear; give the fleet-wide SLO one objective"
            )
            problems.append(f"{where}; {why}")
            continue
        name = base[0].keys["name"]
        override = {
            k: m.keys[k] for k in _OVERRIDDEN if k in m.keys and m.keys[k] != base[0].keys.get(k)
        }
        for pop in m.pops:
            if (pop, name) in source:
                problems.append(
                    f"{where}; SLO {source[pop, name]} already sets {name} at {pop}: one "
                    "per-PoP SLO per PoP and objective"
                )
                continue
            source[pop, name] = m.slo
            if override:
                pops.setdefault(pop, {})[name] = override
    return [m.keys for m in fleet], pops, problems
