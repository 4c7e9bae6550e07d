"""``edgesla rules``: Prometheus recording and alerting rules from the SLO spec."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from edgesla.cli.render import err_console

__all__ = ["rules"]


@click.command()
@click.option(
    "--slo",
    "slo_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SLO spec (examples/slo.yaml); default: the built-in spec (five nines, replication "
    "lag, probe latency; 30 days).",
)
@click.option(
    "--fleet",
    "fleet_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fleet inventory (examples/fleet.yaml): PoPs of the spec must be in it, and each "
    "listed PoP gets an alert when its data is absent.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for edgesla-rules.yml and edgesla-report-rollups.yml (created); point "
    "Prometheus' rule_files at DIR/*.yml. An Alertmanager routing example goes beside them "
    "(alertmanager.yml.example).",
)
def rules(slo_path: Path | None, fleet_path: Path | None, out_dir: Path) -> None:
    """Write Prometheus recording rules (SLI error ratios, error budget) and alerts
    (multi-window multi-burn-rate, absent data, replication, control plane).

    \b
    Check and test the result with promtool:
      promtool check rules DIR/edgesla-rules.yml
      amtool check-config DIR/alertmanager.yml.example
    Exit codes: 0 written, 2 bad spec, fleet or --out (nothing written).
    """
    from edgesla.fleet import load_fleet
    from edgesla.loadtests.profile import OPERATIONS
    from edgesla.rules import generate_rules, write_rules
    from edgesla.rules.writer import write_alertmanager_example, write_rollups
    from edgesla.slo.spec import default_spec, lag_thresholds, load_spec

    command = ["edgesla", "rules"]
    if slo_path:
        command += ["--slo", str(slo_path)]
    if fleet_path:
        command += ["--fleet", str(fleet_path)]
    # --out is left out of the header: the same spec gives the same file wherever it goes
    spec = load_spec(slo_path, OPERATIONS) if slo_path else default_spec()
    fleet = load_fleet(fleet_path) if fleet_path else None
    ruleset = generate_rules(
        spec,
        fleet,
        source=str(slo_path) if slo_path else "<built-in default SLO spec>",
        command=shlex.join(command),
    )
    path = write_rules(ruleset, out_dir)
    err_console.print(
        f"wrote {path}: {len(ruleset.recordings)} recording rules, {len(ruleset.alerts)} alerts",
        soft_wrap=True,
    )
    rolled = write_rollups(out_dir, "edgesla rules", lag_thresholds(spec))
    err_console.print(f"wrote {rolled}: the SLA report's fleet roll-ups", soft_wrap=True)
    routing = write_alertmanager_example(out_dir, "edgesla rules")
    err_console.print(
        f"wrote {routing}: an Alertmanager routing example (page/ticket, by PoP, inhibitions)",
        soft_wrap=True,
    )
