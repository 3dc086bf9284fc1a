"""The scaler's own objects in deploy/base and deploy/tls: a hardened Deployment probed over gRPC health, the
Services KEDA and tools dial, RBAC limited to the reads the scaler makes, the NetworkPolicy, and the mTLS wiring.
"""

from __future__ import annotations

import re
import subprocess

from tests.deploy.manifests import (
    HEALTH_SERVICES,
    SCALER_ADDRESS,
    SCALER_NAMESPACE,
    all_objects,
    check_cli,
    containers,
    find,
    rendered,
)

# ---------------------------------------------------------------------------------------------------------------------
# The scaler's own Deployment, Services, RBAC and NetworkPolicy


def _serve_env_names() -> set[str]:
    result = subprocess.run([check_cli(), "serve", "--help"], capture_output=True, text=True, timeout=60, check=True)
    return set(re.findall(r"BURST_SCALER_[A-Z_]+", result.stdout.replace("\n", "").replace(" ", "")))


def test_scaler_deployment_is_hardened_and_probed_over_grpc_health() -> None:
    objects = rendered("base")
    deployment = find(objects, "Deployment", "burst-scaler")
    assert deployment["metadata"]["namespace"] == SCALER_NAMESPACE
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"workload-type": "stateful"}
    assert {"key": "workload-type", "operator": "Equal", "value": "stateful", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert pod["affinity"]["podAntiAffinity"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        grpc = container[probe]["grpc"]
        assert grpc["port"] == 6000
        assert grpc["service"] in HEALTH_SERVICES
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["BURST_SCALER_OCI_AUTH"] == "workload_identity"
    assert pod["serviceAccountName"] == "burst-scaler"


def test_every_burst_scaler_env_var_in_deploy_is_a_real_flag() -> None:
    known = _serve_env_names()
    assert "BURST_SCALER_OCI_AUTH" in known
    used = {
        e["name"]
        for _, obj in all_objects()
        if obj["kind"] == "Deployment"
        for c in containers(obj)
        for e in c.get("env", [])
        if e["name"].startswith("BURST_SCALER_")
    }
    assert used
    assert used <= known, f"unknown to `burst-scaler serve`: {sorted(used - known)}"


def test_services_headless_for_keda_and_clusterip_for_tools() -> None:
    objects = rendered("base")
    headless = find(objects, "Service", "burst-scaler-headless")
    cluster_ip = find(objects, "Service", "burst-scaler")
    assert headless["spec"]["clusterIP"] == "None"
    assert cluster_ip["spec"]["type"] == "ClusterIP"
    for service in (headless, cluster_ip):
        assert {p["port"] for p in service["spec"]["ports"]} == {6000, 8080}
    host = SCALER_ADDRESS.split(":")[0]
    assert host == f"{headless['metadata']['name']}.{headless['metadata']['namespace']}.svc.cluster.local"
    pdb = find(objects, "PodDisruptionBudget", "burst-scaler")
    assert pdb["spec"]["minAvailable"] == 1


def test_rbac_is_exactly_the_reads_the_scaler_makes() -> None:
    objects = rendered("base")
    role = find(objects, "ClusterRole", "burst-scaler")
    grants = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert grants == {
        ("keda.sh", "scaledobjects", "get"),
        ("keda.sh", "scaledobjects", "list"),
        ("apps", "deployments", "get"),
        ("apps", "statefulsets", "get"),
        ("apps", "daemonsets", "get"),
    }
    binding = find(objects, "ClusterRoleBinding", "burst-scaler")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "burst-scaler", "namespace": SCALER_NAMESPACE}]
    account = find(objects, "ServiceAccount", "burst-scaler")
    assert account["metadata"]["namespace"] == SCALER_NAMESPACE


def test_network_policy_admits_only_the_keda_operator_and_prometheus() -> None:
    policy = find(rendered("base"), "NetworkPolicy", "burst-scaler")
    rules = policy["spec"]["ingress"]
    by_port = {rule["ports"][0]["port"]: rule["from"] for rule in rules}
    assert set(by_port) == {6000, 8080}
    (keda,) = by_port[6000]
    assert keda["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "keda"}
    assert keda["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "keda-operator"}


# ---------------------------------------------------------------------------------------------------------------------
# TLS


def test_tls_overlay_wires_server_certificates_and_keda_client_auth() -> None:
    objects = rendered("tls")
    pod = find(objects, "Deployment", "burst-scaler")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "tls")
    assert mount["readOnly"] is True
    for flag in ("BURST_SCALER_TLS_CERT", "BURST_SCALER_TLS_KEY", "BURST_SCALER_TLS_CLIENT_CA"):
        assert env[flag].startswith(mount["mountPath"] + "/")
    volume = next(v for v in pod["volumes"] if v["name"] == "tls")
    assert volume["secret"]["secretName"] == "burst-scaler-tls"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "grpc" not in container[probe], "the kubelet's gRPC probe cannot do (m)TLS"
    auth = find(objects, "TriggerAuthentication", "burst-scaler-mtls")
    assert {ref["parameter"] for ref in auth["spec"]["secretTargetRef"]} == {"caCert", "tlsClientCert", "tlsClientKey"}
    trigger = find(objects, "ScaledObject", "queue-consumer")["spec"]["triggers"][0]
    assert trigger["authenticationRef"]["name"] == "burst-scaler-mtls"
    assert auth["metadata"]["namespace"] == find(objects, "ScaledObject", "queue-consumer")["metadata"]["namespace"]
