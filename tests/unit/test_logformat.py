"""--log.format: logfmt and JSON lines as Prometheus' tools write them."""

from __future__ import annotations

import json
import logging
import sys

from edgesla.logformat import JsonFormatter, LogfmtFormatter


def _record(msg: str, level: int = logging.INFO, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("edgesla.exporter", level, __file__, 1, msg, None, info)


def test_logfmt_quotes_only_what_needs_it() -> None:
    line = LogfmtFormatter().format(_record('target a: DOWN, reason="x"\\y', logging.WARNING))
    assert line.startswith("ts=")
    assert ' level=warn logger=edgesla.exporter msg="target a: DOWN, reason=\\"x\\"\\\\y"' in line
    assert "msg=stopping" in LogfmtFormatter().format(_record("stopping"))


def test_a_traceback_stays_on_one_line() -> None:
    line = LogfmtFormatter().format(_record("prober raised", logging.ERROR, exc=True))
    assert "\n" not in line
    assert "level=error" in line
    assert 'err="Traceback' in line
    assert "ValueError: boom" in line


def test_json_has_the_same_fields() -> None:
    doc = json.loads(JsonFormatter().format(_record("serving http://127.0.0.1:1/metrics")))
    assert set(doc) == {"ts", "level", "logger", "msg"}
    assert doc["level"] == "info"
    assert doc["ts"].endswith("Z")
    assert doc["msg"] == "serving http://127.0.0.1:1/metrics"
