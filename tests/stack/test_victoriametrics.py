"""VictoriaMetrics in the stack (``stack up --with-victoria-metrics``): a missing binary is a
clear error naming its Debian package, with nothing started; asking a running stack without
it for it is refused (the shared stack); without the flag the stack's ports and Prometheus
config are as before. (Running in a stack — listed by ``status`` with its
URL, fed by remote_write, stopped, started, and stopped by ``down`` — on the stack-operations
stack: tests/stack/test_operations.py; the report reading the same verdicts from it:
tests/report/inputs/test_victoriametrics.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edgesla.stack import prometheus, victoriametrics
from edgesla.stack.components import remote_write
from edgesla.stack.layout import Layout, component_names
from tests.helpers import stack_up
from tests.ports import port

BASE_PORT = port(938)  # base+0..14: VictoriaMetrics on port(952)


def test_a_missing_binary_names_its_package_and_starts_nothing(tmp_path: Path) -> None:
    done = stack_up(
        tmp_path,
        BASE_PORT,
        "--with-victoria-metrics",
        env={"EDGESLA_VICTORIA_METRICS": str(tmp_path / "nope")},
    )
    assert done.returncode == 2
    assert "the Debian package victoria-metrics" in done.stderr
    assert "EDGESLA_VICTORIA_METRICS" in done.stderr
    assert not (tmp_path / "stack.json").exists()
    assert not (tmp_path / "data").exists()


def test_without_it_the_port_block_and_prometheus_config_are_unchanged(tmp_path: Path) -> None:
    layout = Layout(tmp_path, 20000)
    assert max(layout.ports_to_bind()) == 20013
    assert layout.ports_to_bind(victoria_metrics=True)[20014] == "victoriametrics"
    assert remote_write(layout, []) is None
    assert "remote_write" not in yaml.safe_load(prometheus.render_config(layout, "p", "r"))
    written = victoriametrics.remote_write_url(layout)
    config = yaml.safe_load(prometheus.render_config(layout, "p", "r", written))
    assert config["remote_write"] == [{"url": "http://127.0.0.1:20014/api/v1/write"}]


def test_it_starts_just_before_prometheus_and_only_when_asked() -> None:
    assert "victoriametrics" not in component_names()
    names = component_names(victoria_metrics=True)
    assert names[names.index("victoriametrics") + 1] == "prometheus"


@pytest.mark.stack
def test_asking_a_running_stack_for_it_is_refused_and_changes_nothing(stack: Layout) -> None:
    before = (stack.state_dir / "stack.json").read_bytes()
    done = stack_up(stack.state_dir, stack.base_port, "--with-victoria-metrics")
    assert done.returncode == 2
    assert "runs without VictoriaMetrics" in done.stderr
    assert "--with-victoria-metrics" in done.stderr
    assert (stack.state_dir / "stack.json").read_bytes() == before
