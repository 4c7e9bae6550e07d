"""The progress line (edgesla.loadtests.progress): what it says, and how it is printed on a terminal
and elsewhere."""

from __future__ import annotations

import io
import os

import gevent
import pytest

from edgesla.loadtests.progress import Progress, ProgressPrinter, clock, format_progress

RUNNING = Progress(
    elapsed=42.3,
    duration=300.0,
    requests=4_200,
    failures=3,
    late=12,
    rate=99.31,
    target_rate=100.0,
)


def test_the_line_while_running() -> None:
    assert format_progress(RUNNING) == (
        "load test 0:42 / 5:00 (4:18 left) | 99.3 req/s of 100.0 | errors 3 (0.07%) | "
        "late 12 (0.29%)"
    )


def test_the_line_of_a_distributed_run_names_silent_workers() -> None:
    p = Progress(**{**RUNNING.__dict__, "workers": 3, "silent": ("worker 2 (host b)",)})
    assert format_progress(p).endswith("| workers 2/3 | silent: worker 2 (host b)")
    done = Progress(**{**p.__dict__, "elapsed": 301.0, "finals": 2})
    assert format_progress(done).startswith("load test 5:00 / 5:00 done | ")
    assert "| final reports 2/3 | silent: worker 2 (host b)" in format_progress(done)


@pytest.mark.parametrize(
    ("elapsed", "line"),
    [
        (None, "load test: starting (users connect, then the schedule begins)"),
        (-0.6, "load test: schedule starts in 0.6 s"),
    ],
)
def test_the_line_before_the_schedule(elapsed: float | None, line: str) -> None:
    assert format_progress(Progress(elapsed, 60.0, 0, 0, 0, None, None)) == line


def test_no_requests_yet_is_not_a_division_by_zero() -> None:
    line = format_progress(Progress(0.5, 60.0, 0, 0, 0, None, 10.0))
    assert "| - req/s of 10.0 | errors 0 | late 0" in line


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (59.99, "0:59"), (3725, "1:02:05")])
def test_clock(seconds: float, text: str) -> None:
    assert clock(seconds) == text


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _print_for(
    tty: bool, seconds: float, monkeypatch: pytest.MonkeyPatch, columns: int = 200
) -> str:
    size = os.terminal_size((columns, 40))
    monkeypatch.setattr("edgesla.loadtests.progress.shutil.get_terminal_size", lambda: size)
    monkeypatch.setattr("edgesla.loadtests.progress.TTY_INTERVAL_SECONDS", 0.01)
    monkeypatch.setattr("edgesla.loadtests.progress.LOG_INTERVAL_SECONDS", 0.01)
    stream = _Stream(tty)
    printer = ProgressPrinter(lambda: RUNNING, stream)
    printer.start()
    gevent.sleep(seconds)
    printer.close("load test 5:00 done")
    return stream.getvalue()


def test_a_terminal_gets_one_line_rewritten_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _print_for(True, 0.05, monkeypatch)
    assert out.count("\n") == 1  # only after the last line
    assert out.count("\r") >= 2
    assert out.endswith("\rload test 5:00 done" + " " * (len(format_progress(RUNNING)) - 19) + "\n")


def test_a_narrow_terminal_gets_the_line_cut_not_wrapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = _print_for(True, 0.03, monkeypatch, columns=40)
    assert all(len(part) <= 39 for part in out.strip("\n").split("\r"))


def test_a_pipe_gets_plain_lines_never_carriage_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _print_for(False, 0.05, monkeypatch)
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) >= 2
    assert set(lines[:-1]) == {format_progress(RUNNING)}
    assert lines[-1] == "load test 5:00 done"
