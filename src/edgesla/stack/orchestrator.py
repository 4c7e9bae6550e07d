"""``edgesla stack up | status | down``: start, inspect and stop the local PoP stack.

Which process runs a component is always found anew, by its port and data dir
(``edgesla.stack.locate``): the recorded PID is only a hint, so a component restarted by hand
is seen as running, and ``down`` stops it too. ``down`` deletes the data only once no process
runs in the data dirs any more. ``stack stop | start | restart NAME`` live in ``control``.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import psutil

from edgesla._errors import EdgeslaError, PreflightError, StartupError
from edgesla.atomic import write_atomic
from edgesla.config import dump_config
from edgesla.stack import (
    alertmanager,
    etcd,
    exporter,
    mongo,
    postgres,
    prometheus,
    selfcare,
    victoriametrics,
)
from edgesla.stack.binaries import Binaries, find_binaries, find_victoria_metrics
from edgesla.stack.components import (
    KIND_ALERTMANAGER,
    KIND_ETCD,
    KIND_EXPORTER,
    KIND_MONGO,
    KIND_POSTGRES,
    KIND_PROMETHEUS,
    KIND_SELFCARE,
    KIND_VICTORIA_METRICS,
    ComponentStatus,
    check,
    describe,
    remote_write,
    wait_ready,
)
from edgesla.stack.layout import DEFAULT_SUBSCRIBERS, ETCD_MEMBERS, PG_NODES, Layout
from edgesla.stack.locate import (
    in_data_dirs,
    listeners,
    live_records,
    record_of,
    servers,
    stop_signal_for,
)
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION, stack_pop_config
from edgesla.stack.preflight import check_ports_free, locked
from edgesla.stack.processes import ProcessRecord, stop_all
from edgesla.stack.seed import subscriber_rows
from edgesla.stack.state import Component, StackState, read_state, write_state

__all__ = ["DownResult", "Progress", "UpResult", "down", "status", "stop_waves", "up"]

#: Called with a line of progress for the terminal, or with a count of seeded documents.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class UpResult:
    statuses: list[ComponentStatus]
    pop_config: str
    already_running: bool


@dataclass(frozen=True)
class DownResult:
    #: Components (and, as "pid N (name)", other processes in the data dirs) that ran and
    #: were stopped by this command.
    stopped: list[str] = field(default_factory=list)
    #: Components that were not running (stopped before, or died): nothing to stop.
    not_running: list[str] = field(default_factory=list)
    not_stopped: list[tuple[str, int]] = field(default_factory=list)
    #: Processes still in the data dirs at the end: the data and the state file are kept.
    kept_for: list[tuple[int, str]] = field(default_factory=list)
    had_stack: bool = True

    @property
    def ok(self) -> bool:
        return not self.not_stopped and not self.kept_for


def status(layout: Layout) -> list[ComponentStatus] | None:
    """Each recorded component's state, or None when no stack is recorded in the state dir."""
    state = read_state(layout.state_file)
    if state is None:
        return None
    layout = Layout(layout.state_dir, state.base_port)
    ports = listeners()
    return [check(layout, c, ports) for c in state.components]


def _existing(layout: Layout, state: StackState) -> UpResult:
    ports, layout = listeners(), Layout(layout.state_dir, state.base_port)
    statuses = [check(layout, c, ports) for c in state.components]
    stopped = {c.name for c in state.components if c.stopped}
    dead = [s for s in statuses if s.pid is None and s.name not in stopped]
    if not state.ready or dead:
        listed = ", ".join(s.name for s in dead) or "start-up never finished"
        raise PreflightError(
            f"stale state in {layout.state_dir}: a stack was recorded there but is not running "
            f"({listed}); it was probably left by a crashed or interrupted run. Run "
            f"`edgesla stack down --state-dir {layout.state_dir}` to stop what is left and "
            "clear it, then `edgesla stack up` again."
        )
    return UpResult(statuses, state.pop_config, already_running=True)


def _describe(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())[:100] or proc.name()
    except psutil.Error:
        return "?"


def up(
    layout: Layout,
    subscribers: int = DEFAULT_SUBSCRIBERS,
    say: Progress = print,
    seeded: Callable[[int], None] = lambda n: None,
    *,
    victoria_metrics: bool = False,
) -> UpResult:
    """Start the stack (or report the running one); on any failure stop all it started.
    ``victoria_metrics``: also VictoriaMetrics, which the stack's Prometheus remote-writes to."""
    with locked(layout.state_dir):
        state = read_state(layout.state_file)
        if state is not None:
            if victoria_metrics and remote_write(layout, state.components) is None:
                raise PreflightError(
                    f"the stack in {layout.state_dir} runs without VictoriaMetrics, and a "
                    "running stack is never changed by `up`; run `edgesla stack down "
                    f"--state-dir {layout.state_dir}`, then `edgesla stack up "
                    "--with-victoria-metrics` (the stack's data starts afresh)"
                )
            return _existing(layout, state)
        if running := in_data_dirs(layout):
            listed = ", ".join(f"pid {p.pid} ({_describe(p)})" for p in running)
            raise PreflightError(
                f"no stack is recorded in {layout.state_dir}, but processes run in its data "
                f"dir: {listed}. Nothing was deleted or started. Stop them (`kill PID`), then "
                "run `edgesla stack up` again."
            )
        binaries = find_binaries()
        if victoria_metrics:
            find_victoria_metrics()  # missing: a PreflightError before anything starts
        check_ports_free(layout, victoria_metrics=victoria_metrics)
        run_as = postgres.ensure_run_as(layout.data_dir)
        shutil.rmtree(layout.data_dir, ignore_errors=True)  # leftovers of an unrecorded run
        layout.log_dir.mkdir(parents=True, exist_ok=True)
        state = StackState(layout.base_port, str(layout.pop_config.resolve()), run_as)
        try:
            _start_all(layout, state, binaries, subscribers, say, seeded, victoria_metrics)
        except BaseException as exc:
            say("start-up failed; stopping everything that was started")
            stop_all([c.process for c in state.components])
            layout.state_file.unlink(missing_ok=True)
            shutil.rmtree(layout.data_dir, ignore_errors=True)
            if isinstance(exc, EdgeslaError | KeyboardInterrupt):
                raise
            raise StartupError(f"start-up failed: {type(exc).__name__}: {exc}") from exc
        return UpResult([check(layout, c) for c in state.components], state.pop_config, False)


def _start_all(
    layout: Layout,
    state: StackState,
    binaries: Binaries,
    subscribers: int,
    say: Progress,
    seeded: Callable[[int], None],
    victoria_metrics: bool = False,
) -> None:
    def launch(name: str, kind: str, record: ProcessRecord) -> None:
        state.components.append(describe(name, kind, layout, record))
        write_state(layout.state_file, state)

    say(f"starting PostgreSQL {binaries.pg_version} masters {', '.join(PG_NODES)}")
    for node in PG_NODES:
        launch(node, KIND_POSTGRES, postgres.init_and_start(layout, node, binaries, state.run_as))
    say("starting etcd members " + ", ".join(ETCD_MEMBERS))
    for member in ETCD_MEMBERS:
        launch(member, KIND_ETCD, etcd.start(layout, member, binaries))
    say("starting the MongoDB-wire server, Alertmanager and Prometheus")
    launch("mongo", KIND_MONGO, mongo.start(layout, binaries))
    launch("alertmanager", KIND_ALERTMANAGER, alertmanager.start(layout, binaries))
    if victoria_metrics:
        say("starting VictoriaMetrics (Prometheus remote-writes to it)")
        launch(victoriametrics.NAME, KIND_VICTORIA_METRICS, victoriametrics.start(layout))
    writes_to = remote_write(layout, state.components)
    launch(
        "prometheus",
        KIND_PROMETHEUS,
        prometheus.start(layout, binaries, LOCAL_POP, LOCAL_REGION, writes_to),
    )

    by_name = {c.name: c for c in state.components}
    for node in PG_NODES:
        wait_ready(by_name[node], partial(postgres.ping, layout, node), 60)
        postgres.prepare_database(layout, node)
    say("PostgreSQL: schema ready; setting up bi-directional logical replication (origin = none)")
    postgres.setup_replication(layout)
    postgres.wait_replicating(layout)
    say(f"PostgreSQL: seeding {subscribers:,} subscribers and billing accounts on pg-a")
    postgres.seed(layout, list(subscriber_rows(subscribers)))
    for member in ETCD_MEMBERS:
        wait_ready(by_name[member], partial(etcd.check, layout, member), 60)
    wait_ready(by_name["mongo"], partial(mongo.check, layout), 60)
    wait_ready(by_name["alertmanager"], partial(alertmanager.check, layout), 60)
    if victoria_metrics:
        vm = by_name[victoriametrics.NAME]
        wait_ready(vm, partial(victoriametrics.check, layout), 60)
    say(f"MongoDB: seeding {subscribers:,} subscriber documents")
    mongo.seed(layout, subscribers, seeded)
    wait_ready(by_name["prometheus"], partial(prometheus.check, layout), 60)
    say("starting the customer-self-care service (uvicorn)")
    launch("selfcare", KIND_SELFCARE, selfcare.start(layout))
    wait_ready(state.components[-1], partial(selfcare.check, layout), 60)
    say("Prometheus: waiting for the first scrape of every etcd member")
    wait_ready(by_name["prometheus"], partial(prometheus.scraping_etcd, layout), 60)
    write_atomic(layout.pop_config, dump_config(stack_pop_config(layout)))
    say("starting the PoP's edgesla exporter (scraped by Prometheus)")
    launch("exporter", KIND_EXPORTER, exporter.start(layout))
    wait_ready(state.components[-1], partial(exporter.check, layout), 60)
    state.ready = True
    write_state(layout.state_file, state)


#: Stopped after every other component: a store stopped while its clients still hold
#: connections waits for them to go (the MongoDB-wire server drains for up to 5 s).
_STORES = frozenset({KIND_POSTGRES, KIND_MONGO, KIND_ETCD})


def stop_waves(components: list[Component]) -> list[list[Component]]:
    """The order ``down`` stops in: every client of a store at once; then PostgreSQL, MongoDB
    and the first etcd member; then the other members one at a time. An etcd leader stopped
    together with its followers waits 7 s (its request timeout) to hand its leadership to one
    of them; one by one, a leader always has a live follower to hand it to, or none at all."""
    clients = [c for c in components if c.kind not in _STORES]
    members = [c for c in components if c.kind == KIND_ETCD]
    stores = [c for c in components if c.kind in _STORES and c.kind != KIND_ETCD]
    waves = [clients, stores + members[:1], *([m] for m in members[1:])]
    return [wave for wave in waves if wave]


def down(layout: Layout) -> DownResult:
    """Stop what runs the stack's components (found by port and data dir, or by the recorded
    PID) and any other server of their data dirs; delete the data and the state only once no
    process runs in the data dirs any more (one that only sits there is named, not signalled).
    """
    with locked(layout.state_dir):
        state = read_state(layout.state_file)
        if state is None:  # nothing is known to be ours: signal nothing, delete nothing
            running = [(p.pid, _describe(p)) for p in in_data_dirs(layout)]
            return DownResult(kept_for=running, had_stack=False)
        layout = Layout(layout.state_dir, state.base_port)
        ports = listeners()
        found = {c.name: live_records(layout, c, ports) for c in state.components}
        left: set[int] = set()
        for wave in stop_waves(state.components):
            left |= {r.pid for r in stop_all([r for c in wave for r in found[c.name]])}
        stopped = [n for n, rs in found.items() if rs and not {r.pid for r in rs} & left]
        not_running = [n for n, rs in found.items() if not rs]
        not_stopped = [(n, r.pid) for n, rs in found.items() for r in rs if r.pid in left]
        stopped += _stop_strays(layout, state.components, left)
        kept = [(p.pid, _describe(p)) for p in _settled(layout)]
        if not kept and not not_stopped:
            layout.state_file.unlink(missing_ok=True)
            shutil.rmtree(layout.data_dir, ignore_errors=True)
        return DownResult(stopped, not_running, not_stopped, kept)


def _settled(layout: Layout, timeout: float = 5.0) -> list[psutil.Process]:
    """The processes in the data dirs once they had ``timeout`` to go (a postmaster's
    backends exit on their own when it is gone); empty when all went."""
    deadline = time.monotonic() + timeout
    while (running := in_data_dirs(layout)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return running


def _stop_strays(layout: Layout, components: list[Component], skip: set[int]) -> list[str]:
    """Stop any other server of a component's data dir: one started there by hand that serves
    no port of the stack (a second postmaster cannot, but an etcd on another port can). A
    process merely *using* a data dir (a shell in it, an editor) is never signalled."""
    strays = []
    for proc in servers(layout, components):
        if proc.pid in skip:
            continue
        with contextlib.suppress(psutil.Error):
            record = record_of(proc, stop_signal_for(proc))
            strays.append((record, f"pid {proc.pid} ({proc.name()})"))
    left = {r.pid for r in stop_all([r for r, _ in strays])}
    return [name for r, name in strays if r.pid not in left]
