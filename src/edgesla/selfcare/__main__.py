"""``python -m edgesla.selfcare``: run the customer-self-care demo service under uvicorn."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import uvicorn

from edgesla.hostport import parse_host_port
from edgesla.selfcare.settings import (
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT_SECONDS,
    ENV_SETTINGS,
    Settings,
)

__all__ = ["main", "parser"]

EPILOG = """\
endpoints:
  GET /healthz                          200 when MongoDB and every PostgreSQL node answer
  GET /api/v1/subscribers/ID            the subscriber's document (MongoDB edge.subscribers)
  GET /api/v1/subscribers/ID/billing    billing account; ?node=pg-a pins the node
  PUT /api/v1/subscribers/ID/contact    {"email": "..."}; written round-robin to the masters

example, against a local stack started with `edgesla stack up` (base port 19400):
  python -m edgesla.selfcare --listen 127.0.0.1:8080 \\
      --mongo-uri mongodb://127.0.0.1:19409/ \\
      --pg-dsn "host=127.0.0.1 port=19400 dbname=edgesla user=postgres" \\
      --pg-dsn "host=127.0.0.1 port=19401 dbname=edgesla user=postgres"
  curl -s 127.0.0.1:8080/api/v1/subscribers/2000042

A demo target for load tests, not a product. Stop it with Ctrl-C or SIGTERM.
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m edgesla.selfcare",
        description="Customer-self-care demo service: reads subscriber documents from "
        "MongoDB, billing from PostgreSQL, writes contact changes to the PostgreSQL "
        "masters round-robin.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--listen", required=True, metavar="HOST:PORT", help="address to serve on")
    p.add_argument(
        "--mongo-uri",
        required=True,
        metavar="URI",
        help="MongoDB connection string, e.g. mongodb://127.0.0.1:19409/",
    )
    p.add_argument(
        "--pg-dsn",
        required=True,
        action="append",
        metavar="DSN",
        dest="pg_dsns",
        help="a PostgreSQL master (libpq key=value or postgresql:// URI); repeat once per master",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="uvicorn worker processes (default 1); each has its own pools",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="bound on every backend call; past it the answer is 503 "
        f"(default {DEFAULT_TIMEOUT_SECONDS})",
    )
    p.add_argument(
        "--pg-pool-size",
        type=int,
        default=DEFAULT_POOL_SIZE,
        metavar="N",
        help=f"connections per PostgreSQL node per worker (default {DEFAULT_POOL_SIZE})",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        host, port = parse_host_port(args.listen)
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        settings = Settings(args.mongo_uri, tuple(args.pg_dsns), args.timeout, args.pg_pool_size)
    except ValueError as exc:
        p.error(str(exc))  # exits 2
    os.environ[ENV_SETTINGS] = settings.to_json()  # read by every worker process
    uvicorn.run(
        "edgesla.selfcare.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
