"""Locust load test of one edge PoP: open workload model, exact histograms.

Run it through ``edgesla loadtest`` (which checks inputs, sizes the users, collects the
results and gates them on an SLO spec with ``--slo``), or directly:

    locust -f loadtests/edge_pop.py --headless -t 5m -u 60 -r 60 \\
        --pop-config .edgesla/pop.yaml --load-profile peak --results-dir results/run-1

Options added to Locust's own (see ``locust -f loadtests/edge_pop.py --help``):
--pop-config, --load-profile, --traffic, --subscribers, --arrivals, --max-user-rate, --operations,
--rate-scale, --sync-at, --sync-share, --sync-rate, --schedule-duration, --schedule-seed,
--results-dir, --metrics-listen
(loadtests/metrics.py), --progress. The run time (``-t``) is required: the schedule needs it.

Works with ``--processes N`` and ``--master``/``--worker``: every worker sends live reports
(its whole recorder) with Locust's stats and, when its schedule is over, one final report;
the master waits for the final report of every worker it expects (``--expect-workers``) and
writes the results, or names the missing worker and exits 3 (INCOMPLETE). The protocol and
the state of the run: ``edgesla.loadtests.run``; the end of the run: ``edgesla.loadtests.outcome``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import gevent
from gevent.pywsgi import WSGIServer
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner
from prometheus_client import make_wsgi_app

from edgesla import EdgeslaError
from edgesla.hostport import parse_host_port
from edgesla.loadtests.metrics import GeneratorView, registry_for
from edgesla.loadtests.outcome import conclude
from edgesla.loadtests.profile import OPERATIONS, PROFILE_KINDS
from edgesla.loadtests.run import LoadTestRun, create_run, is_load_test, maybe_run, wait_for_run
from edgesla.loadtests.sync_phase import SyncPlan
from edgesla.loadtests.timeline import METRICS_LINGER_SECONDS
from edgesla.loadtests.users import BillingUser, CareUser, RadiusUser, SelfCareWebUser
from edgesla.loadtests.worker_plan import KeepOwn

__all__ = ["BillingUser", "CareUser", "RadiusUser", "SelfCareWebUser"]

log = logging.getLogger("edgesla.loadtest")


def _options(parser: Any, **_: Any) -> None:
    group = parser.add_argument_group("edgesla", "the edge PoP load test")
    group.add_argument(
        "--pop-config",
        action=KeepOwn,  # a worker keeps its own (edgesla.loadtests.worker_plan)
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
    group.add_argument(
        "--traffic", action=KeepOwn, help="traffic profile YAML (default: built-in defaults)"
    )
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
        "--sync-at",
        help="start a core->edge batch sync this far into the schedule (e.g. 2m; default: none)",
    )
    group.add_argument(
        "--sync-share",
        type=float,
        default=SyncPlan.share,
        help="share of the subscribers the sync writes",
    )
    group.add_argument("--sync-rate", type=float, default=SyncPlan.rate, help="sync documents/s")
    group.add_argument(
        "--schedule-duration", help="the run time, for worker processes (they are not told -t)"
    )
    group.add_argument(
        "--schedule-seed",
        type=int,
        help="seed of every user's arrival schedule (default: the master picks one; Locust "
        "hands it to the workers)",
    )
    group.add_argument("--results-dir", help="write the exact results here (must not exist)")
    group.add_argument(
        "--metrics-listen",
        help="HOST:PORT: serve the load generator's Prometheus /metrics from the master "
        "(or the local process); off by default",
    )
    group.add_argument(
        "--progress",
        choices=("auto", "off"),
        default="auto",
        help="auto: one progress line instead of Locust's stats tables (rewritten in place on "
        "a terminal, a line every 5 s otherwise); off: Locust's own output",
    )


def _cpu_percent(environment: Environment) -> float | None:
    """CPU of the busiest generator process: the workers' (master), else this process's."""
    runner: Any = environment.runner
    if isinstance(runner, MasterRunner):
        return max((float(w.cpu_usage) for w in runner.clients.values()), default=None)
    return float(runner.current_cpu_usage) if runner is not None else None


def _serve_metrics(run: LoadTestRun, listen: str) -> None:
    """Start /metrics on ``listen`` (a gevent server beside Locust's own web UI)."""
    environment = run.environment
    collector = run.collector
    view = GeneratorView(
        recorder=(lambda: run.recorder) if run.role == "local" else collector.merged,  # type: ignore[union-attr]
        rates=run.plan.rates,
        elapsed=run.elapsed,
        duration=run.plan.duration,
        users=lambda: environment.runner.user_count if environment.runner else 0,
        cpu_percent=lambda: _cpu_percent(environment),
    )
    registry = registry_for(view, run.plan.pop or "", run.plan.region, run.options.load_profile)
    host, port = parse_host_port(listen, every_address=True)
    server = WSGIServer((host, port), make_wsgi_app(registry), log=None)
    server.start()  # binds now: a taken port fails the run before it starts
    log.info("load generator metrics on http://%s:%d/metrics", host, port)


class _WantedSpawnRate(logging.Filter):
    """Every user is spawned at once, on purpose: during the lead, before the schedule's
    clock starts (``edgesla.loadtests.timeline``). Locust's warning about a spawn rate over
    100 is noise in every normal run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "spawn rate is very high" not in record.getMessage()


def _on_init(environment: Environment, **_: Any) -> None:
    if not is_load_test(environment):
        return  # e.g. `locust --help`
    logging.getLogger("locust.runners").addFilter(_WantedSpawnRate())
    try:
        run = create_run(environment)
    except (ValueError, EdgeslaError) as exc:
        sys.exit(f"edgesla: {exc}")
    for cls in (CareUser, RadiusUser, BillingUser, SelfCareWebUser):
        cls.fixed_count = run.plan.users[cls.__name__]
    if run.role != "worker":
        if run.options.progress != "off":
            # our progress line replaces Locust's stats tables (periodic and final)
            logging.getLogger("locust.stats_logger").setLevel(logging.WARNING)
        if run.options.metrics_listen:
            _serve_metrics(run, run.options.metrics_listen)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if (run := wait_for_run(environment)) is not None:
        run.on_test_start()


def _on_test_stopping(environment: Environment, **_: Any) -> None:
    if (run := maybe_run(environment)) is not None:
        run.on_test_stopping()


def _on_quitting(environment: Environment, **_: Any) -> None:
    run = maybe_run(environment)
    if run is None:
        return
    run.on_quitting()
    if run.collector is not None:
        environment.process_exit_code = conclude(run)
        if run.options.metrics_listen:
            gevent.sleep(METRICS_LINGER_SECONDS)  # the final counts, for a last scrape


def _listen(hook: Any, listener: Any) -> None:
    """Locust's EventHook is untyped: register through Any."""
    hook.add_listener(listener)


_listen(events.init_command_line_parser, _options)
_listen(events.init, _on_init)
_listen(events.test_start, _on_test_start)
_listen(events.test_stopping, _on_test_stopping)
_listen(events.quitting, _on_quitting)
