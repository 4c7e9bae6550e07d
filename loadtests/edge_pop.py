"""Locust load test of one edge PoP: open workload model, exact histograms, SLO gate.

Run it through ``edgesla loadtest`` (which checks inputs, sizes the users and collects the
results), or directly:

    locust -f loadtests/edge_pop.py --headless -t 5m -u 60 -r 60 \\
        --pop-config .edgesla/pop.yaml --load-profile peak --results-dir results/run-1

Options added to Locust's own (see ``locust -f loadtests/edge_pop.py --help``):
--pop-config, --load-profile, --traffic, --subscribers, --arrivals, --max-user-rate, --operations,
--rate-scale, --results-dir, --slo, --metrics-listen (loadtests/metrics.py). The run time (``-t``)
is required: the schedule needs it.
Works with ``--processes N`` and ``--master``/``--worker``: workers send their histograms to
the master every few seconds (exactly mergeable), the master writes the results.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
from gevent.pywsgi import WSGIServer
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from prometheus_client import make_wsgi_app

from edgesla.config import load_config
from edgesla.durations import parse_duration
from loadtests.gate import evaluate, load_gate
from loadtests.health import CpuMonitor
from loadtests.metrics import GeneratorView, monotonic_since, parse_listen, registry_for
from loadtests.openmodel import RateFn
from loadtests.plan import RunPlan, current_plan, endpoints_of, install_plan, users_needed
from loadtests.profile import OPERATIONS, PROFILE_KINDS, default_model, load_profile_file
from loadtests.rates import mean_rates, rate_fn
from loadtests.results import GeneratorHealth, GeneratorHost, RunMeta, write_results
from loadtests.users import BillingUser, CareUser, SelfCareWebUser

__all__ = ["BillingUser", "CareUser", "SelfCareWebUser"]

log = logging.getLogger("edgesla.loadtest")
#: Seconds between the run's start and the first scheduled request (users connect meanwhile).
LEAD_SECONDS = 1.0
#: Seconds Locust should run past the schedule's end, so the last requests can finish.
DRAIN_SECONDS = 3.0
_monitor = CpuMonitor()
_cpu_samples: list[float] = []
_workers: dict[str, str] = {}  # client id -> host
_started_at: list[datetime] = []
_schedule_start: list[float] = []  # perf_counter() of the schedule's start in this process


def _options(parser: Any) -> None:
    group = parser.add_argument_group("edgesla", "the edge PoP load test")
    group.add_argument(
        "--pop-config",
        env_var="EDGESLA_POP_CONFIG",
        required=False,
        help="PoP config: MongoDB, PostgreSQL masters, self-care URL",
    )
    group.add_argument(
        "--load-profile",
        choices=PROFILE_KINDS,
        default="peak",
        help="peak, diurnal, spike or soak (Locust has its own --profile)",
    )
    group.add_argument("--traffic", help="traffic profile YAML (default: built-in defaults)")
    group.add_argument("--subscribers", type=int, help="override the profile's subscribers")
    group.add_argument("--arrivals", choices=("poisson", "uniform"), default="poisson")
    group.add_argument(
        "--max-user-rate",
        type=float,
        default=10.0,
        help="requests/s one user may be asked to start (sizes the users)",
    )
    group.add_argument(
        "--operations",
        default=",".join(OPERATIONS),
        help="comma-separated operations to run (others get no traffic)",
    )
    group.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply every rate (benchmarks, headroom tests)",
    )
    group.add_argument(
        "--schedule-duration", help="the run time, for worker processes (they are not told -t)"
    )
    group.add_argument("--results-dir", help="write the exact results here (must not exist)")
    group.add_argument("--slo", help="gate file: exit 1 when p99 or error ratio break it")
    group.add_argument(
        "--metrics-listen",
        help="HOST:PORT: serve the load generator's Prometheus /metrics from the master "
        "(or the local process); off by default",
    )


def _duration(options: Any) -> float:
    """The schedule's length: --schedule-duration, else the run time, minus the lead.

    Worker processes are not told the run time (the master stops them), so distributed runs
    pass --schedule-duration to every process; ``edgesla loadtest`` always does.
    """
    if options.schedule_duration:
        run_time = parse_duration(options.schedule_duration)
    else:
        run_time = float(getattr(options, "run_time", None) or 0)
    if run_time <= LEAD_SECONDS:
        sys.exit(
            f"edgesla: the open-model schedule needs a run time over {LEAD_SECONDS:g}s: add "
            "-t/--run-time (and for --processes/--worker: --schedule-duration, the same value)"
        )
    return run_time - LEAD_SECONDS


def build_rates(options: Any, duration: float) -> tuple[RateFn, dict[str, float]]:
    """The rate function of the run and its mean rates (the run's target rates)."""
    overrides: dict[str, object] = {"load.kind": options.load_profile}
    if options.subscribers:
        overrides["pop.subscribers"] = options.subscribers
    model = (load_profile_file(Path(options.traffic), overrides) if options.traffic
             else default_model(overrides))  # fmt: skip
    wanted = {op.strip() for op in options.operations.split(",") if op.strip()}
    base = rate_fn(model.pop, model.load, duration)
    scale = options.rate_scale

    def rates(t: float) -> dict[str, float]:
        return {op: r * scale for op, r in base(t).items() if op in wanted}

    means = {op: r * scale for op, r in mean_rates(model.pop, model.load, duration).items()
             if op in wanted and r > 0}  # fmt: skip
    return rates, means


def _plan(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or not options.pop_config:
        return  # e.g. `locust --help`
    duration = _duration(options)
    config = load_config(Path(options.pop_config))
    rates, means = build_rates(options, duration)
    users = users_needed(rates, duration, options.max_user_rate)
    for cls in (CareUser, BillingUser, SelfCareWebUser):
        cls.fixed_count = users[cls.__name__]
    endpoints = endpoints_of(config, options.pop_config)
    plan = RunPlan(
        rates, duration, options.arrivals, users, endpoints, target_rates=means, pop=config.pop
    )
    install_plan(plan)
    if options.metrics_listen and not isinstance(environment.runner, WorkerRunner):
        _serve_metrics(environment, options.metrics_listen, config.region)


def _cpu_percent(environment: Environment) -> float | None:
    """CPU of the busiest generator process: the workers' (master), else this process's."""
    runner: Any = environment.runner
    if isinstance(runner, MasterRunner):
        return max((float(w.cpu_usage) for w in runner.clients.values()), default=None)
    return float(runner.current_cpu_usage) if runner is not None else None


def _serve_metrics(environment: Environment, listen: str, region: str) -> None:
    """Start /metrics on ``listen`` (a gevent server beside Locust's own web UI)."""
    plan = current_plan()
    view = GeneratorView(
        recorder=lambda: current_plan().recorder,
        rates=plan.rates,
        elapsed=monotonic_since(_schedule_start),
        duration=plan.duration,
        users=lambda: environment.runner.user_count if environment.runner else 0,
        cpu_percent=lambda: _cpu_percent(environment),
    )
    profile = environment.parsed_options.load_profile if environment.parsed_options else ""
    registry = registry_for(view, plan.pop or "", region, profile)
    host, port = parse_listen(listen)
    server = WSGIServer((host, port), make_wsgi_app(registry), log=None)
    server.start()  # binds now: a taken port fails the run before it starts
    log.info("load generator metrics on http://%s:%d/metrics", host, port)


def _subscriber_ids(plan: RunPlan, limit: int = 20_000) -> tuple[str, ...]:
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(plan.mongo_uri, serverSelectionTimeoutMS=5000) as client:
        coll: Any = client[plan.mongo_database][plan.mongo_collection]
        docs = coll.aggregate([{"$sample": {"size": limit}},
                               {"$project": {"subscriber.id": 1, "_id": 0}}]).to_list()  # fmt: skip
    return tuple(d["subscriber"]["id"] for d in docs if "subscriber" in d)


def _start(environment: Environment, **_: Any) -> None:
    # the schedule's window, not the process's: achieved rates are requests / this window
    _started_at.append(datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS))
    _schedule_start.append(time.perf_counter() + LEAD_SECONDS)
    if isinstance(environment.runner, MasterRunner):
        return
    plan = current_plan()
    plan.subscriber_ids = _subscriber_ids(plan)
    # Schedules start after a short lead, so users have connected before their first slot.
    plan.started = time.perf_counter() + LEAD_SECONDS
    _monitor.start()


def _stop(environment: Environment, **_: Any) -> None:
    _monitor.stop()
    _cpu_samples.extend(_monitor.drain())


def _to_master(client_id: str, data: dict[str, Any]) -> None:
    data["edgesla"] = current_plan().recorder.drain()
    data["edgesla_cpu"] = _monitor.drain()
    data["edgesla_host"] = socket.gethostname()


def _from_worker(client_id: str, data: dict[str, Any]) -> None:
    if "edgesla" in data:
        current_plan().recorder.merge(data["edgesla"])
        _cpu_samples.extend(data.get("edgesla_cpu", []))
        _workers[client_id] = data.get("edgesla_host", "?")


def _generators(environment: Environment) -> tuple[GeneratorHost, ...]:
    if isinstance(environment.runner, MasterRunner) and _workers:
        hosts: dict[str, int] = {}
        for host in _workers.values():
            hosts[host] = hosts.get(host, 0) + 1
        return tuple(GeneratorHost(h, n) for h, n in sorted(hosts.items()))
    return (GeneratorHost(socket.gethostname(), 1),)


def _finish(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if isinstance(environment.runner, WorkerRunner) or options is None or not options.pop_config:
        return
    plan = current_plan()
    results = plan.recorder.results()
    requests = sum(r.requests for r in results.values())
    late = sum(r.late_starts for r in results.values())
    saturated = CpuMonitor.saturated(_cpu_samples)
    health = GeneratorHealth(
        cpu_saturated=saturated,
        too_few_users=requests > 0 and late / requests > 0.01 and not saturated,
        max_cpu_percent=max(_cpu_samples, default=None),
    )
    code = 0
    if options.slo:
        verdict = evaluate(load_gate(Path(options.slo), OPERATIONS), results, health)
        for check in verdict.checks:
            state = "ok " if check.ok else "BROKEN"
            log.info("gate %s %-14s %-11s measured %s limit %s", state, check.operation,
                     check.what, check.measured, check.limit)  # fmt: skip
        log.info("gate verdict: %s (exit %d)", verdict.reason, verdict.code)
        code = verdict.code
    if options.results_dir:
        started = _started_at[0] if _started_at else datetime.now(UTC)
        meta = RunMeta(
            profile=options.load_profile, target_rates=plan.target_rates,
            duration_seconds=plan.duration,
            started_at=started,
            ended_at=min(datetime.now(UTC), started + timedelta(seconds=plan.duration)),
            generators=_generators(environment),
            command_line=tuple(sys.argv), health=health,
            pop=plan.pop,
        )  # fmt: skip
        out = write_results(Path(options.results_dir), meta, plan.recorder)
        log.info("results written to %s", out)
    environment.process_exit_code = code


def _listen(hook: Any, listener: Any) -> None:
    """Locust's EventHook is untyped: register through Any."""
    hook.add_listener(listener)


_listen(events.init_command_line_parser, _options)
_listen(events.init, _plan)
_listen(events.test_start, _start)
_listen(events.test_stop, _stop)
_listen(events.report_to_master, _to_master)
_listen(events.worker_report, _from_worker)
_listen(events.quitting, _finish)
