"""The venv keeps the real urllib3 under requests (grafana-client brings urllib3-future)."""

from __future__ import annotations

import importlib.metadata

import urllib3


def test_urllib3_is_not_replaced_by_urllib3_future() -> None:
    assert urllib3.__version__ == importlib.metadata.version("urllib3"), (
        f"urllib3 {importlib.metadata.version('urllib3')} was overwritten by urllib3-future "
        f"{urllib3.__version__} (its wheel copies itself over urllib3 at start-up); reinstall "
        f"with: URLLIB3_NO_OVERRIDE=1 .venv/bin/pip install --no-binary urllib3-future "
        f"--force-reinstall urllib3-future urllib3  (make setup does this)"
    )
