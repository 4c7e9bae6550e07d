"""``edgesla exporter`` and ``edgesla probe``."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from edgesla import exitcodes
from edgesla._errors import ConfigError
from edgesla.cli.render import err_console, out_console
from edgesla.durations import parse_duration
from edgesla.logformat import FORMATS, LEVELS
from edgesla.logformat import configure as configure_logging

if TYPE_CHECKING:  # the config's models load only in the commands that read one
    from edgesla.config import PopConfig

__all__ = ["exporter", "probe", "probe_once"]

log = logging.getLogger("edgesla.exporter")


def _seconds(ctx: click.Context, param: click.Parameter, value: str) -> float:
    """A --http-*-timeout duration ("10s", "500ms") as seconds above 0."""
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if seconds <= 0:
        raise click.BadParameter(f"{value!r}: must be above 0")
    return seconds


config_option = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="PoP config file (edgesla stack up writes one for the local stack).",
)


#: Paths the exporter serves itself: --web.telemetry-path cannot take one.
_RESERVED_PATHS = frozenset({"/", "/probe", "/-/healthy", "/-/ready", "/-/reload"})


def _telemetry_path(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.startswith("/") or any(c in value for c in "?# ") or value in _RESERVED_PATHS:
        raise click.BadParameter(
            f"{value!r}: give a path starting with / that is not one of "
            f"{', '.join(sorted(_RESERVED_PATHS))}, e.g. /metrics"
        )
    return value


@click.command()
@config_option
@click.option(
    "--web.listen-address",
    "--listen",
    "listen",
    metavar="HOST:PORT",
    help="Address to serve on; default: the config's exporter.listen (0.0.0.0:9830).",
)
@click.option(
    "--web.config.file",
    "--web-config",
    "web_config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TLS / client-certificate / basic-auth config, exporter-toolkit format (as "
    "node_exporter's). Re-read when it or a certificate it names changes: rotate without "
    "a restart.",
)
@click.option(
    "--web.telemetry-path",
    "telemetry_path",
    default="/metrics",
    show_default=True,
    callback=_telemetry_path,
    help="Path under which to expose the metrics.",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(1, 256),
    help="Probe runs at once; default: the config's exporter.max_concurrency (8).",
)
@click.option(
    "--otlp-endpoint",
    envvar="OTEL_EXPORTER_OTLP_ENDPOINT",
    help="Send a span per probe run over OTLP/HTTP to this URL (off by default).",
)
@click.option(
    "--http-threads",
    type=click.IntRange(1, 256),
    default=16,
    show_default=True,
    help="Requests served at once; idle connections hold no thread.",
)
@click.option(
    "--http-header-timeout",
    callback=_seconds,
    default="10s",
    show_default=True,
    help="A request (and a new connection's TLS handshake) must arrive whole within "
    "this time of its first byte, or it gets 408; also the limit of any one read or "
    "write, and of a new connection that sends nothing.",
)
@click.option(
    "--http-idle-timeout",
    callback=_seconds,
    default="75s",
    show_default=True,
    help="Close a kept-alive connection after this long without a request.",
)
@click.option(
    "--log.level",
    "--log-level",
    "log_level",
    type=click.Choice(LEVELS),
    default="info",
    show_default=True,
    help="Only log messages with this severity or above.",
)
@click.option(
    "--log.format",
    "log_format",
    type=click.Choice(FORMATS),
    default="logfmt",
    show_default=True,
    help="Output format of log messages.",
)
def exporter(
    config_path: Path,
    listen: str | None,
    web_config: Path | None,
    telemetry_path: str,
    max_concurrency: int | None,
    otlp_endpoint: str | None,
    http_threads: int,
    http_header_timeout: float,
    http_idle_timeout: float,
    log_level: str,
    log_format: str,
) -> None:
    """Serve the PoP's metrics for Prometheus: probes run on their own schedule.

    \b
    Endpoints: /metrics (--web.telemetry-path), /probe?target=NAME (blackbox-style, honours
    X-Prometheus-Scrape-Timeout-Seconds), /-/healthy, /-/ready, /-/reload (POST).
    Every probe series carries pop, region, target and prober labels; beside them
    edgesla_exporter_build_info and the process_* metrics.
    The flags are node_exporter's; the older names --listen, --web-config and --log-level
    still work. Stop with Ctrl-C or SIGTERM.

    \b
    Reload the PoP config with SIGHUP or POST /-/reload: targets that stay keep their
    counters; a config that does not load is refused, the old one keeps running, and
    edgesla_exporter_config_last_reload_successful says 0.
    Refuses to start (exit 2) when a file or variable a target names (password, token, TLS
    file) cannot be read.
    """
    from edgesla.exporters.app import make_app
    from edgesla.exporters.exporter import Exporter
    from edgesla.exporters.otel import make_tracing
    from edgesla.exporters.reload import Reloader
    from edgesla.exporters.selfinfo import build_info, runtime_collectors
    from edgesla.exporters.server import Limits, serve
    from edgesla.exporters.webreload import WebConfigFile
    from edgesla.probes.registry import DUTIES, PROBERS, close_all

    configure_logging(log_level, log_format)
    config = _load_checked(config_path)
    web = WebConfigFile(web_config) if web_config else None
    tracing = make_tracing(config.pop, otlp_endpoint)
    core = Exporter(config, PROBERS, DUTIES, tracer=tracing.tracer, max_concurrency=max_concurrency)
    if web is not None:
        core.add(web.collector(config.pop, config.region), live=True)
    fixed, live = runtime_collectors()
    for collector in [build_info(config.pop, config.region), *fixed]:
        core.add(collector, live=False)
    for collector in live:
        core.add(collector, live=True)
    address = listen or config.exporter.listen
    limits = Limits(
        threads=http_threads, header_timeout=http_header_timeout, idle_timeout=http_idle_timeout
    )
    reloader = Reloader(core, config_path)
    core.add(reloader.collector, live=True)
    app = make_app(core, web, telemetry_path=telemetry_path, reload=reloader.reload)
    server = serve(app, address, web.ssl_context if web and web.tls else None, limits)
    scheme = "https" if web and web.tls else "http"
    log.info(
        "edgesla exporter for PoP %s: %d targets, serving %s://%s%s",
        config.pop,
        len(config.targets),
        scheme,
        address,
        telemetry_path,
    )
    _run_until_stopped(core.start, lambda: reloader.reload("SIGHUP"))
    log.info("stopping")
    server.stop()
    core.stop()
    close_all()
    tracing.shutdown()


def _run_until_stopped(start: Callable[[], None], on_hup: Callable[[], object]) -> None:
    """``start()``, then wait for SIGINT or SIGTERM; call ``on_hup()`` on each SIGHUP (on this
    thread, not in the signal handler)."""
    wake, hups, stop = threading.Event(), [0], [False]

    def hup(*_: object) -> None:
        hups[0] += 1
        wake.set()

    def term(*_: object) -> None:
        stop[0] = True
        wake.set()

    signal.signal(signal.SIGHUP, hup)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, term)
    start()
    while not stop[0]:
        wake.wait()
        wake.clear()
        while hups[0] and not stop[0]:
            hups[0] -= 1
            on_hup()


@click.command()
@config_option
@click.option("--target", "names", multiple=True, help="Only this target (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON, with samples.")
def probe(config_path: Path, names: tuple[str, ...], as_json: bool) -> None:
    """Run every probe once, now, and print what each saw — the first debugging step.

    Exit 0 when every probe succeeded, 1 when any failed, 2 on a bad config or target name,
    or when a file or variable a target names (password, token, TLS) cannot be read.
    A postgres_replication target writes one heartbeat first and shows the lag it measured
    (the apply delay of that beat, on the exporter's own clock).
    """
    raise SystemExit(probe_once(config_path, names, as_json))


def probe_once(config_path: Path, names: tuple[str, ...] = (), as_json: bool = False) -> int:
    """Run the selected targets' probes once, print them; the exit code of `edgesla probe`."""
    from edgesla.exporters.exporter import Exporter
    from edgesla.locations import printable
    from edgesla.probes.registry import DUTIES, PROBERS, close_all

    config = _load_checked(config_path)
    unknown = [n for n in names if n not in {t.name for t in config.targets}]
    if unknown:
        known = ", ".join(t.name for t in config.targets)
        asked = ", ".join(printable(n) for n in unknown)
        raise ConfigError(f"{config_path}: no target named {asked}; known: {known}")
    core = Exporter(config, PROBERS, DUTIES)
    selected = [t.name for t in config.targets if not names or t.name in names]
    try:
        with ThreadPoolExecutor(max_workers=config.exporter.max_concurrency) as pool:
            results = list(pool.map(lambda n: core.probe_once(n, duties_first=True), selected))
    finally:
        close_all()
    if as_json:
        print(
            json.dumps(
                [_as_doc(config, n, r, s) for n, (r, s) in zip(selected, results, strict=True)],
                indent=2,
            )
        )
    else:
        _table(config, selected, results)
    failed = sum(not r.success for r, _ in results)
    return exitcodes.FAILURE if failed else exitcodes.OK


def _load_checked(config_path: Path) -> PopConfig:
    """The config, once every file and variable its targets name can be read (exit 2 else)."""
    from edgesla.config import load_config
    from edgesla.exporters.reload import require_sources

    return require_sources(load_config(config_path), config_path)


def _as_doc(config: Any, name: str, result: Any, seconds: float) -> dict[str, Any]:
    target = next(t for t in config.targets if t.name == name)
    return {
        "target": name,
        "prober": target.prober,
        "success": result.success,
        "reason": result.reason.value if result.reason else None,
        "latency_seconds": result.latency_seconds,
        "run_seconds": seconds,
        "detail": result.detail,
        "samples": [asdict(s) | {"labels": dict(s.labels)} for s in result.samples],
    }


def _table(config: Any, names: list[str], results: list[Any]) -> None:
    from rich.table import Table

    table = Table(title=f"PoP {config.pop} ({config.region})", title_justify="left")
    for column in ("target", "prober", "result", "latency", "detail"):
        table.add_column(column, no_wrap=column != "detail")
    for name, (result, _) in zip(names, results, strict=True):
        target = next(t for t in config.targets if t.name == name)
        state = "[green]ok[/]" if result.success else f"[bold red]FAIL[/] {result.reason.value}"
        latency = (
            "-" if result.latency_seconds is None else f"{result.latency_seconds * 1e3:.2f} ms"
        )
        table.add_row(name, target.prober, state, latency, result.detail)
    out_console.print(table)
    if not all(r.success for r, _ in results):
        err_console.print("some probes failed: the reason column says why (see README, Reasons)")
