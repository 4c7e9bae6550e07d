"""The self-care service as a real uvicorn subprocess against the shared local stack."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from edgesla.selfcare import build_argv
from edgesla.stack.layout import HOST, PG_NODES, Layout
from tests.chaos.netfaults import DelayProxy
from tests.helpers import free_port
from tests.ports import port

#: Outside every stack's range (tests/ports.py), so no run collides with it.
SELFCARE_PORT = port(295)
SELFCARE_NO_MONGO_PORT = port(296)
SELFCARE_PROXIED_PORT = port(297)
START_TIMEOUT_SECONDS = 30.0


def pg_dsns(layout: Layout) -> list[str]:
    return [f"host={HOST} port={layout.pg_port(n)} dbname=edgesla user=postgres" for n in PG_NODES]


def _answers(url: str) -> bool:
    try:
        requests.get(f"{url}/healthz", timeout=5)
    except requests.RequestException:
        return False
    return True


def run_service(argv: list[str], url: str, log_path: Path) -> Iterator[str]:
    """Start ``argv``, wait until ``/healthz`` answers at all (200 or 503), stop it after."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"self-care service did not answer at {url}:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def selfcare(stack: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a service reading the stack's MongoDB and both PostgreSQL masters."""
    listen = f"{HOST}:{SELFCARE_PORT}"
    argv = build_argv(listen, f"mongodb://{HOST}:{stack.mongo_port}/", pg_dsns(stack))
    log = tmp_path_factory.mktemp("selfcare") / "selfcare.log"
    yield from run_service(argv, f"http://{listen}", log)


@pytest.fixture(scope="module")
def selfcare_no_mongo(stack: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second instance whose MongoDB is a closed port: the shared stack stays untouched."""
    listen = f"{HOST}:{SELFCARE_NO_MONGO_PORT}"
    argv = build_argv(
        listen, f"mongodb://{HOST}:{free_port()}/", pg_dsns(stack), timeout_seconds=0.5
    )
    log = tmp_path_factory.mktemp("selfcare-no-mongo") / "selfcare.log"
    yield from run_service(argv, f"http://{listen}", log)


@pytest.fixture(scope="module")
def mongo_proxy(stack: Layout) -> Iterator[DelayProxy]:
    """A TCP proxy (no delay) in front of the shared stack's MongoDB."""
    with DelayProxy((HOST, free_port()), (HOST, stack.mongo_port), delay=0.0) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def selfcare_proxied(
    stack: Layout, mongo_proxy: DelayProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An instance reading MongoDB through :func:`mongo_proxy` (a direct connection to it)."""
    listen = f"{HOST}:{SELFCARE_PROXIED_PORT}"
    uri = f"mongodb://{HOST}:{mongo_proxy.listen[1]}/?directConnection=true"
    log = tmp_path_factory.mktemp("selfcare-proxied") / "selfcare.log"
    yield from run_service(build_argv(listen, uri, pg_dsns(stack)), f"http://{listen}", log)
