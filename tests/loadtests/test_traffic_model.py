"""The traffic model: PoP profile -> target arrival rate per operation (pure and fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.loadtests import shapes
from edgesla.loadtests.profile import (
    DAILY_OPERATIONS,
    OPERATIONS,
    PROFILE_KINDS,
    LoadProfile,
    PopProfile,
    default_model,
    load_profile_file,
    parse_profile,
)
from edgesla.loadtests.rates import (
    busy_hour,
    check_run,
    daily_totals,
    expected_counts,
    hourly_shares,
    max_rates,
    mean_rates,
    peak_rates,
    rate_fn,
    rates_at,
)

ROOT = Path(__file__).parent.parent.parent
DATA = ROOT / "tests" / "testdata" / "loadtest"
EXAMPLE = ROOT / "loadtests" / "profiles" / "pop-default.yaml"

#: The worked example of docs/traffic-model.md: 100,000 subscribers at the busy hour.
WORKED_EXAMPLE = {
    "care_lookup": 0.5042,
    "session_start": 3.6667,
    "session_stop": 3.6667,
    "device_change": 0.1184,
    "billing_write": 0.2521,
    "selfcare_http": 2.2153,
    "auth_lookup": 3.85,  # session_start x 1.05 Access-Requests per start
    "acct_interim": 160.0,  # 100,000 x 0.96 online at 22:00 / 600 s
}

INVALID = {
    "invalid-no-version.yaml": "version: expected 1, got None; add 'version: 1' at the top of "
    "the file",
    "invalid-unknown-key.yaml": "  pop.subscriber: unknown key (check its spelling; "
    "see docs/traffic-model.md)",
    "invalid-unknown-profile.yaml": "  load.kind: unknown load profile 'spikey'; "
    "known profiles: peak, diurnal, spike, soak",
    "invalid-zero-subscribers.yaml": "  pop.subscribers: 0 is out of range: a whole number "
    "from 1 to 10,000,000 (PoPs serve 25,000–200,000)",
    "invalid-subscribers-not-a-number.yaml": "  pop.subscribers: Input should be a valid "
    "integer, unable to parse string as an integer, got 'lots'",
    "invalid-negative-rate.yaml": "  pop.residential.session_start: -1 is out of range: "
    "requests per subscriber per day must be above 0",
    "invalid-zero-rate.yaml": "  pop.business.selfcare_http: 0 is out of range: "
    "requests per subscriber per day must be above 0",
    "invalid-share-above-one.yaml": "  pop.business_share: 1.5 is out of range: a share "
    "from 0 to 1, e.g. 0.08 for 8 %",
    "invalid-spike-share-negative.yaml": "  load.spike.share: -0.1 is out of range: a share "
    "from 0 to 1, e.g. 0.3 for 30 % of the online sessions",
    "invalid-interim-zero.yaml": "  pop.radius.interim_interval: 0.0 is out of range: a "
    "duration of at least 60s (RFC 2869: Acct-Interim-Interval MUST NOT be smaller than 60 "
    "seconds), e.g. 10m",
    "invalid-interim-below-rfc.yaml": "  pop.radius.interim_interval: 30.0 is out of range: "
    "a duration of at least 60s (RFC 2869: Acct-Interim-Interval MUST NOT be smaller than 60 "
    "seconds), e.g. 10m",
    "invalid-online-above-one.yaml": "  pop.radius.online: the 21:00 value is 95; a share of "
    "subscribers online is from 0 to 1, e.g. 0.95",
    "invalid-access-requests-below-one.yaml": "  pop.radius.access_requests_per_start: 0.5 "
    "is out of range: Access-Requests per accounting start, from 1 to 10, e.g. 1.05",
    "invalid-retired-lookups-per-reconnect.yaml": "  load.spike.lookups_per_reconnect: no "
    "longer used: each reconnect of a spike is now one authentication (auth_lookup, times "
    "pop.radius.access_requests_per_start) and one accounting start (session_start); remove "
    "the key",
    "invalid-soak-fraction-zero.yaml": "  load.soak.fraction: 0 is out of range: a share of "
    "the busy-hour rates, above 0 and at most 1, e.g. 0.8",
    "invalid-factor-below-one.yaml": "  pop.busy_hour_factor: 0.9 is out of range: busy-hour "
    "rate / daily average, from 1 (flat day) to 24; the public figure is 1.6–1.7",
    "invalid-factor-too-high.yaml": "  pop: busy_hour_factor 3 is too high for this diurnal "
    "curve: its quietest hour would fall below 0 (this curve allows at most 1.91); lower "
    "busy_hour_factor or deepen the curve's trough",
    "invalid-diurnal-length.yaml": "  pop.diurnal: expected 24 hourly values (00:00 to "
    "23:00), got 3; give one share of daily traffic per hour",
    "invalid-diurnal-negative.yaml": "  pop.diurnal: the 11:00 value is -1; hourly shares "
    "must be 0 or more",
    "invalid-diurnal-zero-sum.yaml": "  pop.diurnal: the values sum to 0; give each hour's "
    "share of daily traffic (any positive scale, e.g. percentages)",
    "invalid-diurnal-flat.yaml": "  pop: busy_hour_factor 1.65 needs a busy hour, but the "
    "diurnal curve is flat; give a curve with a peak or set busy_hour_factor: 1",
    "invalid-spike-ramp-too-long.yaml": "  load.spike: ramp 1m must be shorter than window "
    "30s: the storm ramps up, then decays",
    "invalid-spike-bad-duration.yaml": "  load.spike.window: invalid duration '5 minutes': "
    "use a number with a unit, e.g. 250ms, 15s, 5m, 1h30m, 30d",
}


def _model(**overrides: object) -> tuple[PopProfile, LoadProfile]:
    model = default_model(overrides)
    return model.pop, model.load


# --- the numbers -------------------------------------------------------------------------


def test_worked_example_peak_rates() -> None:
    pop = default_model().pop
    assert pop.subscribers == 100_000
    rates = peak_rates(pop)
    assert tuple(rates) == OPERATIONS
    assert {op: round(r, 4) for op, r in rates.items()} == WORKED_EXAMPLE
    assert sum(rates.values()) == pytest.approx(174.2733, abs=1e-4)
    before_radius = sum(rates[op] for op in DAILY_OPERATIONS)
    assert before_radius == pytest.approx(10.4233, abs=1e-4)  # the model without RADIUS
    assert rates["acct_interim"] / before_radius == pytest.approx(15.35, abs=0.01)
    busy_hour_requests = {op: round(r * 3600) for op, r in rates.items()}
    assert busy_hour_requests["acct_interim"] == 576_000
    assert busy_hour_requests["auth_lookup"] == 13_860


def test_worked_example_radius_day() -> None:
    pop = default_model().pop
    daily = daily_totals(pop)
    assert daily["auth_lookup"] == pytest.approx(201_600)
    # 100,000 x sum of the hourly online shares (22.6 session-hours) x 6 updates an hour
    assert sum(pop.radius.online) == pytest.approx(22.56)
    assert daily["acct_interim"] == pytest.approx(13_536_000)
    assert busy_hour(pop) == 22


@pytest.mark.parametrize("interval", ["1m", "5m", "15m", "1h"])
def test_interim_rate_is_online_sessions_over_the_interval(interval: str) -> None:
    pop = default_model({"pop.radius.interim_interval": interval}).pop
    seconds = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600}[interval]
    assert peak_rates(pop)["acct_interim"] == pytest.approx(96_000 / seconds)


def test_peak_rate_is_mix_weighted_daily_times_factor_over_a_day() -> None:
    pop = default_model(
        {"pop.subscribers": 40_000, "pop.business_share": 0.25, "pop.busy_hour_factor": 1.7}
    ).pop
    for op in DAILY_OPERATIONS:
        per_sub = 0.75 * getattr(pop.residential, op) + 0.25 * getattr(pop.business, op)
        assert daily_totals(pop)[op] == pytest.approx(40_000 * per_sub)
        assert peak_rates(pop)[op] == pytest.approx(40_000 * per_sub * 1.7 / 86_400)


def test_stretched_curve_keeps_the_day_and_hits_the_factor() -> None:
    for factor in (1.0, 1.3, 1.65, 1.9):
        pop = default_model({"pop.busy_hour_factor": factor}).pop
        shares = hourly_shares(pop)
        assert sum(shares) == pytest.approx(1.0)
        assert max(shares) * 24 == pytest.approx(factor)
        if factor > 1:
            assert shares.index(max(shares)) == 22  # the busy hour stays 22:00-23:00


def test_default_curve_has_the_public_shape() -> None:
    shares = hourly_shares(default_model().pop)
    peak = max(shares)
    assert shares.index(peak) in (21, 22)  # residential peak 21:00-23:00
    assert all(shares[h] > 0.6 * peak for h in (0, 1, 2))  # > 60 % of peak until 03:00
    assert shares[12] > shares[11]  # business bump 12:00-14:00
    assert shares[13] > shares[14]
    assert peak * 24 == pytest.approx(1.65)  # already at the busy-hour factor as written


def test_peak_profile_is_constant() -> None:
    pop, load = _model()
    assert rates_at(pop, load, 0, 300) == rates_at(pop, load, 299.5, 300) == peak_rates(pop)
    counts = expected_counts(pop, load, 300)
    assert counts == pytest.approx({op: r * 300 for op, r in peak_rates(pop).items()})
    assert mean_rates(pop, load, 300) == pytest.approx(peak_rates(pop))


def test_soak_is_a_fraction_of_peak() -> None:
    pop, load = _model(**{"load.kind": "soak", "load.soak.fraction": 0.6})
    expected = {op: r * 0.6 for op, r in peak_rates(pop).items()}
    assert rates_at(pop, load, 1234, 4 * 3600) == pytest.approx(expected)
    assert mean_rates(pop, load, 4 * 3600) == pytest.approx(expected)
    assert default_model({"load.kind": "soak"}).load.soak.fraction == 0.8


@pytest.mark.parametrize("start_hour", [0, 7, 18])
@pytest.mark.parametrize("duration", [600.0, 3600.0, 86_400.0])
def test_diurnal_compressed_day_issues_the_scaled_daily_total(
    start_hour: int, duration: float
) -> None:
    pop, load = _model(**{"load.kind": "diurnal", "load.diurnal.start_hour": start_hour})
    daily = daily_totals(pop)
    counts = expected_counts(pop, load, duration)
    assert counts == pytest.approx({op: n * duration / 86_400 for op, n in daily.items()})
    # and it is the integral of rates_at (midpoint rule; exact for the hourly steps)
    steps = 24 * 60
    dt = duration / steps
    numeric = dict.fromkeys(OPERATIONS, 0.0)
    for i in range(steps):
        for op, rate in rates_at(pop, load, (i + 0.5) * dt, duration).items():
            numeric[op] += rate * dt
    assert numeric == pytest.approx(counts)


def test_diurnal_plays_each_hour_at_its_real_rate() -> None:
    pop, load = _model(**{"load.kind": "diurnal"})
    shares = hourly_shares(pop)
    duration = 2400.0  # 100 s per compressed hour
    for hour in (3, 12, 22):
        rates = rates_at(pop, load, hour * 100 + 50, duration)
        for op in DAILY_OPERATIONS:
            assert rates[op] == pytest.approx(daily_totals(pop)[op] * shares[hour] / 3600)
        assert rates["auth_lookup"] == pytest.approx(rates["session_start"] * 1.05)
        # the interim updates follow the sessions online, not the usage curve
        assert rates["acct_interim"] == pytest.approx(100_000 * pop.radius.online[hour] / 600)
    busy = rates_at(pop, load, 22 * 100 + 50, duration)
    assert busy == pytest.approx(peak_rates(pop))  # the busy hour is the peak profile
    halfway = expected_counts(pop, load, duration, until=1200)
    assert halfway["care_lookup"] == pytest.approx(
        daily_totals(pop)["care_lookup"] * sum(shares[:12]) * duration / 86_400
    )


def test_spike_is_every_online_session_authenticating_and_starting_again() -> None:
    pop, load = _model(**{"load.kind": "spike"})
    spike = load.spike
    assert (spike.share, spike.window, spike.ramp, spike.at) == (1.0, 300, 30, 60)
    duration = 600.0
    peak = peak_rates(pop)
    before = expected_counts(pop, load, duration, until=spike.at)
    after = expected_counts(pop, load, duration, until=spike.at + spike.window)

    def extra(op: str) -> float:
        return after[op] - before[op] - peak[op] * spike.window

    assert extra("session_start") == pytest.approx(96_000)  # the busy hour's online sessions
    assert extra("auth_lookup") == pytest.approx(96_000 * 1.05)
    for op in ("care_lookup", "session_stop", "acct_interim", "selfcare_http"):
        assert extra(op) == pytest.approx(0, abs=1e-6)  # the storm is RADIUS logins only
    total = expected_counts(pop, load, duration)
    assert total["session_stop"] == pytest.approx(peak["session_stop"] * duration)
    assert total["session_start"] == pytest.approx(peak["session_start"] * duration + 96_000)
    # outside the window only the busy-hour base remains
    assert rates_at(pop, load, 59.9, duration) == peak
    assert rates_at(pop, load, 360.1, duration) == peak
    # the storm's top, at the end of the ramp: about 260 x the busy hour's session starts
    top = max_rates(pop, load, duration)
    assert top["session_start"] == pytest.approx(955.0 + 3.667, abs=0.1)
    assert top["auth_lookup"] == pytest.approx(955.0 * 1.05 + 3.85, abs=0.1)


def test_spike_share_is_of_the_online_sessions() -> None:
    pop, load = _model(**{"load.kind": "spike", "load.spike.share": 0.3})
    extra = (
        expected_counts(pop, load, 600)["session_start"] - peak_rates(pop)["session_start"] * 600
    )
    assert extra == pytest.approx(0.3 * 96_000)


def test_spike_ramps_up_then_decays() -> None:
    pop, load = _model(**{"load.kind": "spike"})
    base = peak_rates(pop)["session_start"]

    def extra(t: float) -> float:
        return rates_at(pop, load, t, 600)["session_start"] - base

    assert extra(60) == 0
    assert extra(75) == pytest.approx(extra(90) / 2)  # linear ramp over 30 s
    assert extra(90) == pytest.approx(96_000 / (15 + 90 * (1 - 2.718281828459045**-3)))
    assert extra(90) > extra(150) > extra(300) > extra(359) > 0
    assert extra(359.99) == pytest.approx(extra(90) * 2.718281828459045**-3, rel=1e-3)
    numeric = sum(extra(60 + (i + 0.5) * 0.05) * 0.05 for i in range(6000))
    assert numeric == pytest.approx(96_000, rel=1e-4)


def test_max_rates_bound_every_sampled_rate() -> None:
    for kind in PROFILE_KINDS:
        pop, load = _model(**{"load.kind": kind})
        rates, top = rate_fn(pop, load, 900), max_rates(pop, load, 900)
        for i in range(9001):
            for op, rate in rates(i * 0.1).items():
                assert rate <= top[op] * (1 + 1e-12)
        assert rates(90 if kind == "spike" else 22.5 * 900 / 24) == pytest.approx(top)


def test_reconnect_shape_integrates_to_one() -> None:
    assert shapes.reconnect_cumulative(300, 300, 30) == 1.0
    assert shapes.reconnect_cumulative(30, 300, 30) == pytest.approx(
        15 / (15 + 90 * (1 - 2.718281828459045**-3))
    )


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_profile_names_file_key_and_fix(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_profile_file(DATA / name)
    message = str(info.value)
    assert message.startswith(f"{DATA / name}: ")
    assert message.endswith(INVALID[name])
    assert info.value.exit_code == 2


def test_every_invalid_example_is_covered() -> None:
    assert {p.name for p in DATA.glob("invalid-*.yaml")} == set(INVALID)


@pytest.mark.parametrize("duration", [0.0, -5.0])
def test_duration_must_be_positive(duration: float) -> None:
    pop, load = _model()
    message = f"run duration must be above 0, got {duration:g}s; pass e.g. --duration 5m"
    with pytest.raises(ConfigError) as info:
        rates_at(pop, load, 0, duration)
    assert str(info.value) == message
    with pytest.raises(ConfigError) as info:
        expected_counts(pop, load, duration)
    assert str(info.value) == message


def test_spike_must_fit_in_the_run() -> None:
    model = default_model({"load.kind": "spike"})
    with pytest.raises(ConfigError) as info:
        check_run(model.load, 300)
    assert str(info.value) == (
        "load.spike: the reconnect storm (at 1m, window 5m) ends at 6m, after the 5m run; "
        "run for at least 6m or lower load.spike.at or load.spike.window"
    )
    check_run(model.load, 360)  # exactly fits


def test_time_outside_the_run_is_a_programming_error() -> None:
    pop, load = _model()
    with pytest.raises(ValueError, match=r"t=301 is outside the run \[0, 300\] seconds"):
        rates_at(pop, load, 301, 300)


def test_override_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        default_model({"load.kind": "burst"})
    assert str(info.value) == (
        "defaults with overrides: invalid traffic profile:\n"
        "  load.kind: unknown load profile 'burst'; known profiles: peak, diurnal, spike, soak"
    )
    with pytest.raises(ConfigError, match=r"pop.subscribers: -3 is out of range"):
        load_profile_file(EXAMPLE, {"pop.subscribers": -3})


def test_missing_file_and_bad_top_level() -> None:
    with pytest.raises(ConfigError, match="cannot read the traffic profile: No such file"):
        load_profile_file(DATA / "nope.yaml")
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got list"):
        parse_profile([1, 2], "x.yaml")


# --- files and overrides -----------------------------------------------------------------


def test_example_file_spells_out_exactly_the_defaults() -> None:
    assert load_profile_file(EXAMPLE) == default_model()


def test_overrides_apply_over_defaults_and_over_files() -> None:
    model = load_profile_file(
        EXAMPLE,
        {"pop.subscribers": 250_000, "pop.residential.care_lookup": 0.5, "load.kind": "spike"},
    )
    assert model.pop.subscribers == 250_000
    assert model.pop.residential.care_lookup == 0.5
    assert model.pop.residential.session_start == 2.0  # the rest of the section is kept
    assert model.load.kind == "spike"
    partial = parse_profile({"version": 1, "pop": {"business": {"device_change": 0.4}}})
    assert partial.pop.business.device_change == 0.4
    assert partial.pop.business.selfcare_http == 3.0


def test_profile_kinds_and_frozen_models() -> None:
    assert PROFILE_KINDS == ("peak", "diurnal", "spike", "soak")
    model = default_model()
    with pytest.raises(ValueError, match="frozen"):
        model.pop.subscribers = 5  # type: ignore[misc]
