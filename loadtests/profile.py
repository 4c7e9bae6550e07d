"""The PoP traffic profile: who a PoP serves, how they use it, and which load a run plays.

A profile file (``version: 1``) has two sections; ``loadtests/profiles/pop-default.yaml``
spells out every default, and ``docs/traffic-model.md`` gives the source of each number::

    version: 1
    pop:                         # the PoP: PopProfile
      subscribers: 100000
      business_share: 0.08
      busy_hour_factor: 1.65     # busy-hour rate / daily average (ITU-T E.500, Cisco VNI)
      residential: {care_lookup: 0.2, session_start: 2.0, ...}   # requests/subscriber/day
      business: {care_lookup: 1.0, ...}
      diurnal: [6.0, 5.2, ...]   # 24 hourly shares of daily traffic, any positive scale
      radius:                    # the BNG's RADIUS traffic: RadiusSettings
        interim_interval: 10m    # Acct-Interim-Interval (RFC 2869)
        online: [0.95, ...]      # 24 hourly shares of subscribers with an open session
    load:                        # the run: LoadProfile
      kind: peak                 # peak | diurnal | spike | soak (the CLI's --profile)
      spike: {share: 1.0, window: 5m, ...}

Defaults are applied first, then the file, then dotted overrides from the command line
(``{"pop.subscribers": 250000, "load.kind": "spike"}``), so a file or an override only
names what differs. Everything is frozen and strict: an unknown key, a zero or negative
rate, a share outside [0, 1] or a malformed curve is an ``edgesla.ConfigError`` naming
the file, the key and the fix. Turning a profile into requests/second is
``edgesla.loadtests.rates``; the shapes of the day and of a reconnect storm are
``edgesla.loadtests.shapes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import ConfigDict, Field, field_validator, model_validator

from edgesla import ConfigError
from edgesla.durations import Duration, format_duration
from edgesla.loadtests import shapes
from edgesla.locations import validate_model
from edgesla.strict import Strict
from edgesla.yamlfile import read_yaml, versioned

__all__ = [
    "DAILY_OPERATIONS",
    "DEFAULT_DIURNAL",
    "DEFAULT_ONLINE",
    "OPERATIONS",
    "PROFILE_FILE_VERSION",
    "PROFILE_KINDS",
    "RADIUS_OPERATIONS",
    "DailyRequests",
    "DiurnalSettings",
    "LoadProfile",
    "PopProfile",
    "ProfileKind",
    "RadiusSettings",
    "SoakSettings",
    "SpikeSettings",
    "TrafficModel",
    "default_model",
    "load_profile_file",
    "parse_profile",
]

#: Operations whose rate is given as requests per subscriber per day (``DailyRequests``).
#: ``session_start`` / ``session_stop`` are the BNG's RADIUS Accounting-Start / -Stop.
DAILY_OPERATIONS = (
    "care_lookup",
    "session_start",
    "session_stop",
    "device_change",
    "billing_write",
    "selfcare_http",
)
#: Operations whose rate is derived from the sessions (``RadiusSettings``): the
#: authentication (Access-Request -> subscriber lookup by access identity) of every session
#: start, and the Accounting Interim-Updates of every online session.
RADIUS_OPERATIONS = ("auth_lookup", "acct_interim")
OPERATIONS = DAILY_OPERATIONS + RADIUS_OPERATIONS
ProfileKind = Literal["peak", "diurnal", "spike", "soak"]
PROFILE_KINDS: tuple[str, ...] = get_args(ProfileKind)
PROFILE_FILE_VERSION = 1

#: Hourly share of daily requests in percent, 00:00 … 23:00 local time. Residential peak
#: 22:00 (above 60 % of it until 03:00), a business bump at 12:00-14:00; max/mean = 1.65.
DEFAULT_DIURNAL = (
    6.0, 5.2, 4.4, 3.2, 2.025, 1.3, 1.2, 1.6, 2.4, 3.3, 3.7, 4.0,
    4.3, 4.3, 4.1, 4.1, 4.3, 4.6, 4.8, 5.3, 5.9, 6.5, 6.875, 6.6,
)  # fmt: skip
#: Share of subscribers with an open session, per hour 00:00 … 23:00: always-on routers,
#: a few switched off at night, 96 % online at the busy hour (docs/traffic-model.md).
DEFAULT_ONLINE = (
    0.95, 0.94, 0.93, 0.93, 0.92, 0.92, 0.92, 0.93, 0.93, 0.93, 0.93, 0.93,
    0.94, 0.94, 0.94, 0.94, 0.94, 0.95, 0.95, 0.96, 0.96, 0.96, 0.96, 0.96,
)  # fmt: skip
#: RFC 2869 5.16: the Acct-Interim-Interval "MUST NOT be smaller than 60" seconds.
MIN_INTERIM_INTERVAL_SECONDS = 60.0


class _Strict(Strict):
    model_config = ConfigDict(allow_inf_nan=False)  # rates and shares are finite


class DailyRequests(_Strict):
    """Requests one subscriber causes per day, per operation (all above 0)."""

    care_lookup: float = Field(gt=0)
    session_start: float = Field(gt=0)
    session_stop: float = Field(gt=0)
    device_change: float = Field(gt=0)
    billing_write: float = Field(gt=0)
    selfcare_http: float = Field(gt=0)


def _hourly(
    curve: tuple[float, ...], fix: str, ok: Callable[[float], bool], rule: str
) -> tuple[float, ...]:
    """``curve`` unless it is not 24 values (``fix`` says what to give) or an hour's value
    breaks ``rule``: a ValueError naming the hour."""
    if len(curve) != shapes.HOURS:
        raise ValueError(f"expected 24 hourly values (00:00 to 23:00), got {len(curve)}; {fix}")
    for hour, value in enumerate(curve):
        if not ok(value):
            raise ValueError(f"the {hour:02d}:00 value is {value:g}; {rule}")
    return curve


class RadiusSettings(_Strict):
    """The BNG's RADIUS traffic: sessions online, their interim updates, their logins."""

    #: seconds between two Accounting Interim-Updates of one session (Acct-Interim-Interval)
    interim_interval: Duration = Field(default=600.0, ge=MIN_INTERIM_INTERVAL_SECONDS)
    #: share of subscribers with an open session, per hour of day (24 values, 0 … 1)
    online: tuple[float, ...] = DEFAULT_ONLINE
    #: Access-Requests per accounting start (rejects and timed-out requests are repeated)
    access_requests_per_start: float = Field(default=1.05, ge=1, le=10)

    @field_validator("online")
    @classmethod
    def _online(cls, curve: tuple[float, ...]) -> tuple[float, ...]:
        return _hourly(
            curve,
            "give the share of subscribers online in each hour",
            lambda value: 0 <= value <= 1,
            "a share of subscribers online is from 0 to 1, e.g. 0.95",
        )


class PopProfile(_Strict):
    """Who the PoP serves and how they use it. Defaults: docs/traffic-model.md."""

    subscribers: int = Field(default=100_000, ge=1, le=10_000_000)
    business_share: float = Field(default=0.08, ge=0, le=1)
    busy_hour_factor: float = Field(default=1.65, ge=1, le=24)
    residential: DailyRequests = DailyRequests(
        care_lookup=0.2,
        session_start=2.0,
        session_stop=2.0,
        device_change=0.05,
        billing_write=0.1,
        selfcare_http=1.0,
    )
    business: DailyRequests = DailyRequests(
        care_lookup=1.0,
        session_start=1.0,
        session_stop=1.0,
        device_change=0.2,
        billing_write=0.5,
        selfcare_http=3.0,
    )
    diurnal: tuple[float, ...] = DEFAULT_DIURNAL
    radius: RadiusSettings = RadiusSettings()

    @field_validator("diurnal")
    @classmethod
    def _curve(cls, curve: tuple[float, ...]) -> tuple[float, ...]:
        _hourly(
            curve,
            "give one share of daily traffic per hour",
            lambda value: value >= 0,
            "hourly shares must be 0 or more",
        )
        if sum(curve) <= 0:
            raise ValueError(
                "the values sum to 0; give each hour's share of daily traffic "
                "(any positive scale, e.g. percentages)"
            )
        return curve

    @model_validator(mode="after")
    def _factor_fits_curve(self) -> PopProfile:
        if shapes.is_flat(self.diurnal) and self.busy_hour_factor > 1:
            raise ValueError(
                f"busy_hour_factor {self.busy_hour_factor:g} needs a busy hour, but the "
                "diurnal curve is flat; give a curve with a peak or set busy_hour_factor: 1"
            )
        ceiling = shapes.max_factor(self.diurnal)
        if self.busy_hour_factor > ceiling * (1 + 1e-9):
            raise ValueError(
                f"busy_hour_factor {self.busy_hour_factor:g} is too high for this diurnal "
                f"curve: its quietest hour would fall below 0 (this curve allows at most "
                f"{ceiling:.3g}); lower busy_hour_factor or deepen the curve's trough"
            )
        return self


class DiurnalSettings(_Strict):
    """``diurnal``: the local hour of day that second 0 of the run plays."""

    start_hour: int = Field(default=0, ge=0, le=23)


class SpikeSettings(_Strict):
    """``spike``: a mass reconnect after an outage, on top of the busy-hour rates: ``share``
    of the busy hour's online sessions authenticate and start accounting again."""

    share: float = Field(default=1.0, ge=0, le=1)
    window: Duration = Field(default=300.0, gt=0)
    ramp: Duration = Field(default=30.0, gt=0)
    at: Duration = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _ramp_inside_window(self) -> SpikeSettings:
        if self.ramp >= self.window:
            raise ValueError(
                f"ramp {format_duration(self.ramp)} must be shorter than window "
                f"{format_duration(self.window)}: the storm ramps up, then decays"
            )
        return self


class SoakSettings(_Strict):
    """``soak``: a long constant run at a fraction of the busy-hour rates."""

    fraction: float = Field(default=0.8, gt=0, le=1)


class LoadProfile(_Strict):
    """Which load profile a run plays (``kind``) and the knobs of each one."""

    kind: ProfileKind = "peak"
    diurnal: DiurnalSettings = DiurnalSettings()
    spike: SpikeSettings = SpikeSettings()
    soak: SoakSettings = SoakSettings()


class TrafficModel(_Strict):
    """A whole profile file: ``version``, ``pop`` and ``load``."""

    version: Literal[1] = 1
    pop: PopProfile = PopProfile()
    load: LoadProfile = LoadProfile()


# --- reading -----------------------------------------------------------------------------

_REFERENCE = "see docs/traffic-model.md"
_HINTS = {
    "subscribers": "a whole number from 1 to 10,000,000 (PoPs serve 25,000–200,000)",
    "business_share": "a share from 0 to 1, e.g. 0.08 for 8 %",
    "share": "a share from 0 to 1, e.g. 0.3 for 30 % of the online sessions",
    "busy_hour_factor": "busy-hour rate / daily average, from 1 (flat day) to 24; "
    "the public figure is 1.6–1.7",
    "fraction": "a share of the busy-hour rates, above 0 and at most 1, e.g. 0.8",
    "start_hour": "an hour of day from 0 to 23",
    "window": "a duration above 0, e.g. 5m",
    "ramp": "a duration above 0, e.g. 30s",
    "at": "a duration of 0 or more, e.g. 1m",
    "interim_interval": "a duration of at least 60s (RFC 2869: Acct-Interim-Interval MUST "
    "NOT be smaller than 60 seconds), e.g. 10m",
    "access_requests_per_start": "Access-Requests per accounting start, from 1 to 10, e.g. 1.05",
    **dict.fromkeys(DAILY_OPERATIONS, "requests per subscriber per day must be above 0"),
}
#: Keys of earlier profile files that are refused with what replaced them.
_RETIRED = {
    "lookups_per_reconnect": "no longer used: each reconnect of a spike is now one "
    "authentication (auth_lookup, times pop.radius.access_requests_per_start) and one "
    "accounting start (session_start); remove the key",
}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _message(err: Any) -> str:
    key = str(err["loc"][-1]) if err["loc"] else ""
    if err["type"] == "extra_forbidden" and key in _RETIRED:
        return _RETIRED[key]
    if err["type"] == "extra_forbidden":
        return f"unknown key (check its spelling; {_REFERENCE})"
    if err["type"] == "literal_error" and key == "kind":
        return f"unknown load profile {err['input']!r}; known profiles: " + ", ".join(PROFILE_KINDS)
    if err["type"] in _RANGE_ERRORS and key in _HINTS:
        return f"{err['input']!r} is out of range: {_HINTS[key]}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"].endswith(("_parsing", "_type", "finite_number")):
        message += f", got {err['input']!r}"
    return message


def _nest(overrides: Mapping[str, object]) -> dict[str, Any]:
    """``{"pop.subscribers": 5}`` → ``{"pop": {"subscribers": 5}}``."""
    nested: dict[str, Any] = {}
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {dotted}: {part} is set to a value already")
        node[leaf] = value
    return nested


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, mapping by mapping; lists and values in ``top`` replace."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def _validate(data: Mapping[str, Any], source: str) -> TrafficModel:
    full = _merge(TrafficModel().model_dump(), data)  # defaults first, then the document
    # locations are not named from the merged document: its lists are the defaults' too
    return validate_model(TrafficModel, full, source, "traffic profile", _message, name_items=False)


def parse_profile(
    data: object, source: str = "<profile>", overrides: Mapping[str, object] | None = None
) -> TrafficModel:
    """Validate a parsed profile document, then apply dotted ``overrides`` on top."""
    data = versioned(data, PROFILE_FILE_VERSION, source)
    model = _validate(data, source)
    if not overrides:
        return model
    return _validate(_merge(data, _nest(overrides)), f"{source} with overrides")


def load_profile_file(path: Path, overrides: Mapping[str, object] | None = None) -> TrafficModel:
    """Read and validate a profile file (``version: 1``), then apply ``overrides``."""
    return parse_profile(read_yaml(path, "the traffic profile"), str(path), overrides)


def default_model(overrides: Mapping[str, object] | None = None) -> TrafficModel:
    """The built-in defaults with dotted ``overrides``, e.g. from command-line options."""
    return parse_profile({"version": PROFILE_FILE_VERSION}, "defaults", overrides)
