"""postgres_convergence on a realistic table size, beside a full dump-and-diff, in the same run.

A private stack (2,000 subscribers), grown to ``--subscribers`` rows of subscriber and
billing_account by an ``INSERT ... SELECT generate_series`` on pg-a that replicates to pg-b (the
stack's own seeding at 100,000 stops at its start-up check: its MongoDB-wire lookup times out
at that size, nothing to do with PostgreSQL); a PoP config with only the convergence target
(settle time 1 s: the rows are fresh).
Two states: converged, then ``--diverge`` rows of public.subscriber changed on pg-a only (in
a replication-origin session: pg-b's ``origin = none`` subscription never receives them, and
``session_replication_role = replica`` keeps their old ``modified_at``). In each state, in
turn, ``--repeat`` times:

- ``edgesla probe --config pop.yaml --target pg-convergence --json`` as a user runs it: wall
  time and peak RSS of that process (``os.wait4``), the probe's own latency, the divergent
  count it reports;
- the baseline an operator would script by hand: ``psql -c "COPY (SELECT * FROM t ORDER BY
  key) TO STDOUT"`` of each table from both masters into files (both masters at once), then
  ``diff``: wall time of the whole, bytes moved, the differing lines. (It has no settle time:
  it counts rows in flight too; on a quiet stack that is the same count.)

The divergent rows are restored afterwards. Everything shares the machine's cores with
whatever else runs there: compare the two side by side, not with other runs.

    .venv/bin/python benchmarks/convergence.py [--subscribers 100000] [--diverge 100]

Ports: EDGESLA_TEST_BASE_PORT (default 19500) + 910..922 (tests/ports.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import yaml

from benchmarks._common import EDGESLA, private_stack, save
from edgesla.stack.layout import HOST
from tests.ports import port

TABLES = {"public.subscriber": "subscriber_id", "public.billing_account": "subscriber_id"}
ORIGIN = "edgesla_convergence_bench"


def _run(argv: list[str], stdout: int | Any = subprocess.PIPE) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS (KiB) and stdout of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout is not None else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):  # probe: 1 = a target failed, reported in the JSON
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss, out


def _probe(config: Path) -> dict[str, Any]:
    wall, rss, out = _run(
        [EDGESLA, "probe", "--config", str(config), "--target", "pg-convergence", "--json"]
    )
    (result,) = json.loads(out)
    divergent = sum(
        s["value"]
        for s in result["samples"]
        if s["name"] == "edgesla_pg_convergence_divergent_rows"
    )
    return {
        "wall_s": wall,
        "peak_rss_kib": rss,
        "latency_s": result["latency_seconds"],
        "success": result["success"],
        "divergent_rows": divergent,
    }


def _grow(dsns: dict[str, str], total: int) -> None:
    """Add rows on pg-a up to ``total`` per table; wait until pg-b has them all."""
    with psycopg.connect(dsns["pg-a"], autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM public.subscriber").fetchone()
        extra = max(0, total - int(have[0] if have else 0))
        with conn.transaction():
            conn.execute(
                "INSERT INTO public.subscriber (subscriber_id, account_type, service_level, "
                "full_name, email) SELECT 'bench' || lpad(i::text, 8, '0'), "
                "CASE WHEN i %% 10 = 0 THEN 'business' ELSE 'residential' END, 'gold', "
                "'Bench Subscriber ' || i, 'bench' || i || '@example.net' "
                "FROM generate_series(1, %s) AS i",
                (extra,),
            )
            conn.execute(
                "INSERT INTO public.billing_account (subscriber_id, plan, monthly_fee_cents, "
                "billing_cycle_day) SELECT 'bench' || lpad(i::text, 8, '0'), 'fiber-100', "
                "3990, 1 + i %% 28 FROM generate_series(1, %s) AS i",
                (extra,),
            )
    with psycopg.connect(dsns["pg-b"], autocommit=True) as conn:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM public.billing_account").fetchone()
            if row is not None and int(row[0]) >= total:
                return
            time.sleep(1)
    raise RuntimeError(f"pg-b did not receive {total} rows within 600 s")


def _dump_diff(dsns: dict[str, str], work: Path) -> dict[str, Any]:
    start = time.perf_counter()
    moved, differing = 0, 0
    for table, key in TABLES.items():
        copy = f"COPY (SELECT * FROM {table} ORDER BY {key}) TO STDOUT"
        files = {node: work / f"{node}-{table}.tsv" for node in dsns}
        procs = []
        for node, dsn in dsns.items():
            with files[node].open("wb") as out:
                procs.append(subprocess.Popen(["psql", dsn, "-Xqc", copy], stdout=out))
        for proc in procs:
            if proc.wait() != 0:
                raise RuntimeError("psql failed")
        moved += sum(f.stat().st_size for f in files.values())
        a, b = files.values()
        diff = subprocess.run(["diff", str(a), str(b)], capture_output=True, check=False)
        differing += sum(1 for line in diff.stdout.splitlines() if line[:2] in (b"< ", b"> "))
    return {"wall_s": time.perf_counter() - start, "bytes": moved, "differing_lines": differing}


def _diverge(dsn: str, count: int) -> list[tuple[str, str]]:
    """Change ``count`` subscribers' email on pg-a only; returns (id, old email) to restore."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        _unreplicated(conn)
        pick = "SELECT subscriber_id, email FROM public.subscriber ORDER BY md5(subscriber_id) "
        rows = conn.execute(pick + "LIMIT %s", (count,)).fetchall()
        for sid, _ in rows:
            conn.execute(
                "UPDATE public.subscriber SET email = 'bench@example.net' WHERE subscriber_id = %s",
                (sid,),
            )
    return [(str(sid), str(email)) for sid, email in rows]


def _restore(dsn: str, rows: list[tuple[str, str]]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        _unreplicated(conn)
        for sid, email in rows:
            conn.execute(
                "UPDATE public.subscriber SET email = %s WHERE subscriber_id = %s", (email, sid)
            )


def _unreplicated(conn: psycopg.Connection) -> None:
    create = (
        "SELECT pg_replication_origin_create(%s) WHERE NOT EXISTS "
        "(SELECT FROM pg_replication_origin WHERE roname = %s)"
    )
    conn.execute(create, (ORIGIN, ORIGIN))
    conn.execute("SELECT pg_replication_origin_session_setup(%s)", (ORIGIN,))
    conn.execute("SET session_replication_role = replica")


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--diverge", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = port(910)
    print(f"stack on ports {base}..{base + 12} ...")
    with private_stack(base) as status, tempfile.TemporaryDirectory(prefix="edgesla-conv-") as tmp:
        pg_ports = {
            c["name"]: int(c["address"].rsplit(":", 1)[1])
            for c in status["components"]
            if c["name"] in ("pg-a", "pg-b")
        }
        dsns = {
            n: f"host={HOST} port={p} dbname=edgesla user=postgres" for n, p in pg_ports.items()
        }
        print(f"growing the tables to {args.subscribers} rows on pg-a (replicated) ...")
        _grow(dsns, args.subscribers)
        config = Path(tmp) / "pop.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "version": 1,
                    "pop": "bench",
                    "region": "lab",
                    "defaults": {"interval": "5m", "timeout": "4m"},
                    "targets": [
                        {
                            "name": "pg-convergence",
                            "prober": "postgres_convergence",
                            "settle_time": "1s",
                            "tables": list(TABLES),
                            "nodes": [
                                {"name": n, "dsn": d, "sslmode": "disable"} for n, d in dsns.items()
                            ],
                        }
                    ],
                }
            )
        )
        time.sleep(2)  # past the settle time
        results: dict[str, Any] = {"subscribers": args.subscribers, "tables": list(TABLES),
                                   "rows_per_table": args.subscribers, "repeat": args.repeat,
                                   "machine": f"{os.cpu_count()} cores, shared with other "
                                   "runs: figures are inflated"}  # fmt: skip
        for state in ("converged", "diverged"):
            restore = _diverge(dsns["pg-a"], args.diverge) if state == "diverged" else []
            try:
                probes, dumps = [], []
                for _ in range(args.repeat):  # in turn, so both see the same load
                    probes.append(_probe(config))
                    dumps.append(_dump_diff(dsns, Path(tmp)))
            finally:
                _restore(dsns["pg-a"], restore)
            results[state] = {
                "probe": {"median_wall_s": _median(probes, "wall_s"),
                          "median_latency_s": _median(probes, "latency_s"),
                          "max_peak_rss_kib": max(p["peak_rss_kib"] for p in probes),
                          "divergent_rows": [p["divergent_rows"] for p in probes],
                          "runs": probes},
                "dump_and_diff": {"median_wall_s": _median(dumps, "wall_s"),
                                  "bytes": dumps[0]["bytes"],
                                  "differing_lines": [d["differing_lines"] for d in dumps],
                                  "runs": dumps},
                "wall_ratio_probe_to_dump": _median(probes, "wall_s") / _median(dumps, "wall_s"),
            }  # fmt: skip
            summary = {k: v for k, v in results[state].items() if k != "runs"}
            print(state, json.dumps(summary, default=str)[:600])
    print(f"wrote {save('convergence', results)}")


if __name__ == "__main__":
    main()
