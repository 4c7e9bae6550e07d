"""The period a report judges: a fixed ``[start, end)`` in UTC, and how it was named.

Ways to name it, the first given wins:

    --month 2026-11 [--tz Europe/Berlin]  a calendar month, its boundaries in the zone (UTC)
    --from T [--to T] [--tz ZONE]         ISO-8601 times or dates; a time without an offset
                                          is in --tz (UTC); --to defaults to now
    the spec's ``window:``                a duration ending now (``30d``), a fixed
                                          ``{start, end}``, or ``loadtest`` (the runs' own)

Every way ends in the same checks (``PeriodError``, exit 2, saying what and how to fix): the
start is before the end, and the period does not end in the future (a month still running
is not a month: name it with ``--from`` to judge it so far). Whether the data source holds
the period is the evidence's question (``report.pipeline``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edgesla._errors import ConfigError
from edgesla.durations import format_duration

__all__ = [
    "Period",
    "PeriodError",
    "fixed",
    "from_range",
    "month",
    "parse_zone",
    "rolling",
    "utc_text",
]

Named = Literal["month", "range", "rolling", "fixed", "loadtest"]
#: Clocks disagree a little: an end this far past "now" still counts as now.
_CLOCK_SLACK = timedelta(seconds=60)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ConfigError):
    """The period cannot be judged as named (exit 2)."""


@dataclass(frozen=True)
class Period:
    start: datetime  #: aware, UTC
    end: datetime  #: aware, UTC; the period is [start, end)
    named: Named
    #: how a reader names it: "November 2026 (UTC)", "the last 30 days"
    label: str
    zone: str = "UTC"

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def text(self) -> str:
        """The label and the exact bounds: what every output states at its top."""
        bounds = f"{utc_text(self.start)} – {utc_text(self.end)}"
        return f"{self.label}: {bounds}" if self.label else bounds


def utc_text(moment: datetime) -> str:
    """``2026-11-01 00:00 UTC`` (seconds only when there are any)."""
    moment = moment.astimezone(UTC)
    spec = "%Y-%m-%d %H:%M:%S" if moment.second or moment.microsecond else "%Y-%m-%d %H:%M"
    return f"{moment.strftime(spec)} UTC"


def parse_zone(name: str) -> tzinfo:
    """``UTC``, ``Europe/Berlin``; PeriodError naming the option for an unknown zone."""
    if name.upper() in {"UTC", "Z"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PeriodError(
            f"--tz {name!r}: unknown time zone; use an IANA name such as UTC, Europe/Berlin "
            "or America/New_York"
        ) from None


def _moment(text: str, option: str, zone: tzinfo) -> datetime:
    """An ISO-8601 time or date; without an offset it is in ``zone``."""
    cleaned = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
            moment = datetime.combine(date.fromisoformat(cleaned), time(), tzinfo=zone)
        else:
            moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise PeriodError(
            f"{option} {text!r}: not an ISO-8601 time; write e.g. 2026-11-01, "
            "2026-11-01T00:00:00Z or 2026-11-01T01:00:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _checked(period: Period, now: datetime, hint: str) -> Period:
    if period.end <= period.start:
        raise PeriodError(
            f"the period {period.text()} ends before it starts (or has no length); {hint}"
        )
    if period.start >= now:
        raise PeriodError(f"the period {period.text()} lies in the future; {hint}")
    if period.end > now + _CLOCK_SLACK:
        raise PeriodError(
            f"the period {period.text()} ends in the future ({utc_text(now)} now): nothing "
            f"can be judged that has not happened; {hint}"
        )
    return period


def month(text: str, zone_name: str = "UTC", *, now: datetime) -> Period:
    """The calendar month ``YYYY-MM``, its boundaries at midnight in ``zone_name``."""
    found = _MONTH.match(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise PeriodError(f"--month {text!r}: write a calendar month as YYYY-MM, e.g. 2026-11")
    year, number = int(found.group(1)), int(found.group(2))
    zone = parse_zone(zone_name)
    first = datetime(year, number, 1, tzinfo=zone)
    days = calendar.monthrange(year, number)[1]
    following = (first + timedelta(days=days)).replace(day=1)
    label = f"{calendar.month_name[number]} {year} ({zone_name})"
    period = Period(first.astimezone(UTC), following.astimezone(UTC), "month", label, zone_name)
    this_month = now.astimezone(zone).strftime("%Y-%m")
    hint = (
        f"for {this_month} so far use --from {this_month}-01"
        if f"{year:04d}-{number:02d}" >= this_month
        else "choose a past month"
    )
    return _checked(period, now, hint)


def from_range(start: str, end: str | None, zone_name: str = "UTC", *, now: datetime) -> Period:
    """``--from`` / ``--to`` (``--to`` left out: until now)."""
    zone = parse_zone(zone_name)
    lo = _moment(start, "--from", zone)
    hi = _moment(end, "--to", zone) if end is not None else now
    label = "" if end is not None else "until now"
    hint = "check --from and --to (--from is the start, --to the end)"
    return _checked(Period(lo, hi, "range", label, zone_name), now, hint)


def rolling(seconds: float, now: datetime) -> Period:
    """The spec's rolling window: the last ``seconds`` up to now."""
    span = format_duration(seconds)
    return Period(now - timedelta(seconds=seconds), now, "rolling", f"the last {span}")


def fixed(start: datetime, end: datetime, *, now: datetime) -> Period:
    """The spec's fixed ``window: {start, end}``."""
    return _checked(
        Period(start, end, "fixed", ""), now, "fix window.start / window.end in the SLO spec"
    )
