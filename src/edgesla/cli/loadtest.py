"""``edgesla loadtest``: a PoP's busy hour (or day, spike, soak) against the edge stack."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgesla import exitcodes
from edgesla._errors import ConfigError
from edgesla.cli.options import positive_seconds
from edgesla.cli.render import err_console
from edgesla.durations import format_duration
from edgesla.hostport import parse_host_port

if TYPE_CHECKING:
    from edgesla.report.gate import Gate

__all__ = ["loadtest"]

PROFILES = ("peak", "diurnal", "spike", "soak")


def _locustfile() -> Path:
    """loadtests/edge_pop.py, found without importing it (importing Locust patches gevent)."""
    spec = importlib.util.find_spec("edgesla.loadtests")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "edge_pop.py"


def _metrics_listen(listen: str | None) -> str | None:
    """The --metrics-listen address, checked free now (nothing has started yet); None: off."""
    if listen is None or listen == "off":
        return None
    try:
        host, port = parse_host_port(listen, every_address=True)
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


def _sync_args(
    at: str | None, share: float | None, rate: float | None, subscribers: int, seconds: float
) -> list[str]:
    """Locust's --sync-* options; ConfigError (exit 2) when the sync does not fit the run."""
    if at is None:
        if share is not None or rate is not None:
            raise ConfigError("--sync-share / --sync-rate: only with --sync-at (when to start)")
        return []
    from edgesla.loadtests.sync_phase import SyncPlan

    plan = SyncPlan(
        positive_seconds("--sync-at", at, allow_zero=True),
        share or SyncPlan.share,
        rate or SyncPlan.rate,
    )
    plan.check(subscribers, seconds)
    return ["--sync-at", at, "--sync-share", repr(plan.share), "--sync-rate", repr(plan.rate)]


def _judge(gate: Gate, out_dir: Path, code: int, *, complete: bool) -> int:
    """Judge the written results on the gate's spec; its exit code (an INCOMPLETE run: 3;
    a run whose sync was not the one planned: the gate's FAIL, else 3)."""
    from edgesla.report.gate import judge
    from edgesla.report.render import exit_code, print_terminal, write_all

    if not complete:  # INCOMPLETE: its results must not back a verdict
        err_console.print(f"gate: not judged, the run is INCOMPLETE (exit {code})")
        return code
    built = judge(gate, out_dir)
    paths = write_all(built, out_dir / "gate", pdf=False)
    click.echo(f"gate ({gate.inputs.spec_source}):")
    print_terminal(built)
    if gate.not_run:
        click.echo(
            f"  not judged, their operations were not run (--operations): {', '.join(gate.not_run)}"
        )
    click.echo(f"gate: {paths['html']}, {paths['json']}, {paths['junit']}")
    verdict = exit_code(built)
    return verdict if code == exitcodes.OK or verdict == exitcodes.FAILURE else code


#: --master: how long to wait for --expect-workers before giving up (seconds).
_WORKERS_MAX_WAIT = 600


def _check_worker_options(out_dir: Path | None, slo: Path | None, listen: str | None) -> None:
    """A worker writes no results and gates nothing: those options belong to the master."""
    for given, name in ((out_dir, "--out"), (slo, "--slo"), (listen, "--metrics-listen")):
        if given is not None:
            raise ConfigError(
                f"{name}: not with --worker (the master merges the workers' results, gates "
                f"them and serves their metrics); give {name} to the --master"
            )


#: After Ctrl-C, seconds Locust may take to close its ledger and write what it has.
_INTERRUPT_GRACE = 30


def _run_locust(argv: list[str]) -> int:
    """Run Locust and return its exit code. On Ctrl-C (which Locust receives too, from the
    terminal) wait for it to write its INCOMPLETE results instead of killing it at once."""
    proc = subprocess.Popen(argv)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        err_console.print("interrupted: the load test writes what it has (INCOMPLETE) …")
        try:
            return proc.wait(timeout=_INTERRUPT_GRACE)
        except (KeyboardInterrupt, subprocess.TimeoutExpired):
            proc.kill()
            return proc.wait()


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
    type=click.Path(path_type=Path),
    help="Results directory; must not exist or be empty. Required, except with --worker "
    "(the master writes the results).",
)
@click.option(
    "--slo",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Gate the run on an SLO spec (loadtests/slo-default.yaml; the format of `edgesla "
    "report --slo`): its load-test objectives are judged as the SLA report judges them; "
    "exit 1 when one is broken, 3 when inconclusive. The verdict goes to --out/gate/.",
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
    "--max-user-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Requests/s per Locust user: sizes the users (rate / this). A class's users on one "
    "process are a pool (a free user serves the next request due), so a request waits "
    "only when all of them are busy; raise it against a fast target to spend less of the "
    "generator's CPU on users, lower it against a slow one.",
)
@click.option(
    "--sync-at",
    help="Run a core→edge batch sync on top of the load, this far into the run (e.g. 2m): "
    "--sync-share of the PoP's subscribers upserted into MongoDB, their master rows "
    "rewritten on PostgreSQL, at --sync-rate documents/s. The results show each "
    "operation's latency during the sync beside outside it (sync.json, windows/); a sync "
    "that is not the one planned makes the run INCONCLUSIVE (exit 3).",
)
@click.option(
    "--sync-share",
    type=click.FloatRange(0, 1, min_open=True),
    help="With --sync-at: share of the PoP's subscribers the sync writes  [default: 0.2]",
)
@click.option(
    "--sync-rate",
    type=click.FloatRange(min=0, min_open=True),
    help="With --sync-at: documents per second  [default: 2000]",
)
@click.option(
    "--metrics-listen",
    help="HOST:PORT: serve the load generator's Prometheus /metrics during the run "
    "(edgesla_loadtest_*). Default: the PoP config's loadtest.metrics_listen, else off; "
    "'off' turns it off.",
)
@click.option(
    "--master",
    "role",
    flag_value="master",
    help="Distributed run: plan the users, wait for --expect-workers workers on "
    "--master-port, run them, merge their exact histograms and write --out (Locust master). "
    "It runs no users itself, so it does not check that it reaches the targets.",
)
@click.option(
    "--worker",
    "role",
    flag_value="worker",
    help="Distributed run: connect to --master-host:--master-port and run the users the "
    "master hands out (Locust worker). The run's plan is the master's: its --profile, "
    "--duration, --subscribers, rate, --operations and --sync-* options replace the "
    "worker's own when the run starts (the worker says which it replaced); --config and "
    "--traffic stay the worker's own files, so give it the same PoP config and traffic "
    "profile as the master.",
)
@click.option(
    "--expect-workers",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="--master: workers to wait for before the run starts (at most 10 minutes), and "
    "whose final reports the run waits for at its end (a missing one: exit 3, INCOMPLETE).",
)
@click.option(
    "--master-host",
    default="127.0.0.1",
    show_default=True,
    help="--worker: the master's host name or address.",
)
@click.option(
    "--master-port",
    type=click.IntRange(1, 65535),
    default=5557,
    show_default=True,
    help="--master: port to listen on for workers; --worker: the master's port.",
)
def loadtest(
    config_path: Path,
    profile: str,
    duration: str,
    out_dir: Path | None,
    slo: Path | None,
    traffic: Path | None,
    subscribers: int | None,
    processes: int,
    arrivals: str,
    rate_scale: float,
    operations: str | None,
    max_user_rate: float,
    sync_at: str | None,
    sync_share: float | None,
    sync_rate: float | None,
    metrics_listen: str | None,
    role: str | None,
    expect_workers: int,
    master_host: str,
    master_port: int,
) -> None:
    """Reproduce a PoP's peak subscriber traffic against the edge stack, open-model.

    \b
    Requests start at the traffic model's arrival times; latency is measured from the
    intended start (no coordinated omission) and service time from the actual start, into
    exact histograms written to --out (format: docs/loadtest-results.md), beside Locust's
    own CSV/HTML in --out/locust/. Every planned request is accounted for (succeeded,
    failed, not started); a worker whose final report does not arrive makes the run
    INCOMPLETE. --slo gates the run on an SLO spec's load-test objectives, judged as the SLA
    report judges them (confidence bounds: a short run is INCONCLUSIVE, with the requests a
    verdict needs). Exit codes: 0 pass (or no --slo), 1 an objective broken, 2 bad input
    or unreachable targets (nothing ran), 3 inconclusive or INCOMPLETE (never a pass).

    \b
    More load than one host makes: --processes N on one host, or one --master and
    workers on many (docs/deploy.md has the Kubernetes set-up):
      edgesla loadtest --master --expect-workers 2 --config pop.yaml --duration 1h --out run/
      edgesla loadtest --worker --master-host HOST --config pop.yaml --duration 1h
    """
    if role == "worker":
        _check_worker_options(out_dir, slo, metrics_listen)
    elif out_dir is None:
        raise ConfigError("--out: missing; name a new or empty results directory")
    if role == "master" and processes > 1:
        raise ConfigError(
            "--processes: not with --master (the master runs no users); start workers with "
            "--worker --processes N instead"
        )
    from edgesla.config import load_config
    from edgesla.loadtests.plan import endpoints_of, users_needed
    from edgesla.loadtests.preflight import check_reachable
    from edgesla.loadtests.profile import OPERATIONS, default_model, load_profile_file
    from edgesla.loadtests.rates import check_run, rate_fn
    from edgesla.loadtests.results import check_out_dir
    from edgesla.loadtests.timeline import LEAD_SECONDS, run_time_bound

    seconds = positive_seconds("--duration", duration)
    config = load_config(config_path)
    listen = (
        None
        if role == "worker"
        else _metrics_listen(metrics_listen or config.loadtest.metrics_listen)
    )
    if out_dir is not None:
        check_out_dir(out_dir)
    wanted = [o.strip() for o in (operations or ",".join(OPERATIONS)).split(",") if o.strip()]
    unknown = sorted(set(wanted) - set(OPERATIONS))
    if unknown:
        raise ConfigError(
            f"--operations: unknown {', '.join(unknown)}; known: {', '.join(OPERATIONS)}"
        )
    gate = None
    if slo is not None:  # checked before anything runs: a bad or old-format spec is exit 2
        from edgesla.report.gate import load_gate

        gate = load_gate(slo, OPERATIONS, wanted)
    overrides: dict[str, object] = {"load.kind": profile}
    if subscribers:
        overrides["pop.subscribers"] = subscribers
    model = load_profile_file(traffic, overrides) if traffic else default_model(overrides)
    schedule_seconds = seconds
    check_run(model.load, schedule_seconds)
    base = rate_fn(model.pop, model.load, schedule_seconds)

    def rates(t: float) -> dict[str, float]:
        return {op: r * rate_scale for op, r in base(t).items() if op in wanted}

    sync_args = _sync_args(sync_at, sync_share, sync_rate, model.pop.subscribers, seconds)
    users = users_needed(rates, schedule_seconds, max_user_rate)
    endpoints = endpoints_of(config, str(config_path))
    if role != "master":  # the master runs no users: the workers check their own reach
        check_reachable(endpoints, users["SelfCareWebUser"] > 0, str(config_path))
    classes = [name for name, n in users.items() if n > 0]
    total = sum(users.values())
    # Every process derives the same schedule from these (loadtests/edge_pop.py).
    plan_args = [
        sys.executable, "-m", "locust", "-f", str(_locustfile()),
        # the lead (users connect) and the schedule; loadtests/timeline.py
        "--schedule-duration", f"{seconds + LEAD_SECONDS:g}s",
        "--pop-config", str(config_path), "--load-profile", profile,
        "--arrivals", arrivals, "--rate-scale", str(rate_scale),
        "--operations", ",".join(wanted), "--max-user-rate", f"{max_user_rate!r}",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    plan_args += sync_args
    if traffic:
        plan_args += ["--traffic", str(traffic)]
    if subscribers:
        plan_args += ["--subscribers", str(subscribers)]
    if processes > 1:
        plan_args += ["--processes", str(processes)]
    if role == "worker":
        err_console.print(
            f"load test worker: {processes} process(es); master {master_host}:{master_port} "
            "(the run's plan comes from the master)"
        )
        # every user class: the master's plan decides which of them get users
        argv = [*plan_args, "--worker", "--master-host", master_host,
                "--master-port", str(master_port), *users]  # fmt: skip
        raise SystemExit(_run_locust(argv))
    assert out_dir is not None
    argv = [
        *plan_args, "--headless", "--only-summary", "-t", f"{run_time_bound(seconds):g}s",
        "-u", str(total), "-r", str(total), "--results-dir", str(out_dir),
    ]  # fmt: skip
    if listen:
        argv += ["--metrics-listen", listen]
    where = f"{processes} process(es)"
    if role == "master":
        argv += [
            "--master",
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(expect_workers),
            "--expect-workers-max-wait",
            str(_WORKERS_MAX_WAIT),
        ]
        where = f"{expect_workers} worker(s) expected on port {master_port}"
    argv += classes
    err_console.print(
        f"load test: profile {profile}, {format_duration(seconds)}, {total} users "
        f"({', '.join(f'{n} {c}' for c, n in users.items() if n)}), "
        f"{where}; results → {out_dir}"
    )
    code = _run_locust(argv)
    if not (out_dir / "meta.json").exists():
        hint = (
            f" (did all {expect_workers} worker(s) connect to port {master_port} within "
            f"{format_duration(_WORKERS_MAX_WAIT)}?)"
            if role == "master"
            else ""
        )
        err_console.print(f"[red]the load test did not finish (exit {code}); no results{hint}[/]")
        raise SystemExit(exitcodes.FAILURE if code in (0, 3) else code)
    click.echo((out_dir / "summary.txt").read_text(encoding="utf-8"))
    if gate is not None:
        meta = json.loads((out_dir / "meta.json").read_text(encoding="utf-8"))
        code = _judge(gate, out_dir, code, complete=meta.get("complete") is not False)
    click.echo(f"results: {out_dir}")
    raise SystemExit(code)
