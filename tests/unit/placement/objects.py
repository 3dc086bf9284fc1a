"""Builders for the placement tests: correct pod templates per tier, mutations that break one rule each, and
the Kubernetes and KEDA objects around them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from scaler.placement import (
    Finding,
    ObjectRef,
)

OWNER = ObjectRef(kind="Deployment", namespace="shop", name="orders-consumer", scaled_object="orders")
Mutation = Callable[[dict[str, Any]], None]


def container(name: str = "consumer", cpu: str = "1", memory: str = "2Gi", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"ghcr.io/example/{name}:1.0.0",
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}},
        **extra,
    }


def virtual_template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "orders-consumer"}},
        "spec": {
            "nodeSelector": {"type": "virtual-node"},
            "tolerations": [{"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [container()],
            "volumes": [{"name": "scratch", "emptyDir": {}}],
        },
    }


def managed_template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "orders-consumer"}},
        "spec": {
            "nodeSelector": {"workload-type": "stateful"},
            "tolerations": [{"key": "workload-type", "operator": "Equal", "value": "stateful", "effect": "NoSchedule"}],
            "containers": [container()],
        },
    }


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def spec_set(**fields: Any) -> Mutation:
    def apply(spec: dict[str, Any]) -> None:
        spec.update(copy.deepcopy(fields))

    return apply


def spec_drop(field: str) -> Mutation:
    return lambda spec: spec.pop(field, None)


def first_container(**fields: Any) -> Mutation:
    def apply(spec: dict[str, Any]) -> None:
        spec["containers"][0].update(copy.deepcopy(fields))

    return apply


def limits(**resources: str) -> Mutation:
    def apply(spec: dict[str, Any]) -> None:
        spec["containers"][0]["resources"]["limits"].update(resources)

    return apply


def required_affinity(*terms: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": expressions} for expressions in terms]
            }
        }
    }


def both(*mutations: Mutation) -> Mutation:
    def apply(spec: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(spec)

    return apply


TYPE_VIRTUAL = {"key": "type", "operator": "In", "values": ["virtual-node"]}
STATEFUL = {"key": "workload-type", "operator": "In", "values": ["stateful"]}


def deployment(
    name: str, template: dict[str, Any], namespace: str | None = "shop", kind: str = "Deployment"
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": metadata,
        "spec": {"selector": {"matchLabels": {"app": name}}, "template": template},
    }


def scaled_object(
    name: str,
    target: str,
    tier: str | None,
    *,
    namespace: str | None = "shop",
    trigger_type: str = "external-push",
    kind: str | None = None,
    **metadata: str,
) -> dict[str, Any]:
    trigger_metadata = {
        "scalerAddress": "burst-scaler.keda.svc.cluster.local:6000",
        "source": "oci-queue",
        "queueId": "ocid1.queue.oc1..example",
        **metadata,
    }
    if tier is not None:
        trigger_metadata["tier"] = tier
    ref: dict[str, Any] = {"name": target}
    if kind:
        ref["kind"] = kind
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": meta,
        "spec": {"scaleTargetRef": ref, "triggers": [{"type": trigger_type, "metadata": trigger_metadata}]},
    }


def found(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.rule, f.object, f.scaled_object) for f in findings}


def scaled_job(name: str, template: dict[str, Any], tier: str) -> dict[str, Any]:
    so = scaled_object(name, "", tier)
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledJob",
        "metadata": {"name": name, "namespace": "batch"},
        "spec": {"jobTargetRef": {"backoffLimit": 1, "template": template}, "triggers": so["spec"]["triggers"]},
    }


def nodepool(name: str, *taints: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"taints": list(taints), "nodeClassRef": {"name": "default"}}}},
    }


PREEMPTIBLE = {"key": "oci.oraclecloud.com/oke-is-preemptible", "value": "present", "effect": "NoSchedule"}
