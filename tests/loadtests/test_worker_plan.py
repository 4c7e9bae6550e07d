"""A worker runs the master's plan (edgesla.loadtests.worker_plan): which options it takes
from the master, which stay its own, and how the replaced ones are named."""

from __future__ import annotations

import argparse

import pytest

from edgesla.loadtests import worker_plan
from edgesla.loadtests.timeline import LEAD_SECONDS
from edgesla.loadtests.worker_plan import KeepOwn, differences, plan_options, restore_own


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pop-config", action=KeepOwn)
    parser.add_argument("--traffic", action=KeepOwn)
    parser.add_argument("--schedule-duration")
    parser.add_argument("--rate-scale", type=float, default=1.0)
    return parser


def test_host_local_paths_stay_the_workers_own_after_the_masters_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker_plan, "_own", {})
    options = _parser().parse_args(["--pop-config", "/worker/pop.yaml"])
    # what Locust's "spawn" message does to a worker's options
    vars(options).update(pop_config="/master/pop.yaml", traffic="/master/t.yaml", rate_scale=5.0)
    restore_own(options)
    assert options.pop_config == "/worker/pop.yaml"
    assert options.traffic == "/master/t.yaml"  # the worker gave none: nothing to restore
    assert options.rate_scale == 5.0  # a plan option: the master's


def test_differences_name_each_replaced_option_with_the_flag_a_user_gave() -> None:
    own = plan_options(
        argparse.Namespace(schedule_duration=f"{300 + LEAD_SECONDS:g}s", load_profile="peak")
    )
    masters = plan_options(
        argparse.Namespace(
            schedule_duration=f"{20 + LEAD_SECONDS:g}s",
            load_profile="spike",
            sync_at="2s",
            rate_scale=5.0,
        )
    )
    assert differences(own, masters) == [
        "--duration 5m → 20s",  # without the lead every process adds
        "--profile peak → spike",
        "--rate-scale none → 5.0",
        "--sync-at none → 2s",
    ]
    assert differences(masters, masters) == []
