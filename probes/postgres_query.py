"""postgres_query: the latency of one configurable query, as a customer-care lookup sees it.

postgres_exporter cannot do this (custom queries are deprecated there, #251); blackbox_exporter
refuses database probers (#1365). Here a target names a node and a query:

    - name: pg-a-billing-lookup
      prober: postgres_query
      dsn: host=10.0.0.5 port=5432 dbname=edgesla user=edgesla_probe
      password_file: /etc/edgesla/pg-probe.password
      sslmode: verify-full
      sslrootcert: /etc/edgesla/pg-ca.pem
      query: SELECT plan, balance_cents FROM public.billing_account WHERE subscriber_id = 'x'

The latency is ``time.perf_counter()`` from asking for a connection to the last row fetched:
waiting for a pooled connection (or making one) is part of what a client waits for, and
execute *and* fetching every row are inside (a cursor is lazy: timing only the call would
measure nothing, see STYLE.md on Locust's MongoDB example). Everything ends by the timeout
(``edgesla.probes._pg``: the server's ``statement_timeout`` for a live server, the watchdog for a
frozen one), which reports ``timeout``; the run then also checks that the server takes new
connections (a frozen postmaster alone still serves pooled sessions).
"""

from __future__ import annotations

import time

from edgesla.config import PostgresQueryTarget
from edgesla.probes import _pg
from edgesla.probes._result import ProbeResult

__all__ = ["probe"]


def probe(target: PostgresQueryTarget, timeout: float) -> ProbeResult:
    """Run ``target.query`` once; never raises."""
    start = time.perf_counter()
    try:
        latency, rows = _pg.run(
            target, timeout, lambda conn: _timed_query(conn, target.query, start), ping=True
        )
    except Exception as exc:  # a probe reports every failure as a result
        return ProbeResult.fail(_pg.reason_for(exc), _pg.describe(exc, target.name))
    return ProbeResult.ok(latency, f"{rows} row{'s' if rows != 1 else ''} in {latency:.4f}s")


def _timed_query(conn: _pg.Conn, query: str, start: float) -> tuple[float, int]:
    with conn.cursor() as cur:
        cur.execute(query.encode())  # the operator's own SQL, from the trusted PoP config
        rows = cur.fetchall() if cur.description is not None else []
        return time.perf_counter() - start, len(rows)
