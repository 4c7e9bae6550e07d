"""``edgesla rules``: Prometheus recording and alerting rules from the SLO spec.

Built like Sloth: spec (+ fleet) → model (``build_model``: validated, overrides resolved)
→ ordered pure steps (SLI recording rules → metadata rules → alerts) → writer::

    from edgesla.rules import build_model, generate, write_rules
    write_rules(generate(build_model(spec, fleet)), Path("rules"))

docs/rules.md explains what is generated.
"""

from __future__ import annotations

from pathlib import Path

from edgesla.fleet import Fleet
from edgesla.rules.model import Alert, Group, Recording, RuleSet, RulesModel
from edgesla.rules.pipeline import generate
from edgesla.rules.spec_model import build_model
from edgesla.rules.writer import RULES_FILE, render, write_rules
from edgesla.slo.spec import SloSpec, default_spec

__all__ = [
    "RULES_FILE",
    "Alert",
    "Group",
    "Recording",
    "RuleSet",
    "RulesModel",
    "build_model",
    "generate",
    "generate_rules",
    "render",
    "write_default_rules",
    "write_rules",
]


def generate_rules(
    spec: SloSpec,
    fleet: Fleet | None = None,
    *,
    source: str = "<built-in default SLO spec>",
    command: str = "edgesla rules",
) -> RuleSet:
    """Spec (+ fleet) → RuleSet; ConfigError (exit 2) naming every problem."""
    return generate(build_model(spec, fleet, source=source, command=command))


def write_default_rules(out_dir: Path, command: str) -> Path:
    """The rules of the built-in default SLO spec (what ``edgesla stack up`` loads)."""
    return write_rules(generate_rules(default_spec(), command=command), out_dir)
