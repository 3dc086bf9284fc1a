"""deploy/helm/oke-burst-scaler as helm renders it: lint, the values schema, every object of the default and the
full render valid for Kubernetes (strict OpenAPI) and the official CRDs, references that hold under any release
name, the placement lint on the example consumers, and NOTES.txt telling a valid trigger.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

from scaler.metadata import parse_metadata
from tests.deploy.crd_schemas import crd_problems, crd_schemas, crds_dir
from tests.deploy.manifests import (
    CRD_GROUPS,
    K8S_VERSIONS,
    Obj,
    api_group,
    burst_scaler_check,
    check_cli,
    describe,
    find,
    write,
)
from tests.deploy_tools.tools import CHART, FULL_VALUES, NAMESPACE, RELEASE, helm, kinds, monitoring_crds, template

MONITORING_GROUP = "monitoring.coreos.com"


# ---------------------------------------------------------------------------------------------------------------------
# helm lint and the values schema


@pytest.mark.parametrize("values", [None, FULL_VALUES], ids=["default", "full"])
def test_helm_lint_strict_passes(values: Path | None) -> None:
    args = ["lint", "--strict", str(CHART), "--namespace", NAMESPACE]
    if values is not None:
        args += ["--values", str(values)]
    result = helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (("replicaCunt=3",), "additional properties 'replicaCunt' not allowed"),
        (("oci.auth=api_key",), "at '/oci/auth': value must be one of"),
        (("scaler.maxStaleness=-5",), "at '/scaler/maxStaleness'"),
        (("examples.queueVirtual.enabled=true",), "examples.queueVirtual.queueId is required"),
        (("serviceMonitor.interval=15 seconds",), "at '/serviceMonitor/interval'"),
    ],
)
def test_bad_values_fail_with_a_message_naming_them(sets: tuple[str, ...], expected: str) -> None:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    for item in sets:
        args += ["--set", item]
    result = helm(*args)
    assert result.returncode != 0, f"helm accepted {sets}"
    assert expected in result.stderr, result.stderr


# ---------------------------------------------------------------------------------------------------------------------
# What the renders contain, and their validity


def test_default_render_is_the_scaler_alone() -> None:
    found = kinds(template())
    assert found == {
        "ServiceAccount": ["burst-scaler"],
        "ConfigMap": ["burst-scaler-oci"],
        "ClusterRole": ["burst-scaler"],
        "ClusterRoleBinding": ["burst-scaler"],
        "Service": ["burst-scaler-headless", "burst-scaler"],
        "Deployment": ["burst-scaler"],
        "PodDisruptionBudget": ["burst-scaler"],
        "NetworkPolicy": ["burst-scaler"],
    }


def test_full_render_adds_tls_monitoring_and_every_example() -> None:
    found = kinds(template(FULL_VALUES))
    assert found["ServiceMonitor"] == ["burst-scaler"]
    assert found["TriggerAuthentication"] == ["burst-scaler-mtls"]
    assert sorted(found["ScaledObject"]) == ["orders-managed", "orders-virtual", "queue-consumer", "stream-consumer"]
    assert sorted(found["Deployment"]) == [
        "burst-scaler",
        "orders-managed",
        "orders-virtual",
        "queue-consumer",
        "stream-consumer",
    ]
    assert "Namespace" in found


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("values", [None, FULL_VALUES], ids=["default", "full"])
def test_core_objects_match_the_kubernetes_openapi_schema(version: str, values: Path | None) -> None:
    problems = []
    checked = 0
    for obj in template(values):
        if api_group(obj) in CRD_GROUPS or api_group(obj) == MONITORING_GROUP:
            continue
        checked += 1
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            problems.append(f"{describe(obj)} at {where or '.'}: {exc.message}")
    assert checked >= 9
    assert not problems, "\n".join(problems)


def test_custom_resources_match_the_official_crds() -> None:
    schemas = crd_schemas(crds_dir())
    custom = [o for o in template(FULL_VALUES) if api_group(o) in CRD_GROUPS]
    assert {o["kind"] for o in custom} == {"ScaledObject", "TriggerAuthentication"}
    problems = [p for obj in custom for p in crd_problems(obj, schemas)]
    assert not problems, "\n".join(problems)


def test_the_crd_check_sees_a_broken_rendered_trigger() -> None:
    """The check above would catch a misspelt field in a rendered ScaledObject (not a vacuous pass)."""
    schemas = crd_schemas(crds_dir())
    scaled_object = find(template(FULL_VALUES), "ScaledObject", "queue-consumer")
    scaled_object["spec"]["triggers"][0]["authenticationRefs"] = scaled_object["spec"]["triggers"][0].pop(
        "authenticationRef"
    )
    assert any("authenticationRefs" in p for p in crd_problems(scaled_object, schemas))


def test_service_monitor_matches_the_prometheus_operator_crd() -> None:
    schemas = crd_schemas(monitoring_crds())
    monitor = find(template(FULL_VALUES), "ServiceMonitor", "burst-scaler")
    assert crd_problems(monitor, schemas) == []
    monitor["spec"]["endpoints"][0]["honourLabels"] = True
    assert any("honourLabels" in p for p in crd_problems(monitor, schemas)), "the check would miss a misspelt field"


def test_service_monitor_scrapes_the_cluster_ip_service_only() -> None:
    objects = template(FULL_VALUES)
    monitor = find(objects, "ServiceMonitor", "burst-scaler")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    selector = monitor["spec"]["selector"]["matchLabels"]
    matched = [
        s["metadata"]["name"]
        for s in objects
        if s["kind"] == "Service" and selector.items() <= s["metadata"]["labels"].items()
    ]
    assert matched == ["burst-scaler"], "one Service only, or every pod is scraped twice"
    (endpoint,) = monitor["spec"]["endpoints"]
    service = find(objects, "Service", "burst-scaler")
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["honorLabels"] is True, "the dashboard and alerts read the scaler's own namespace label"
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [NAMESPACE]


# ---------------------------------------------------------------------------------------------------------------------
# TLS, references and names


def _serve_env_names() -> set[str]:
    result = subprocess.run([check_cli(), "serve", "--help"], capture_output=True, text=True, timeout=60, check=True)
    return set(re.findall(r"BURST_SCALER_[A-Z_]+", result.stdout.replace("\n", "").replace(" ", "")))


def test_tls_wires_the_secret_the_flags_and_tcp_probes() -> None:
    objects = template(FULL_VALUES)
    pod = find(objects, "Deployment", "burst-scaler")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    assert {name for name in env if name.startswith("BURST_SCALER_")} <= _serve_env_names()
    mount = next(m for m in container["volumeMounts"] if m["name"] == "tls")
    assert mount["readOnly"] is True
    for flag in ("BURST_SCALER_TLS_CERT", "BURST_SCALER_TLS_KEY", "BURST_SCALER_TLS_CLIENT_CA"):
        assert env[flag].startswith(mount["mountPath"] + "/")
    volume = next(v for v in pod["volumes"] if v["name"] == "tls")
    assert volume["secret"]["secretName"] == "burst-scaler-server-tls"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["tcpSocket"] == {"port": "grpc"}, "the kubelet's gRPC probe cannot do (m)TLS"
    assert env["BURST_SCALER_MAX_STALENESS"] == "90"
    auth = find(objects, "TriggerAuthentication", "burst-scaler-mtls")
    assert {ref["name"] for ref in auth["spec"]["secretTargetRef"]} == {"burst-scaler-client-tls"}
    for obj in objects:
        if obj["kind"] == "ScaledObject":
            assert obj["spec"]["triggers"][0]["authenticationRef"]["name"] == "burst-scaler-mtls", describe(obj)
            assert obj["metadata"]["namespace"] == auth["metadata"]["namespace"]


def test_tls_without_client_auth_sets_no_client_ca() -> None:
    objects = template(sets=("tls.enabled=true", "tls.clientAuth=false"))
    (container,) = find(objects, "Deployment", "burst-scaler")["spec"]["template"]["spec"]["containers"]
    names = {e["name"] for e in container["env"]}
    assert {"BURST_SCALER_TLS_CERT", "BURST_SCALER_TLS_KEY"} <= names
    assert "BURST_SCALER_TLS_CLIENT_CA" not in names


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


@pytest.mark.parametrize("release", [RELEASE, "prod"])
def test_every_reference_holds_under_any_release_name(release: str) -> None:
    objects = template(FULL_VALUES, release=release, namespace="platform")
    prefix = "burst-scaler" if release == RELEASE else f"{release}-burst-scaler"
    deployment = find(objects, "Deployment", prefix)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    pod = deployment["spec"]["template"]["spec"]
    assert _matches(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        for obj in (o for o in objects if o["kind"] == kind):
            spec = obj["spec"]
            selector = spec.get("selector", {}) if kind == "Service" else spec.get("selector", spec.get("podSelector"))
            selector = selector.get("matchLabels", selector)
            assert _matches(selector, pod_labels), f"{describe(obj)} does not select the scaler's pods"
    account = find(objects, "ServiceAccount", pod["serviceAccountName"])
    binding = find(objects, "ClusterRoleBinding", prefix)
    subject = {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "platform"}
    assert binding["subjects"] == [subject]
    find(objects, "ClusterRole", binding["roleRef"]["name"])
    find(objects, "ConfigMap", pod["containers"][0]["envFrom"][0]["configMapRef"]["name"])
    headless = find(objects, "Service", f"{prefix}-headless")
    for obj in objects:
        if obj["kind"] == "ScaledObject":
            address = obj["spec"]["triggers"][0]["metadata"]["scalerAddress"]
            assert address == f"{headless['metadata']['name']}.platform.svc.cluster.local:6000", describe(obj)


def test_example_triggers_parse_and_consumers_pass_the_placement_lint(tmp_path: Path) -> None:
    objects = template(FULL_VALUES)
    for obj in objects:
        if obj["kind"] == "ScaledObject":
            metadata = obj["spec"]["triggers"][0]["metadata"]
            parsed = parse_metadata(metadata)
            assert parsed.unknown_keys == (), describe(obj)
            assert obj["spec"]["maxReplicaCount"] == parsed.config.max_replicas, describe(obj)
    examples = [o for o in objects if o["metadata"].get("namespace") == "burst-demo" or o["kind"] == "Namespace"]
    result = burst_scaler_check(write(tmp_path, "examples.yaml", examples))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_placement_lint_fails_a_broken_rendered_consumer(tmp_path: Path) -> None:
    objects = template(FULL_VALUES)
    virtual = find(objects, "Deployment", "queue-consumer")
    virtual["spec"]["template"]["spec"]["tolerations"] = []
    examples = [o for o in objects if o["metadata"].get("namespace") == "burst-demo"]
    result = burst_scaler_check(write(tmp_path, "broken.yaml", examples))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "queue-consumer" in result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------------------------------
# NOTES.txt


def _notes(tmp_path: Path, *sets: str) -> str:
    """NOTES.txt as helm renders it. ``helm install --dry-run`` still dials a cluster, and ``helm template`` leaves
    NOTES.txt out, so a copy of the chart renders the same text through helm's engine as a ConfigMap's data."""
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "_notes_body.tpl").write_text('{{- define "test.notes" -}}\n' + notes + "{{- end -}}\n")
    (chart / "templates" / "notes-render.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n"
        '  notes: {{ include "test.notes" . | quote }}\n'
    )
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE, "--show-only", "templates/notes-render.yaml"]
    for item in sets:
        args += ["--set", item]
    result = helm(*args)
    assert result.returncode == 0, result.stderr
    text: str = yaml.safe_load(result.stdout)["data"]["notes"]
    return text


def _trigger_in(notes: str) -> Obj:
    block = notes.split("triggers:", 1)[1].split("\n\n", 1)[0]
    parsed = yaml.safe_load("triggers:" + block)
    (trigger,) = parsed["triggers"]
    assert isinstance(trigger, dict)
    return trigger


def test_notes_tell_a_trigger_the_scaler_accepts(tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    trigger = _trigger_in(notes)
    assert trigger["type"] == "external-push"
    metadata = {k: str(v) for k, v in trigger["metadata"].items()}
    assert metadata["scalerAddress"] == "burst-scaler-headless.keda.svc.cluster.local:6000"
    parsed = parse_metadata({**metadata, "queueId": "ocid1.queue.oc1.iad.example"})
    assert parsed.unknown_keys == ()
    assert "authenticationRef" not in trigger
    assert "ServiceAccount\nburst-scaler" in notes or "ServiceAccount burst-scaler" in notes.replace("\n", " ")


def test_notes_under_tls_ask_for_the_client_certificate(tmp_path: Path) -> None:
    notes = _notes(tmp_path, "tls.enabled=true")
    trigger = _trigger_in(notes)
    assert "authenticationRef" in trigger
    assert "burst-scaler-headless.keda.svc.cluster.local" in notes
    assert "Secret burst-scaler-tls" in notes
