"""The PoP config loader: strict, typed, and clear about what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesla import ConfigError
from edgesla.config import dump_config, interval_of, load_config, parse_config, timeout_of
from edgesla.durations import format_duration, parse_duration
from tests.helpers import edgesla

DATA = Path(__file__).parent.parent / "testdata" / "config"

INVALID = {
    "invalid-unknown-prober.yaml": "  targets[0] (name: pg-a): unknown prober 'postgress_query'; "
    "known probers: etcd, kube_apiserver, mongodb_query, mongodb_replication, "
    "postgres_convergence, postgres_query, postgres_replication",
    "invalid-unknown-key.yaml": "  targets[0] (name: subscribers-lookup).colection: unknown key "
    "(check its spelling; see the config reference in the README)",
    "invalid-timeout-not-below-interval.yaml": "  (top level): target 'etcd': timeout 5s must "
    "be below its interval 1s (from defaults.control_plane.interval), or probes would overlap",
    "invalid-control-plane-timeout-not-below-interval.yaml": "  (top level): target "
    "'apiserver': timeout 0.5s (from defaults.control_plane.timeout) must be below its interval "
    "0.5s (from defaults.control_plane.interval), or probes would overlap",
    "invalid-bad-duration.yaml": "  defaults.interval: invalid duration '15 seconds': use a "
    "number with a unit, e.g. 250ms, 15s, 5m, 1h30m, 30d",
    "invalid-no-version.yaml": "version: expected 1, got None; add 'version: 1' at the top",
    "invalid-password-twice.yaml": "  targets[0] (name: pg-a): set password_file or "
    "password_env, not both",
    "invalid-empty.yaml": "the file is empty; a PoP config is a YAML mapping with version: 1, "
    "pop, region and targets (see README.md#pop-config",
    "invalid-name-with-newline.yaml": "  targets[0] (name: pg-a\\nerror: forged line).colour: "
    "unknown key",
    "invalid-convergence-table-without-schema.yaml": "  targets[0] (name: pg-convergence).tables: "
    "'subscriber' is not schema.table: name each table with its schema, e.g. public.subscriber "
    "(plain identifiers, no quotes)",
    "invalid-convergence-table-twice.yaml": "  targets[0] (name: pg-convergence): table "
    "'public.subscriber' is listed twice; list each table once",
    "invalid-convergence-one-node.yaml": "  targets[0] (name: pg-convergence).nodes: Tuple should "
    "have at least 2 items",
    "invalid-convergence-zero-settle-time.yaml": "  targets[0] (name: pg-convergence).settle_time: "
    "Input should be greater than 0",
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_config_names_file_key_and_fix(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DATA / name)
    message = str(info.value)
    assert message.startswith(f"{DATA / name}: ")
    assert INVALID[name] in message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "name",
    ["invalid-unknown-prober.yaml", "invalid-unknown-key.yaml", "invalid-name-with-newline.yaml"],
)
def test_a_bad_target_is_not_also_reported_as_a_missing_one(name: str) -> None:
    """pydantic counts only valid items against min_length: that echo is dropped."""
    with pytest.raises(ConfigError) as info:
        load_config(DATA / name)
    assert "should have at least 1 item" not in str(info.value)


def test_a_name_cannot_forge_lines_in_the_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DATA / "invalid-name-with-newline.yaml")
    lines = str(info.value).splitlines()
    assert not any(line.startswith("error:") for line in lines)
    assert all(line.startswith("  targets[0] (name: pg-a\\n") for line in lines[1:])


def test_every_invalid_example_is_covered() -> None:
    assert {p.name for p in DATA.glob("invalid-*.yaml")} == set(INVALID)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the PoP config: No such file"):
        load_config(tmp_path / "nope.yaml")


def test_defaults_apply_and_config_is_frozen() -> None:
    config = load_config(DATA / "valid-minimal.yaml")
    assert config.defaults.interval == 15.0
    assert config.defaults.timeout == 5.0
    target = config.targets[0]
    assert target.prober == "mongodb_query"
    assert target.collection == "subscribers"
    with pytest.raises(ValueError, match="frozen"):
        target.name = "other"  # type: ignore[misc]


def test_dump_reads_back_unchanged() -> None:
    config = load_config(DATA / "valid-minimal.yaml")
    import yaml

    assert parse_config(yaml.safe_load(dump_config(config))) == config


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("15s", 15), ("5m", 300), ("1h30m", 5400), ("30d", 2_592_000), ("1.5s", 1.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "15 s", "s", "5m3", "-1s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.25, "250ms"), (15, "15s"), (300, "5m"), (2.5, "2.5s")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_probe_command_escapes_an_unknown_target_name() -> None:
    result = edgesla(
        "probe", "--config", str(DATA / "valid-minimal.yaml"), "--target", "x\nerror: forged"
    )
    assert result.returncode == 2
    assert "no target named x\\nerror: forged; known: subscribers-lookup" in result.stderr
    assert not any(line.startswith("error: forged") for line in result.stderr.splitlines())


@pytest.mark.parametrize("command", ["probe", "exporter"])
def test_commands_refuse_to_start_when_a_credential_cannot_be_read(
    tmp_path: Path, command: str
) -> None:
    """Checked at start-up (exit 2, naming the target and the file); probes read them again
    on every run, so a rotated password is still picked up."""
    secret = tmp_path / "pg-b.password"
    secret.write_text("x\n")
    config = tmp_path / "pop.yaml"
    config.write_text(
        f"""version: 1
pop: lab-pop-01
region: lab
targets:
  - name: pg-a
    prober: postgres_query
    dsn: host=127.0.0.1 port=1
    password_file: {tmp_path / "missing.password"}
  - name: pg-mm
    prober: postgres_replication
    nodes:
      - {{name: pg-a, dsn: host=127.0.0.1 port=1, password_env: EDGESLA_TEST_UNSET_VAR}}
      - {{name: pg-b, dsn: host=127.0.0.1 port=2, password_file: {secret}}}
  - name: kube
    prober: kube_apiserver
    endpoints: [https://127.0.0.1:1]
    token_file: {tmp_path / "token"}
"""
    )
    extra = ["--listen", "127.0.0.1:1"] if command == "exporter" else []
    result = edgesla(command, "--config", str(config), *extra, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{config}: cannot start" in result.stderr
    assert f"target 'pg-a': password_file {tmp_path / 'missing.password'}: No such" in (
        result.stderr
    )
    assert "target 'pg-mm' node pg-a: password_env EDGESLA_TEST_UNSET_VAR is not set" in (
        result.stderr
    )
    assert f"target 'kube': token_file {tmp_path / 'token'}: No such file" in result.stderr
    assert "pg-b" not in result.stderr  # its file is there


def _schedules(defaults: dict[str, object], **etcd: object) -> dict[str, tuple[float, float]]:
    config = parse_config(
        {
            "version": 1,
            "pop": "p",
            "region": "r",
            "defaults": defaults,
            "targets": [
                {"name": "etcd", "prober": "etcd", "endpoints": ["http://127.0.0.1:2379"], **etcd},
                {
                    "name": "api",
                    "prober": "kube_apiserver",
                    "endpoints": ["https://127.0.0.1:6443"],
                },
                {"name": "pg", "prober": "postgres_query", "dsn": "host=127.0.0.1"},
            ],
        }
    )
    return {t.name: (interval_of(config, t), timeout_of(config, t)) for t in config.targets}


def test_control_plane_targets_default_to_one_second() -> None:
    """Five nines allow 25.9 s a month: etcd and the apiserver are probed every second unless
    told otherwise; ``defaults.interval`` is the data plane's."""
    assert _schedules({}) == {"etcd": (1.0, 0.5), "api": (1.0, 0.5), "pg": (15.0, 5.0)}
    assert _schedules({"interval": "30s", "timeout": "10s"})["etcd"] == (1.0, 0.5)
    plane = {"control_plane": {"interval": "2s", "timeout": "1s"}}
    assert _schedules(plane) == {"etcd": (2.0, 1.0), "api": (2.0, 1.0), "pg": (15.0, 5.0)}


def test_a_targets_own_interval_wins_over_its_kinds_default() -> None:
    assert _schedules({}, interval="15s")["etcd"] == (15.0, 0.5)
    assert _schedules({}, interval="15s", timeout="5s")["etcd"] == (15.0, 5.0)
    with pytest.raises(ConfigError, match=r"timeout 2s must be below its interval 1s \(from "):
        _schedules({}, timeout="2s")


def test_control_plane_defaults_read_back_unchanged() -> None:
    import yaml

    config = parse_config(
        {
            "version": 1,
            "pop": "p",
            "region": "r",
            "defaults": {"control_plane": {"interval": "5s"}},
            "targets": [{"name": "etcd", "prober": "etcd", "endpoints": ["http://127.0.0.1:2379"]}],
        }
    )
    text = dump_config(config)
    assert "control_plane:\n    interval: 5s" in text
    assert parse_config(yaml.safe_load(text)) == config


ETCD = {"name": "e", "prober": "etcd", "endpoints": ["http://127.0.0.1:2379"]}


@pytest.mark.parametrize("listen", ["[::1]:9830", ":9830", "exporter.pop.example.net:9830"])
def test_listen_addresses_take_every_host_port_form(listen: str) -> None:
    data = {"version": 1, "pop": "p", "region": "r", "exporter": {"listen": listen},
            "loadtest": {"metrics_listen": listen}, "targets": [ETCD]}  # fmt: skip
    config = parse_config(data)
    assert (config.exporter.listen, config.loadtest.metrics_listen) == (listen, listen)


def test_a_bare_ipv6_listen_address_is_refused_with_the_fix() -> None:
    data = {"version": 1, "pop": "p", "region": "r", "exporter": {"listen": "::1:9830"},
            "targets": [ETCD]}  # fmt: skip
    with pytest.raises(ConfigError, match=r"exporter\.listen.*\[::1\]:9830"):
        parse_config(data)
