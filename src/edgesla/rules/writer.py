"""RuleSet → Prometheus rule-file YAML, written atomically (all or nothing)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from edgesla._errors import ConfigError
from edgesla.rules.model import Alert, Recording, Rule, RuleSet

__all__ = ["RULES_FILE", "render", "write_rules"]

#: The file `edgesla rules` writes into --out (Prometheus: rule_files: [DIR/*.yml]).
RULES_FILE = "edgesla-rules.yml"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (expressions) as literal blocks, as people write them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _as_dict(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, Recording):
        out: dict[str, Any] = {"record": rule.record, "expr": rule.expr}
        if rule.labels:
            out["labels"] = dict(rule.labels)
        return out
    assert isinstance(rule, Alert)
    out = {"alert": rule.alert, "expr": rule.expr}
    if rule.for_ is not None:
        out["for"] = rule.for_
    out["labels"] = dict(rule.labels)
    out["annotations"] = dict(rule.annotations)
    return out


def _indent(text: str, spaces: int) -> list[str]:
    pad = " " * spaces
    return [pad + line if line else line for line in text.rstrip("\n").split("\n")]


def _comment(text: str, spaces: int) -> list[str]:
    return [" " * spaces + "# " + text] if text else []


def render(ruleset: RuleSet) -> str:
    """The rule file's text: header comment, then the groups in order."""
    lines = [f"# {line}".rstrip() for line in ruleset.header]
    lines.append("groups:")
    for group in ruleset.groups:
        lines += _comment(group.comment, 2)
        lines += [f"  - name: {group.name}", "    rules:"]
        for rule in group.rules:
            if isinstance(rule, Alert):
                lines += _comment(rule.comment, 6)
            dumped = yaml.dump(
                [_as_dict(rule)], Dumper=_Dumper, sort_keys=False, width=10_000,
                allow_unicode=True,
            )  # fmt: skip
            lines += _indent(dumped, 6)
    return "\n".join(lines) + "\n"


def write_rules(ruleset: RuleSet, out_dir: Path) -> Path:
    """Write ``out_dir/RULES_FILE`` via a temporary directory and a rename: Prometheus (or a
    reader) sees the old file or the new one, never half of one. ConfigError (exit 2) when
    ``out_dir`` cannot be written."""
    text = render(ruleset)
    target = out_dir / RULES_FILE
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".edgesla-rules-", dir=out_dir))
    except OSError as exc:
        raise ConfigError(
            f"--out {out_dir}: cannot write there ({exc.strerror or exc}); choose a directory "
            f"you can write to, or create it first"
        ) from exc
    try:
        staged = tmp / RULES_FILE
        staged.write_text(text, encoding="utf-8")
        staged.chmod(0o644)
        staged.replace(target)
    except OSError as exc:
        raise ConfigError(f"--out {out_dir}: writing {RULES_FILE} failed: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
