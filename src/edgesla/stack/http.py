"""Small HTTP helpers for readiness checks (etcd, Prometheus)."""

from __future__ import annotations

from typing import Any

import requests

__all__ = ["get_json"]


def get_json(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    """(status code, parsed JSON body or None); raises requests.RequestException."""
    response = requests.get(url, timeout=timeout)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None
