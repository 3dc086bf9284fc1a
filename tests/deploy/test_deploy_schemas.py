"""deploy/ as users apply it: every kustomization rendered by `kubectl kustomize`, every object validated.

Core kinds are checked against the Kubernetes OpenAPI schemas (``kubernetes-validate``, strict: unknown fields
fail). Custom resources are checked against the official CRDs with unknown fields made to fail the way the API
server would prune them (tests/deploy/crd_schemas.py); each check is also shown to catch a broken object.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped,unused-ignore]
import pytest

from tests.deploy.crd_schemas import crd_problems, crd_schemas, crds_dir
from tests.deploy.manifests import (
    COMPONENTS,
    CRD_GROUPS,
    DEPLOY,
    K8S_VERSIONS,
    OVERLAYS,
    all_objects,
    api_group,
    describe,
    find,
    kustomization,
    rendered,
)

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
        users = [o for o in OVERLAYS if f"components/{Path(component).name}" in str(kustomization(DEPLOY / o))]
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
            assert meta.get("namespace"), f"deploy/{overlay}: {describe(obj)} has no namespace"


# ---------------------------------------------------------------------------------------------------------------------
# Kubernetes OpenAPI schemas (kubernetes-validate)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_core_objects_match_the_kubernetes_openapi_schema(version: str) -> None:
    problems: list[str] = []
    checked = 0
    for overlay, obj in all_objects():
        if api_group(obj) in CRD_GROUPS:
            continue
        checked += 1
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path)
            problems.append(f"deploy/{overlay}: {describe(obj)} at {where or '.'}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"deploy/{overlay}: {describe(obj)}: {exc.message}")
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


def test_custom_resources_match_the_official_crds() -> None:
    schemas = crd_schemas(crds_dir())
    problems: list[str] = []
    kinds: set[str] = set()
    for overlay, obj in all_objects():
        if api_group(obj) in CRD_GROUPS:
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
    schemas = crd_schemas(crds_dir())
    obj = find(rendered(overlay), kind, name)
    assert crd_problems(obj, schemas) == []
    broken = copy.deepcopy(obj)
    mutate(broken)
    problems = crd_problems(broken, schemas)
    assert any(expected in p for p in problems), problems
