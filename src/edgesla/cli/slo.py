"""``edgesla slo``: the SLO spec from other formats (``import``: OpenSLO v1)."""

from __future__ import annotations

from pathlib import Path

import click

from edgesla.cli.render import err_console

__all__ = ["slo"]


@click.group()
def slo() -> None:
    """SLO specs: bring them in from other tools.

    \b
      edgesla slo import openslo.yaml -o slo.yaml   OpenSLO v1 -> an edgesla SLO spec
    """


@slo.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the spec here (replaced atomically: the old file or the new one, never half); "
    "default: standard output.",
)
def import_(file: Path, out: Path | None) -> None:
    """Convert OpenSLO v1 documents (kinds SLO and SLI) into an edgesla SLO spec.

    FILE holds OpenSLO v1 YAML documents (separated by ---): SLOs with an inline indicator
    or an indicatorRef to an SLI document of the same file; DataSources are checked, Services
    ignored. The queries must be Prometheus queries over edgesla's own series:

    \b
      ratioMetric, good/bad over total, of edgesla_probe_results_total
        good: sum(rate(edgesla_probe_results_total{target="pg-a", result="success"}[5m]))
        total: sum(rate(edgesla_probe_results_total{target="pg-a"}[5m]))
        -> sli: probe_success, targets: [pg-a]   (prober=~"etcd|kube_apiserver":
           controlplane_ready)
      ratioMetric, good over total, of edgesla_probe_latency_seconds
        good: sum(rate(edgesla_probe_latency_seconds_bucket{le="0.2"}[5m]))
        total: sum(rate(edgesla_probe_latency_seconds_count[5m]))
        -> sli: latency, source: probes, threshold: 200ms, percentile: the target
      thresholdMetric of edgesla_pg_replication_lag_seconds, objective op: lte, value: 1
        -> sli: replication_lag, threshold: 1s

    The same queries with pop="x" added make an override of that SLO at PoP x (pops:).
    budgetingMethod must be Occurrences and timeWindow one rolling duration (28d), the same
    for every SLO of the file. Anything else is refused, naming the document, the field and
    what edgesla supports.

    \b
    Example (examples/openslo.yaml converts):
      edgesla slo import examples/openslo.yaml -o slo.yaml
      edgesla rules --slo slo.yaml --out rules/
    Exit codes: 0 converted, 2 something cannot be mapped or read (nothing written).
    """
    from edgesla.atomic import write_atomic
    from edgesla.slo.openslo import import_file

    imported = import_file(file)
    if out is None:
        click.echo(imported.text, nl=False)
        return
    write_atomic(out, imported.text)
    err_console.print(
        f"wrote {out}: {len(imported.spec.objectives)} objectives from {file}",
        soft_wrap=True,
    )
