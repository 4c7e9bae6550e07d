"""``edgesla stack up | status | down``: start, inspect and stop the local PoP stack."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from edgesla._errors import EdgeslaError, PreflightError, StartupError
from edgesla.config import dump_config
from edgesla.stack import etcd, exporter, mongo, postgres, prometheus, selfcare
from edgesla.stack.binaries import Binaries, find_binaries
from edgesla.stack.components import (
    KIND_ETCD,
    KIND_EXPORTER,
    KIND_MONGO,
    KIND_POSTGRES,
    KIND_PROMETHEUS,
    KIND_SELFCARE,
    ComponentStatus,
    check,
    describe,
    wait_ready,
)
from edgesla.stack.layout import ETCD_MEMBERS, PG_NODES, Layout
from edgesla.stack.popconfig import LOCAL_POP, LOCAL_REGION, stack_pop_config
from edgesla.stack.preflight import check_ports_free, locked
from edgesla.stack.processes import ProcessRecord, is_running, stop_all
from edgesla.stack.seed import subscriber_rows
from edgesla.stack.state import StackState, read_state, write_state

__all__ = ["DownResult", "Progress", "UpResult", "down", "status", "up"]

#: Called with a line of progress for the terminal, or with a count of seeded documents.
Progress = Callable[[str], None]
DEFAULT_SUBSCRIBERS = 10_000


@dataclass(frozen=True)
class UpResult:
    statuses: list[ComponentStatus]
    pop_config: str
    already_running: bool


@dataclass(frozen=True)
class DownResult:
    stopped: list[str] = field(default_factory=list)
    not_stopped: list[tuple[str, int]] = field(default_factory=list)
    had_stack: bool = True


def status(layout: Layout) -> list[ComponentStatus] | None:
    """Each recorded component's state, or None when no stack is recorded in the state dir."""
    state = read_state(layout.state_file)
    if state is None:
        return None
    layout = Layout(layout.state_dir, state.base_port)
    return [check(layout, c) for c in state.components]


def _existing(layout: Layout, state: StackState) -> UpResult:
    statuses = [check(Layout(layout.state_dir, state.base_port), c) for c in state.components]
    dead = [s for s in statuses if not is_running(_record(state, s.name))]
    if not state.ready or dead:
        listed = ", ".join(f"{s.name} (pid {s.pid})" for s in dead) or "start-up never finished"
        raise PreflightError(
            f"stale state in {layout.state_dir}: a stack was recorded there but is not running "
            f"({listed}); it was probably left by a crashed or interrupted run. Run "
            f"`edgesla stack down --state-dir {layout.state_dir}` to stop what is left and "
            "clear it, then `edgesla stack up` again."
        )
    return UpResult(statuses, state.pop_config, already_running=True)


def _record(state: StackState, name: str) -> ProcessRecord:
    return next(c.process for c in state.components if c.name == name)


def up(
    layout: Layout, subscribers: int = DEFAULT_SUBSCRIBERS, say: Progress = print,
    seeded: Callable[[int], None] = lambda n: None,
) -> UpResult:  # fmt: skip
    """Start the stack (or report the running one); on any failure stop all it started."""
    with locked(layout.state_dir):
        state = read_state(layout.state_file)
        if state is not None:
            return _existing(layout, state)
        binaries = find_binaries()
        check_ports_free(layout)
        run_as = postgres.ensure_run_as(layout.data_dir)
        shutil.rmtree(layout.data_dir, ignore_errors=True)  # leftovers of an unrecorded run
        layout.log_dir.mkdir(parents=True, exist_ok=True)
        state = StackState(layout.base_port, str(layout.pop_config.resolve()), run_as)
        try:
            _start_all(layout, state, binaries, subscribers, say, seeded)
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
    layout: Layout, state: StackState, binaries: Binaries, subscribers: int, say: Progress,
    seeded: Callable[[int], None],
) -> None:  # fmt: skip
    def launch(name: str, kind: str, record: ProcessRecord) -> None:
        state.components.append(describe(name, kind, layout, record))
        write_state(layout.state_file, state)

    say(f"starting PostgreSQL {binaries.pg_version} masters {', '.join(PG_NODES)}")
    for node in PG_NODES:
        launch(node, KIND_POSTGRES, postgres.init_and_start(layout, node, binaries, state.run_as))
    say("starting etcd members " + ", ".join(ETCD_MEMBERS))
    for member in ETCD_MEMBERS:
        launch(member, KIND_ETCD, etcd.start(layout, member, binaries))
    say("starting the MongoDB-wire server and Prometheus")
    launch("mongo", KIND_MONGO, mongo.start(layout, binaries))
    launch(
        "prometheus", KIND_PROMETHEUS, prometheus.start(layout, binaries, LOCAL_POP, LOCAL_REGION)
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
    say(f"MongoDB: seeding {subscribers:,} subscriber documents")
    mongo.seed(layout, subscribers, seeded)
    wait_ready(by_name["prometheus"], partial(prometheus.check, layout), 60)
    say("starting the customer-self-care service (uvicorn)")
    launch("selfcare", KIND_SELFCARE, selfcare.start(layout))
    wait_ready(state.components[-1], partial(selfcare.check, layout), 60)
    say("Prometheus: waiting for the first scrape of every etcd member")
    wait_ready(by_name["prometheus"], partial(prometheus.scraping_etcd, layout), 60)
    layout.pop_config.write_text(dump_config(stack_pop_config(layout)), encoding="utf-8")
    say("starting the PoP's edgesla exporter (scraped by Prometheus)")
    launch("exporter", KIND_EXPORTER, exporter.start(layout))
    wait_ready(state.components[-1], partial(exporter.check, layout), 60)
    state.ready = True
    write_state(layout.state_file, state)


def down(layout: Layout) -> DownResult:
    """Stop exactly the recorded processes; clear the state once all of them are gone."""
    with locked(layout.state_dir):
        state = read_state(layout.state_file)
        if state is None:
            return DownResult(had_stack=False)
        left = stop_all([c.process for c in state.components])
        left_pids = {r.pid for r in left}
        result = DownResult(
            stopped=[c.name for c in state.components if c.process.pid not in left_pids],
            not_stopped=[
                (c.name, c.process.pid) for c in state.components if c.process.pid in left_pids
            ],
        )
        if not left:
            layout.state_file.unlink(missing_ok=True)
            shutil.rmtree(layout.data_dir, ignore_errors=True)
        return result
