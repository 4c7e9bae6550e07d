"""What one self-care service process needs to know: its backends and its time budget.

Frozen and plain, so the ``__main__`` CLI can hand it to every uvicorn worker process
through one environment variable (workers are started by uvicorn, not by us).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

__all__ = ["DEFAULT_POOL_SIZE", "DEFAULT_TIMEOUT_SECONDS", "ENV_SETTINGS", "Settings"]

#: Every backend call is bounded by this (connect, pool checkout, statement, Mongo op).
#: Five times the customer-care latency target: slow enough to tell "slow" from "down".
DEFAULT_TIMEOUT_SECONDS = 1.0
#: Connections per PostgreSQL node per worker process.
DEFAULT_POOL_SIZE = 4
#: Environment variable that carries the settings (JSON) to uvicorn's worker processes.
ENV_SETTINGS = "EDGESLA_SELFCARE_SETTINGS"


@dataclass(frozen=True)
class Settings:
    """Backends of one self-care service; ``pg_dsns`` are the PostgreSQL masters, in order."""

    mongo_uri: str
    pg_dsns: tuple[str, ...]
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    pg_pool_size: int = DEFAULT_POOL_SIZE

    def __post_init__(self) -> None:
        if not self.pg_dsns:
            raise ValueError("at least one PostgreSQL DSN is needed")
        if self.timeout_seconds <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout_seconds}")
        if self.pg_pool_size < 1:
            raise ValueError(f"pool size must be >= 1, got {self.pg_pool_size}")

    def to_json(self) -> str:
        return json.dumps(
            {
                "mongo_uri": self.mongo_uri,
                "pg_dsns": list(self.pg_dsns),
                "timeout_seconds": self.timeout_seconds,
                "pg_pool_size": self.pg_pool_size,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Settings:
        raw = json.loads(text)
        return cls(
            mongo_uri=str(raw["mongo_uri"]),
            pg_dsns=tuple(str(d) for d in raw["pg_dsns"]),
            timeout_seconds=float(raw["timeout_seconds"]),
            pg_pool_size=int(raw["pg_pool_size"]),
        )

    @classmethod
    def from_env(cls) -> Settings:
        text = os.environ.get(ENV_SETTINGS)
        if not text:
            raise RuntimeError(
                f"{ENV_SETTINGS} is not set: start the service with "
                "`python -m edgesla.selfcare --help`"
            )
        return cls.from_json(text)
