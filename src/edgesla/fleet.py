"""The fleet inventory: every PoP of the ISP, its region and where its exporter listens.

Versioned YAML, strict like the PoP config and the SLO spec (``examples/fleet.yaml``)::

    version: 1
    pops:
      - {name: pop-fra-03, region: eu-central, exporter: "pop-fra-03.edge.example.net:9830"}
      - {name: pop-ber-01, region: eu-central, exporter: "10.20.0.7:9830",
         labels: {tier: gold}}

Read by ``edgesla scrape-config`` (Prometheus file-based service discovery) and by
``edgesla rules --fleet`` (a PoP named in the SLO spec must be in the fleet).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from edgesla.locations import validate_model
from edgesla.strict import Strict
from edgesla.yamlfile import read_yaml, versioned

__all__ = ["FLEET_VERSION", "Fleet", "FleetPop", "load_fleet", "parse_fleet"]

FLEET_VERSION = 1
_NAME = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
#: host:port, host a DNS name, an IPv4 address or a bracketed IPv6 address.
_ADDRESS = r"^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):\d{1,5}$"
_LABEL = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
#: Labels Prometheus or edgesla already set on every target: not overridable per PoP.
_RESERVED_LABELS = frozenset({"pop", "region", "job", "instance", "__address__"})


class FleetPop(Strict):
    name: str = Field(pattern=_NAME)
    region: str = Field(pattern=_NAME)
    #: host:port of the PoP's ``edgesla exporter``
    exporter: str = Field(pattern=_ADDRESS)
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _labels(self) -> FleetPop:
        for key in self.labels:
            if not re.match(_LABEL, key) or key.startswith("__"):
                raise ValueError(f"label {key!r} is not a valid Prometheus label name")
            if key in _RESERVED_LABELS:
                raise ValueError(f"label {key!r} is set by edgesla or Prometheus; choose another")
        return self


class Fleet(Strict):
    version: Literal[1]
    pops: tuple[FleetPop, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Fleet:
        for attr in ("name", "exporter"):
            seen: set[str] = set()
            for pop in self.pops:
                value = getattr(pop, attr)
                if value in seen:
                    raise ValueError(f"{attr} {value!r} is listed twice; each PoP once")
                seen.add(value)
        return self

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.pops)


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check its spelling; examples/fleet.yaml shows every key)"
    if err["type"] == "missing":
        return "required key is missing (examples/fleet.yaml shows every key)"
    if err["type"] == "string_pattern_mismatch" and err["loc"][-1] == "exporter":
        return f"{err['input']!r} is not host:port, e.g. pop-fra-03.edge.example.net:9830"
    if err["type"] == "string_pattern_mismatch":
        return (
            f"{err['input']!r}: use lower-case letters, digits, '.', '_' or '-' "
            f"(at most 63, starting and ending with a letter or digit)"
        )
    return str(err["msg"]).removeprefix("Value error, ")


def parse_fleet(data: object, source: str = "<fleet>") -> Fleet:
    """Validate an already-parsed document; ConfigError names ``source`` and each bad key."""
    data = versioned(data, FLEET_VERSION, source)
    return validate_model(Fleet, data, source, "fleet inventory", _message)


def load_fleet(path: Path) -> Fleet:
    """Read and validate a fleet inventory file."""
    return parse_fleet(read_yaml(path, "the fleet inventory"), str(path))
