"""deploy/kubernetes: every manifest is valid for Kubernetes 1.31, and consistent with edgesla.

Built-in kinds are validated by kubernetes-validate (the API server's OpenAPI schemas, strict:
unknown fields are errors). ServiceMonitor is a prometheus-operator CRD, which
kubernetes-validate has no schema for: it is validated against ``SERVICE_MONITOR_SCHEMA``
below, a JSON schema written here from the prometheus-operator API reference
(https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.ServiceMonitor)
for the fields these manifests use, closed (additionalProperties: false) so a typo fails.
No cluster and no container runtime exist here: nothing is applied, the image is not built.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from edgesla import conventions as conv
from edgesla.cli.loadtest import loadtest
from edgesla.config import parse_config
from edgesla.durations import parse_duration
from edgesla.loadtests.profile import OPERATIONS, parse_profile
from edgesla.report.gate import load_gate

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.31"
#: Secrets the manifests reference and docs/deploy.md tells the operator to create.
SECRETS = {"edgesla-db-credentials", "edgesla-db-ca", "edgesla-exporter-tls"}

_DURATION = (
    r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
)
_NAME_KEY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key"],
    "properties": {
        "name": {"type": "string"},
        "key": {"type": "string"},
        "optional": {"type": "boolean"},
    },
}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "labels": _LABELS},
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector"],
            "properties": {
                "jobLabel": {"type": "string"},
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"matchLabels": _LABELS},
                },
                "namespaceSelector": {"type": "object"},
                "endpoints": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                            "interval": {"type": "string", "pattern": _DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": _DURATION},
                            "honorLabels": {"type": "boolean"},
                            "tlsConfig": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "serverName": {"type": "string"},
                                    "insecureSkipVerify": {"type": "boolean"},
                                    "ca": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {"secret": _NAME_KEY, "configMap": _NAME_KEY},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return docs


DOCS = _documents()


def _by(kind: str, name: str) -> dict[str, Any]:
    return next(d for _, d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name)


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "edgesla"


@pytest.mark.parametrize(
    ("source", "doc"),
    [d for d in DOCS if d[1]["kind"] != "ServiceMonitor"],
    ids=lambda v: v if isinstance(v, str) else v["kind"],
)
def test_builtin_kinds_validate_strictly(source: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_service_monitors_validate_against_the_operator_schema() -> None:
    monitors = [d for _, d in DOCS if d["kind"] == "ServiceMonitor"]
    assert {m["metadata"]["name"] for m in monitors} == {"edgesla-exporter", "edgesla-loadtest"}
    for monitor in monitors:
        jsonschema.validate(monitor, SERVICE_MONITOR_SCHEMA)
        for endpoint in monitor["spec"]["endpoints"]:
            interval, timeout = endpoint["interval"], endpoint["scrapeTimeout"]
            assert parse_duration(timeout) < parse_duration(interval)
    with pytest.raises(jsonschema.ValidationError):  # the schema is closed: typos fail
        jsonschema.validate(
            {**monitors[0], "spec": {**monitors[0]["spec"], "endpoint": []}}, SERVICE_MONITOR_SCHEMA
        )


def test_service_monitors_select_services_and_name_the_conventional_jobs() -> None:
    jobs = {"edgesla-exporter": conv.JOB_EXPORTER, "edgesla-locust-master": conv.JOB_LOADTEST}
    for service_name, job in jobs.items():
        service = _by("Service", service_name)
        monitor = next(
            d
            for _, d in DOCS
            if d["kind"] == "ServiceMonitor"
            and all(
                service["metadata"]["labels"].get(k) == v
                for k, v in d["spec"]["selector"]["matchLabels"].items()
            )
        )
        assert service["metadata"]["labels"][monitor["spec"]["jobLabel"]] == job
        ports = {p["name"] for p in service["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports


def _pod_specs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for _, d in DOCS
        if d["kind"] in ("Deployment", "Job")
    ]


@pytest.mark.parametrize(
    ("name", "pod"), _pod_specs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_pods_run_non_root_read_only_with_limits(name: str, pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert set(container["resources"]) == {"requests", "limits"}
        assert container["image"] == "edgesla"  # the kustomization's images: entry sets it


def test_secrets_are_referenced_never_included() -> None:
    assert not [d for _, d in DOCS if d["kind"] == "Secret"]
    text = "\n".join(p.read_text() for p in MANIFESTS.glob("*.yaml"))
    referenced = set(re.findall(r"secretName: (\S+)", text))
    referenced |= set(re.findall(r"secretKeyRef:\s+name: (\S+)", text))
    referenced |= {
        d["spec"]["endpoints"][0]["tlsConfig"]["ca"]["secret"]["name"]
        for _, d in DOCS
        if d["kind"] == "ServiceMonitor" and "tlsConfig" in d["spec"]["endpoints"][0]
    }
    assert referenced == SECRETS
    assert not re.search(r"(?i)password:\s*\S", text)  # no literal password anywhere


def test_exporter_probes_use_the_exporters_health_endpoints() -> None:
    (container,) = _by("Deployment", "edgesla-exporter")["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    app = (ROOT / "exporters" / "app.py").read_text()
    assert 'path == "/-/healthy"' in app
    assert 'path == "/-/ready"' in app


def test_the_config_maps_hold_configs_edgesla_accepts() -> None:
    pop = parse_config(
        yaml.safe_load(_by("ConfigMap", "edgesla-pop-config")["data"]["pop.yaml"]),
        "edgesla-pop-config",
    )
    assert pop.exporter.listen.endswith(":9830")
    profile = _by("ConfigMap", "edgesla-loadtest-profile")["data"]["traffic.yaml"]
    parse_profile(yaml.safe_load(profile), "edgesla-loadtest-profile")
    web = yaml.safe_load(_by("ConfigMap", "edgesla-exporter-web")["data"]["web-config.yml"])
    assert web["tls_server_config"]["cert_file"].startswith("/etc/edgesla/tls/")


def _loadtest_args(kind: str, name: str, values: dict[str, str]) -> dict[str, Any]:
    """The container's ``edgesla loadtest`` options as edgesla's own parser reads them
    (click: an unknown option or a bad value raises); files mapped to this checkout's."""
    (container,) = _by(kind, name)["spec"]["template"]["spec"]["containers"]
    assert "command" not in container  # the image's entrypoint: edgesla
    args = [re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], a) for a in container["args"]]
    assert args[0] == "loadtest"
    context = loadtest.make_context("loadtest", args[1:])
    return dict(context.params)


def test_master_and_workers_run_one_plan_that_edgesla_accepts(tmp_path: Path) -> None:
    run = _by("ConfigMap", "edgesla-loadtest-run")["data"]
    assert _by("Deployment", "edgesla-locust-worker")["spec"]["replicas"] == int(run["WORKERS"])
    service = _by("Service", "edgesla-locust-master")
    assert {p["port"] for p in service["spec"]["ports"]} == {5557, 9831}
    values = {**run, "POD_NAME": "edgesla-locust-master-abc12"}
    master = _loadtest_args("Job", "edgesla-locust-master", values)
    worker = _loadtest_args("Deployment", "edgesla-locust-worker", values)
    assert (master["role"], worker["role"]) == ("master", "worker")
    assert master["expect_workers"] == int(run["WORKERS"])
    assert worker["master_host"] == service["metadata"]["name"]
    assert worker["master_port"] == master["master_port"] == 5557
    plan = ("config_path", "profile", "duration", "traffic", "subscribers", "arrivals",
            "rate_scale", "operations", "max_user_rate")  # fmt: skip
    assert {k: master[k] for k in plan} == {k: worker[k] for k in plan}
    assert parse_duration(master["duration"]) > 0
    job = _by("Job", "edgesla-locust-master")["spec"]
    assert job["backoffLimit"] == 0
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    gate = _by("ConfigMap", "edgesla-loadtest-profile")["data"]["slo.yaml"]
    assert master["slo"] == Path("/etc/edgesla/loadtest/slo.yaml")
    assert gate == (ROOT / "loadtests" / "slo-default.yaml").read_text(encoding="utf-8")
    (tmp_path / "slo.yaml").write_text(gate, encoding="utf-8")
    assert not load_gate(tmp_path / "slo.yaml", OPERATIONS, OPERATIONS).not_run
