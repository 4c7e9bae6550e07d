"""`edgesla scrape-config`: the files it writes, its errors, and `promtool check config`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from edgesla.deploy import ScrapeSettings, render_scrape_config
from tests.helpers import edgesla

FLEET = """\
version: 1
pops:
  - {name: pop-fra-03, region: eu-central, exporter: "10.20.0.7:9830", labels: {tier: gold}}
  - {name: pop-ber-01, region: eu-central, exporter: "pop-ber-01.edge.example.net:9830"}
  - {name: pop-nyc-02, region: us-east, exporter: "[2001:db8::7]:9830"}
"""


def _fleet(tmp_path: Path, text: str = FLEET) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return path


def _snippet(out: Path) -> dict[str, object]:
    text = (out / "scrape-config.yml").read_text()
    assert text.startswith("# Written by `edgesla scrape-config`")
    assert "DO NOT EDIT" in text
    return dict(yaml.safe_load(text))


def test_one_target_file_per_region_with_pop_region_and_extra_labels(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = edgesla("scrape-config", "--fleet", str(_fleet(tmp_path)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "3 PoP(s) in 2 region(s)" in result.stdout
    assert sorted(p.name for p in (out / "targets").iterdir()) == [
        "eu-central.json",
        "us-east.json",
    ]
    eu = json.loads((out / "targets" / "eu-central.json").read_text())
    assert eu == [
        {
            "targets": ["pop-ber-01.edge.example.net:9830"],
            "labels": {"pop": "pop-ber-01", "region": "eu-central"},
        },
        {
            "targets": ["10.20.0.7:9830"],
            "labels": {"pop": "pop-fra-03", "region": "eu-central", "tier": "gold"},
        },
    ]
    us = json.loads((out / "targets" / "us-east.json").read_text())
    assert us == [
        {"targets": ["[2001:db8::7]:9830"], "labels": {"pop": "pop-nyc-02", "region": "us-east"}}
    ]
    (job,) = _snippet(out)["scrape_configs"]  # type: ignore[misc]
    assert job["job_name"] == "edgesla-exporter"
    assert (job["scrape_interval"], job["scrape_timeout"]) == ("15s", "10s")
    assert job["file_sd_configs"] == [
        {"files": [f"{(out / 'targets').absolute()}/*.json"], "refresh_interval": "1m"}
    ]
    assert not list(out.rglob(".*.tmp"))  # no temporary file left behind


def test_https_basic_auth_and_a_region_that_left_the_fleet(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        edgesla("scrape-config", "--fleet", str(_fleet(tmp_path)), "--out", str(out)).returncode
        == 0
    )
    one_region = "version: 1\npops:\n  - {name: pop-a, region: eu-central, exporter: 'a:9830'}\n"
    result = edgesla(
        "scrape-config",
        "--fleet",
        str(_fleet(tmp_path, one_region)),
        "--out",
        str(out),
        "--scheme",
        "https",
        "--tls-ca",
        "/etc/prometheus/edge-ca.pem",
        "--basic-auth-user",
        "prometheus",
        "--basic-auth-password-file",
        "/etc/prometheus/pw",
        "--scrape-interval",
        "30s",
        "--scrape-timeout",
        "20s",
        "--targets-path",
        "/sd/edgesla",
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (out / "targets").iterdir()] == ["eu-central.json"]
    (job,) = _snippet(out)["scrape_configs"]  # type: ignore[misc]
    assert job["scheme"] == "https"
    assert job["tls_config"] == {"ca_file": "/etc/prometheus/edge-ca.pem"}
    assert job["basic_auth"] == {"username": "prometheus", "password_file": "/etc/prometheus/pw"}
    assert job["file_sd_configs"][0]["files"] == ["/sd/edgesla/*.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--scrape-interval", "10s", "--scrape-timeout", "10s"],
            "--scrape-timeout 10s must be below --scrape-interval 10s",
        ),
        (["--scrape-interval", "fast"], "--scrape-interval: invalid duration 'fast'"),
        (["--tls-ca", "/ca.pem"], "--tls-ca is only used with --scheme https"),
        (
            ["--basic-auth-user", "p"],
            "--basic-auth-user and --basic-auth-password-file go together",
        ),
    ],
)
def test_bad_options_exit_2_and_say_what_to_fix(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    result = edgesla("scrape-config", "--fleet", str(_fleet(tmp_path)), "--out", str(out), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not out.exists()  # nothing written


def test_bad_fleet_and_unwritable_out_exit_2(tmp_path: Path) -> None:
    bad = _fleet(tmp_path, "version: 1\npops:\n  - {name: Pop_A, region: eu, exporter: 'a:1'}\n")
    result = edgesla("scrape-config", "--fleet", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert f"{bad}: invalid fleet inventory" in result.stderr
    assert "pops[0].name" in result.stderr or "pops" in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = edgesla(
        "scrape-config", "--fleet", str(_fleet(tmp_path)), "--out", str(blocker / "sub")
    )
    assert result.returncode == 2
    assert f"--out {blocker / 'sub'}: cannot create the directory" in result.stderr


def test_render_is_pure_and_deterministic() -> None:
    settings = ScrapeSettings(scrape_interval=15, scrape_timeout=10)
    assert render_scrape_config(settings, "/t") == render_scrape_config(settings, "/t/")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
@pytest.mark.parametrize("https", [False, True])
def test_promtool_accepts_the_config_and_the_target_files(tmp_path: Path, https: bool) -> None:
    out = tmp_path / "out"
    extra = (
        [
            "--scheme",
            "https",
            "--tls-ca",
            str(tmp_path / "ca.pem"),
            "--basic-auth-user",
            "prometheus",
            "--basic-auth-password-file",
            str(tmp_path / "pw"),
        ]
        if https
        else []
    )
    (tmp_path / "ca.pem").write_text("")  # promtool checks that referenced files exist
    (tmp_path / "pw").write_text("secret\n")
    assert (
        edgesla(
            "scrape-config", "--fleet", str(_fleet(tmp_path)), "--out", str(out), *extra
        ).returncode
        == 0
    )
    prometheus_yml = tmp_path / "prometheus.yml"
    prometheus_yml.write_text(
        yaml.safe_dump({"global": {"scrape_interval": "15s"}} | _snippet(out))
    )
    check = subprocess.run(
        ["promtool", "check", "config", str(prometheus_yml)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout + check.stderr
