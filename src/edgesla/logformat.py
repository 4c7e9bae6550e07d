"""Log lines as Prometheus' own tools write them: ``edgesla exporter --log.format``.

    logfmt  ts=2026-12-01T12:00:00.123Z level=info logger=edgesla.exporter msg="serving ..."
    json    {"ts": "2026-12-01T12:00:00.123Z", "level": "info", "logger": "...", "msg": "..."}

Levels are Prometheus' names (debug, info, warn, error); ``warning`` is accepted as well.
A traceback (a bug) goes into the line's ``err`` field, so each record stays one line.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Final

__all__ = ["FORMATS", "LEVELS", "configure"]

#: --log.level values: Prometheus' names first, then Python's ``warning`` (the old flag's).
LEVELS: Final = ("debug", "info", "warn", "error", "warning")
FORMATS: Final = ("logfmt", "json")
_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
          logging.ERROR: "error", logging.CRITICAL: "error"}  # fmt: skip


def _fields(record: logging.LogRecord) -> dict[str, str]:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    fields = {
        "ts": f"{seconds}.{int(record.msecs):03d}Z",
        "level": _NAMES.get(record.levelno, record.levelname.lower()),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    if record.exc_info:
        fields["err"] = logging.Formatter().formatException(record.exc_info)
    return fields


def _logfmt_value(value: str) -> str:
    if value and not any(c in value for c in ' ="\\\n\t') and value.isprintable():
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in _fields(record).items())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), ensure_ascii=False)


def configure(level: str, fmt: str) -> None:
    """Log at ``level`` and above to stderr in ``fmt`` (one of LEVELS and FORMATS)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel("WARNING" if level in ("warn", "warning") else level.upper())
