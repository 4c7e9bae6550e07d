"""Every fixed port the tests use, as an offset from one base.

``EDGESLA_TEST_BASE_PORT`` (default 19500) moves all of them at once, so several test runs
can share one machine: give each run its own base, 1,000 apart. The offsets used today lie
in 0..999; a new test takes the next free block and says so here. A stack takes its base
and the 13 ports above it (offset 13: its Alertmanager); one started with
``--with-victoria-metrics`` takes offset 14 too (its VictoriaMetrics).

    0..13     the shared stack (tests/conftest.py)
    100..260  stack lifecycle, unprivileged, demo stacks (tests/stack)
    295..297  the self-care service (tests/selfcare)
    340..355  the control-plane private stack (340..353), a standalone MongoDB (355)
    397..399  the load test's master, the exporter under test (tests/loadtests, tests/exporters)
    261       nginx, the generator-ceiling benchmark's target (benchmarks/generator_ceiling.py)
    420..440  benchmark stacks (benchmarks/)
    470..479  report inputs' Prometheus (tests/report/inputs)
    480..489  the month of data behind the report CLI tests (tests/report/cli)
    500..513  the quorum-alert stack (tests/rules)
    680..699  the recorded-contract Grafana (tests/dashboards)
    700..760  the scrape-config stack and its Prometheus, load-test metrics and master
    800..814  the probe-fault chaos stack (800..813) and the exporter under test (814)
              (tests/chaos/test_probe_faults.py)
    820..837  the exporter HTTP benchmark (benchmarks/exporter_http.py): its stack 820..833,
              edgesla exporters 834..835, postgres_exporters 836..837
    840..853  the replication chaos stack (tests/chaos/test_replication_faults.py); 853 is
              also its delay proxy, on 127.0.0.2 (the stack's Alertmanager is on 127.0.0.1)
    854..868  the stack-operations stack, its VictoriaMetrics on 868
              (tests/stack/test_operations.py)
    880       the exporter of the replication-lag test (tests/probes/pg/test_lag_exporter.py)
    890..899  load-test masters, their /metrics, a listener: a killed worker, network namespaces
              (tests/loadtests/test_distributed.py, test_namespaces.py)
    900       a port where nothing listens: an unreachable PostgreSQL node
              (tests/probes/pg/test_postgres_convergence.py)
    910..923  the convergence benchmark's stack (benchmarks/convergence.py)
    924..937  the soak benchmark's stack (benchmarks/soak.py, default --base-port)
    938..952  VictoriaMetrics: the block of a stack refused for a missing binary (nothing binds;
              tests/stack/test_victoriametrics.py); on 952 the one holding a copy of the
              report inputs' Prometheus, on 951 one with its default lookback
              (tests/report/inputs/test_victoriametrics.py); the store benchmark's Prometheus
              (950) and VictoriaMetrics (952) (benchmarks/report_store.py)
    960..962  the exporter-conventions benchmark (benchmarks/exporter_conventions.py): baseline,
              branch, branch with --web.config.file
    970..985  the control-plane cost benchmark (benchmarks/control_plane_cost.py): its stack
              970..983, the exporters probing at 15 s (984) and at 1 s (985)
    986..999  the generator-ceiling benchmark's stack (benchmarks/generator_ceiling.py)
"""

from __future__ import annotations

import os

__all__ = ["BASE", "port"]

BASE = int(os.environ.get("EDGESLA_TEST_BASE_PORT", "19500"))


def port(offset: int) -> int:
    """The port ``offset`` above the base."""
    return BASE + offset
