"""``edgesla loadtest``: a PoP's busy hour (or day, spike, soak) against the edge stack."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from edgesla import exitcodes
from edgesla._errors import ConfigError
from edgesla.cli.render import err_console
from edgesla.config import load_config
from edgesla.durations import format_duration, parse_duration

__all__ = ["loadtest"]

PROFILES = ("peak", "diurnal", "spike", "soak")


def _locustfile() -> Path:
    """loadtests/edge_pop.py, found without importing it (importing Locust patches gevent)."""
    spec = importlib.util.find_spec("loadtests")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "edge_pop.py"


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"--duration: {exc}") from exc
    if seconds <= 0:
        raise ConfigError(f"--duration: must be above 0, got {text!r}")
    return seconds


def _metrics_listen(listen: str | None) -> str | None:
    """The --metrics-listen address, checked free now (nothing has started yet); None: off."""
    if listen is None or listen == "off":
        return None
    from loadtests.metrics import parse_listen

    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ConfigError(f"--metrics-listen: {exc}") from exc
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"--metrics-listen {listen}: cannot listen there ({exc.strerror}); choose a "
                "free port, or 'off' (the PoP config's loadtest.metrics_listen sets the default)"
            ) from exc
    return listen


@click.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PoP config (the local stack's: .edgesla/pop.yaml).",
)
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="peak",
    show_default=True,
    help="peak: the busy hour; diurnal: a day compressed into --duration; spike: "
    "mass reconnect after an outage; soak: long run at a share of peak.",
)
@click.option("--duration", default="5m", show_default=True, help="Run time, e.g. 90s, 5m, 1h.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Results directory; must not exist or be empty.",
)
@click.option(
    "--slo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gate file (loadtests/slo-default.yaml): exit 1 when p99 or the error "
    "ratio break it, 3 when inconclusive.",
)
@click.option(
    "--traffic",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Traffic profile YAML (default: the documented built-in defaults).",
)
@click.option("--subscribers", type=click.IntRange(1), help="Override the PoP's subscribers.")
@click.option(
    "--processes",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Locust worker processes on this host (histograms merge exactly).",
)
@click.option(
    "--arrivals", type=click.Choice(["poisson", "uniform"]), default="poisson", show_default=True
)
@click.option(
    "--rate-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Multiply every rate.",
)
@click.option("--operations", help="Comma-separated operations to run (default: all).")
@click.option(
    "--metrics-listen",
    help="HOST:PORT: serve the load generator's Prometheus /metrics during the run "
    "(edgesla_loadtest_*). Default: the PoP config's loadtest.metrics_listen, else off; "
    "'off' turns it off.",
)
def loadtest(
    config_path: Path, profile: str, duration: str, out_dir: Path, slo: Path | None,
    traffic: Path | None, subscribers: int | None, processes: int, arrivals: str,
    rate_scale: float, operations: str | None, metrics_listen: str | None,
) -> None:  # fmt: skip
    """Reproduce a PoP's peak subscriber traffic against the edge stack, open-model.

    \b
    Requests start at the traffic model's arrival times; latency is measured from the
    intended start (no coordinated omission) and service time from the actual start, into
    exact histograms written to --out (format: docs/loadtest-results.md), beside Locust's
    own CSV/HTML in --out/locust/. Exit codes: 0 pass (or no --slo), 1 an objective broken,
    2 bad input or unreachable targets (nothing ran), 3 inconclusive.
    """
    from loadtests.plan import endpoints_of, users_needed
    from loadtests.preflight import check_reachable
    from loadtests.profile import OPERATIONS, default_model, load_profile_file
    from loadtests.rates import check_run, rate_fn
    from loadtests.results import check_out_dir

    seconds = _duration(duration)
    config = load_config(config_path)
    listen = _metrics_listen(metrics_listen or config.loadtest.metrics_listen)
    check_out_dir(out_dir)
    if slo is not None:
        from loadtests.gate import load_gate

        load_gate(slo, OPERATIONS)
    wanted = [o.strip() for o in (operations or ",".join(OPERATIONS)).split(",") if o.strip()]
    unknown = sorted(set(wanted) - set(OPERATIONS))
    if unknown:
        raise ConfigError(f"--operations: unknown {', '.join(unknown)}; "
                          f"known: {', '.join(OPERATIONS)}")  # fmt: skip
    overrides: dict[str, object] = {"load.kind": profile}
    if subscribers:
        overrides["pop.subscribers"] = subscribers
    model = (load_profile_file(traffic, overrides) if traffic
             else default_model(overrides))  # fmt: skip
    schedule_seconds = seconds
    check_run(model.load, schedule_seconds)
    base = rate_fn(model.pop, model.load, schedule_seconds)

    def rates(t: float) -> dict[str, float]:
        return {op: r * rate_scale for op, r in base(t).items() if op in wanted}

    users = users_needed(rates, schedule_seconds, 10.0)
    endpoints = endpoints_of(config, str(config_path))
    check_reachable(endpoints, users["SelfCareWebUser"] > 0, str(config_path))
    classes = [name for name, n in users.items() if n > 0]
    total = sum(users.values())
    with tempfile.TemporaryDirectory(prefix="edgesla-locust-") as tmp:
        argv = [
            sys.executable, "-m", "locust", "-f", str(_locustfile()), "--headless",
            # Locust runs the lead (users connect), the schedule, and a drain for the last
            # requests to finish: edge_pop.LEAD_SECONDS and DRAIN_SECONDS
            "-t", f"{seconds + 4:g}s", "--schedule-duration", f"{seconds + 1:g}s",
            "-u", str(total), "-r", str(total),
            "--pop-config", str(config_path), "--load-profile", profile,
            "--arrivals", arrivals, "--rate-scale", str(rate_scale),
            "--operations", ",".join(wanted), "--results-dir", str(out_dir),
            "--csv", f"{tmp}/locust/stats", "--html", f"{tmp}/locust/report.html",
            "--loglevel", "WARNING",
        ]  # fmt: skip
        if traffic:
            argv += ["--traffic", str(traffic)]
        if subscribers:
            argv += ["--subscribers", str(subscribers)]
        if slo:
            argv += ["--slo", str(slo)]
        if processes > 1:
            argv += ["--processes", str(processes)]
        if listen:
            argv += ["--metrics-listen", listen]
        argv += classes
        err_console.print(
            f"load test: profile {profile}, {format_duration(seconds)}, {total} users "
            f"({', '.join(f'{n} {c}' for c, n in users.items() if n)}), "
            f"{processes} process(es); results → {out_dir}"
        )
        code = subprocess.run(argv, check=False).returncode
        if not (out_dir / "meta.json").exists():
            err_console.print(f"[red]the load test did not finish (exit {code}); no results[/]")
            raise SystemExit(exitcodes.FAILURE if code in (0, 3) else code)
        if (Path(tmp) / "locust").exists():
            shutil.copytree(Path(tmp) / "locust", out_dir / "locust", dirs_exist_ok=True)
    click.echo((out_dir / "summary.txt").read_text(encoding="utf-8"))
    click.echo(f"results: {out_dir}")
    raise SystemExit(code)
