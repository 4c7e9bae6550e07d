"""Customer-self-care demo service: the HTTP target of the load tests.

A demo target for load tests, not a product: a Starlette app under uvicorn that reads
subscriber documents from MongoDB and billing from PostgreSQL, and writes contact changes
to the PostgreSQL masters round-robin. Run it with ``python -m edgesla.selfcare --help``;
the local stack starts it through :func:`build_argv` and waits on :func:`check`.
"""

from __future__ import annotations

from edgesla.selfcare.app import create_app
from edgesla.selfcare.control import build_argv, check
from edgesla.selfcare.settings import Settings

__all__ = ["Settings", "build_argv", "check", "create_app"]
