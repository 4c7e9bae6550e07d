"""The strict base of every file format edgesla reads or writes (PoP config, SLO spec, fleet,
web config, load-test profiles, gates, results): an unknown key is an error naming it, and a
parsed value is frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Strict"]


class Strict(BaseModel):
    """A pydantic model that forbids unknown keys and is immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
