"""Two PostgreSQL masters in bi-directional logical replication (``origin = none``).

initdb and postgres refuse to run as root: when edgesla runs as root, the servers run as
the system user ``edgesla-pg`` (created once); as an ordinary user they run as that user.

**The replication link.** Each master listens on 127.0.0.1 (clients, the exporter) and on
``REPLICATION_HOST`` (127.0.0.2); the subscriptions connect to each other through the
latter only, so a fault drill can cut or slow exactly the link between the masters (a packet
filter rule on 127.0.0.2:PORT, a proxy) while every client still reaches both nodes. Both
ends notice a dead link within 10 s (``wal_sender_timeout``, ``wal_receiver_timeout``, and
the subscriber's ``tcp_user_timeout`` of 5 s): the apply worker exits and is retried every
5 s (``wal_retrieve_retry_interval``), each attempt bounded to 5 s.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from importlib import resources
from pathlib import Path

import psycopg

from edgesla import conventions as conv
from edgesla._errors import PreflightError, StartupError
from edgesla.stack.binaries import Binaries
from edgesla.stack.layout import HOST, PG_NODES, REPLICATION_HOST, Layout
from edgesla.stack.processes import ProcessRecord, spawn

__all__ = [
    "PG_SYSTEM_USER",
    "check_node",
    "connect",
    "dsn",
    "ensure_run_as",
    "init_and_start",
    "ping",
    "prepare_database",
    "replication_dsn",
    "seed",
    "setup_replication",
    "start",
]

PG_SYSTEM_USER = "edgesla-pg"
SUPERUSER = "postgres"

_CONF = """
# --- edgesla local PoP stack ---
listen_addresses = '{host},{replication_host}'
port = {port}
unix_socket_directories = ''
wal_level = logical
max_wal_senders = 10
max_replication_slots = 10
max_logical_replication_workers = 8
max_worker_processes = 16
wal_sender_timeout = 10s
wal_receiver_timeout = 10s
wal_receiver_status_interval = 1s
track_commit_timestamp = on
fsync = off
synchronous_commit = off
# flush WAL every 10 ms (default 200 ms): a commit reaches the peer in milliseconds, not
# up to 0.4 s, so the stack's lag shows replication, not the WAL writer's sleep
wal_writer_delay = 10ms
full_page_writes = off
shared_buffers = 64MB
log_min_messages = warning
"""


def dsn(layout: Layout, node: str, dbname: str = conv.PG_DATABASE) -> str:
    return f"host={HOST} port={layout.pg_port(node)} dbname={dbname} user={SUPERUSER}"


def replication_dsn(layout: Layout, node: str) -> str:
    """How a peer's subscription reaches ``node``: through the replication address only.

    ``tcp_user_timeout`` (5 s) bounds both a connection whose packets go unanswered and a
    connection attempt: the apply worker's walreceiver connects asynchronously and ignores
    ``connect_timeout``, so without it a reconnect behind a cut link hangs in TCP's SYN
    retries (up to two minutes) and notices a healed link only at its next backed-off SYN.
    """
    return dsn(layout, node).replace(f"host={HOST} ", f"host={REPLICATION_HOST} ", 1) + (
        " tcp_user_timeout=5000"
    )


def connect(layout: Layout, node: str, dbname: str = conv.PG_DATABASE) -> psycopg.Connection:
    return psycopg.connect(dsn(layout, node, dbname), autocommit=True, connect_timeout=3)


def ensure_run_as(data_dir: Path) -> str | None:
    """The user the servers run as: ``edgesla-pg`` when root (created if missing), else None.

    Every directory above ``data_dir`` must be searchable by that user.
    """
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
            check=True,
            capture_output=True,
        )
    for parent in data_dir.resolve().parents:
        if parent.exists() and not parent.stat().st_mode & stat.S_IXOTH:
            raise PreflightError(
                f"PostgreSQL refuses to run as root, so edgesla runs it as the system user "
                f"{PG_SYSTEM_USER}, who cannot reach {data_dir}: {parent} is not searchable by "
                f"other users (mode {stat.S_IMODE(parent.stat().st_mode):o}). Choose a "
                f"--state-dir under a world-searchable directory, or `chmod o+x {parent}`."
            )
    return PG_SYSTEM_USER


def _run_as(user: str | None, argv: list[str], log: Path) -> None:
    with log.open("ab") as out:
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            user=user,
            group=user,
            extra_groups=[] if user else None,
            check=False,
        )
    if result.returncode != 0:
        raise StartupError(f"{argv[0]} failed (exit {result.returncode}); see {log}")


def init_and_start(
    layout: Layout, node: str, binaries: Binaries, run_as: str | None
) -> ProcessRecord:
    """initdb a fresh data directory for ``node`` and start its postmaster."""
    data = layout.data_dir / node
    log = layout.log_dir / f"{node}.log"
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    data.chmod(0o700)
    if run_as:
        shutil.chown(data, run_as, run_as)
    _run_as(
        run_as,
        [
            str(binaries.pg_bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ],
        log,
    )
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write(
            _CONF.format(host=HOST, replication_host=REPLICATION_HOST, port=layout.pg_port(node))
        )
    return start(layout, node, binaries, run_as)


def start(layout: Layout, node: str, binaries: Binaries, run_as: str | None) -> ProcessRecord:
    """Start the postmaster of ``node`` on its existing data directory."""
    return spawn(
        [str(binaries.pg_bin_dir / "postgres"), "-D", str(layout.data_dir / node)],
        layout.log_dir / f"{node}.log",
        user=run_as,
        stop_signal=signal.SIGINT,  # "fast" shutdown: roll back sessions, checkpoint, exit
    )


def prepare_database(layout: Layout, node: str) -> None:
    """Create the edgesla database with the schema, and name the node for last-write-wins."""
    with connect(layout, node, "postgres") as conn:
        conn.execute(f"CREATE DATABASE {conv.PG_DATABASE}")
        conn.execute(f"ALTER DATABASE {conv.PG_DATABASE} SET edgesla.node = '{node}'")
    schema = resources.files("edgesla.stack").joinpath("sql/schema.sql").read_text("utf-8")
    with connect(layout, node) as conn:
        conn.execute(schema)  # trusted file shipped with edgesla
        conn.execute(f"CREATE PUBLICATION {_pub(node)} FOR TABLE {', '.join(_tables())}")


def _tables() -> list[str]:
    return [f"public.{t}" for t in conv.PG_REPLICATED_TABLES]


def _pub(node: str) -> str:
    return f"pub_{node.replace('-', '_')}"


def subscription_name(origin: str, peer: str) -> str:
    """The subscription on ``peer`` that applies changes made on ``origin``."""
    return f"sub_{peer}_from_{origin}".replace("-", "_")


def setup_replication(layout: Layout) -> None:
    """Each node subscribes to every other one with origin = none: no change loops back."""
    for peer in PG_NODES:
        for origin in PG_NODES:
            if origin == peer:
                continue
            with connect(layout, peer) as conn:
                conn.execute(
                    f"CREATE SUBSCRIPTION {subscription_name(origin, peer)} "
                    f"CONNECTION '{replication_dsn(layout, origin)}' PUBLICATION {_pub(origin)} "
                    "WITH (origin = none, copy_data = false)"
                )


def _wait(predicate_sql: str, layout: Layout, node: str, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connect(layout, node) as conn:
            row = conn.execute(predicate_sql).fetchone()
            if row and row[0]:
                return
        time.sleep(0.1)
    raise StartupError(f"{node}: {what} did not happen within {timeout:g}s; see its log")


def wait_replicating(layout: Layout, timeout: float = 30.0) -> None:
    """Until every subscription's apply worker runs and every slot is active."""
    for node in PG_NODES:
        _wait(
            "SELECT count(*) = count(pid) AND count(*) > 0 FROM pg_stat_subscription "
            "WHERE relid IS NULL",
            layout,
            node,
            "start of the logical replication apply workers",
            timeout,
        )
        _wait(
            "SELECT bool_and(active) FROM pg_replication_slots",
            layout,
            node,
            "activation of the replication slots",
            timeout,
        )


def seed(layout: Layout, rows: list[tuple[object, ...]], timeout: float = 120.0) -> None:
    """Load subscribers and their billing accounts on pg-a; wait until pg-b has them too."""
    origin, peer = PG_NODES
    with connect(layout, origin) as conn, conn.transaction():
        with conn.cursor().copy(
            "COPY public.subscriber (subscriber_id, subscriber_type, account_type, "
            "service_level, full_name, email) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row(r[:6])
        with conn.cursor().copy(
            "COPY public.billing_account (subscriber_id, plan, monthly_fee_cents, "
            "billing_cycle_day) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row((r[0], *r[6:]))
        for node in PG_NODES:
            conn.execute(
                "INSERT INTO public.repl_heartbeat (origin, beat_at) VALUES (%s, now())", (node,)
            )
    _wait(
        f"SELECT count(*) = {len(rows)} FROM public.billing_account",
        layout,
        peer,
        f"replication of {len(rows)} seeded billing accounts",
        timeout,
    )


def check_node(layout: Layout, node: str) -> tuple[bool, str]:
    """Answers a query and its apply worker runs: (ok, detail)."""
    try:
        with psycopg.connect(dsn(layout, node), connect_timeout=2, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            running = conn.execute(
                "SELECT count(pid), count(*) FROM pg_stat_subscription WHERE relid IS NULL"
            ).fetchone()
    except psycopg.Error as exc:
        return False, f"no answer: {str(exc).strip().splitlines()[0]}"
    assert version is not None
    assert running is not None
    if running[1] == 0 or running[0] < running[1]:
        return False, f"PostgreSQL {version[0]}, replication apply worker NOT running"
    return True, f"PostgreSQL {version[0]}, replicating"


def ping(layout: Layout, node: str) -> tuple[bool, str]:
    """Answers ``SELECT 1`` on the maintenance database: (ok, detail)."""
    try:
        with connect(layout, node, "postgres") as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
    return True, "answers"
