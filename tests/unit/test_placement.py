"""Placement rules, one table row per rule and tier: a correct pod passes, each breakage reports exactly its rule."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from scaler.placement import (
    RULES,
    Finding,
    ObjectRef,
    Severity,
    burst_scalers,
    lint_objects,
    lint_pod_template,
    lint_workload,
    nodepool_taints,
    parse_quantity,
    rules_markdown,
    tolerates,
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

VIRTUAL_CASES: list[tuple[str, Mutation, set[str]]] = [
    ("correct", lambda spec: None, set()),
    # selector
    ("no selector", spec_drop("nodeSelector"), {"virtual-missing-selector"}),
    ("selector for another type", spec_set(nodeSelector={"type": "standard"}), {"virtual-missing-selector"}),
    (
        "required affinity instead of nodeSelector",
        both(spec_drop("nodeSelector"), spec_set(affinity=required_affinity([TYPE_VIRTUAL]))),
        set(),
    ),
    (
        "one of two affinity terms is loose",
        both(
            spec_drop("nodeSelector"),
            spec_set(affinity=required_affinity([TYPE_VIRTUAL], [{"key": "zone", "operator": "Exists"}])),
        ),
        {"virtual-missing-selector"},
    ),
    (
        "affinity allows other types too",
        both(
            spec_drop("nodeSelector"),
            spec_set(affinity=required_affinity([{"key": "type", "operator": "In", "values": ["virtual-node", "x"]}])),
        ),
        {"virtual-missing-selector"},
    ),
    # toleration
    ("no toleration", spec_drop("tolerations"), {"virtual-missing-toleration"}),
    (
        "toleration for the wrong effect",
        spec_set(tolerations=[{"key": "virtual-kubelet.io/provider", "operator": "Exists", "effect": "NoExecute"}]),
        {"virtual-missing-toleration"},
    ),
    (
        "toleration for another key",
        spec_set(tolerations=[{"key": "workload-type", "operator": "Exists"}]),
        {"virtual-missing-toleration"},
    ),
    (
        "Equal toleration with a value, no effect",
        spec_set(tolerations=[{"key": "virtual-kubelet.io/provider", "value": "oracle"}]),
        set(),
    ),
    ("tolerate-everything toleration", spec_set(tolerations=[{"operator": "Exists"}]), set()),
    # volumes
    (
        "persistentVolumeClaim",
        spec_set(volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "orders-data"}}]),
        {"virtual-pvc"},
    ),
    (
        "ephemeral volumeClaimTemplate",
        spec_set(volumes=[{"name": "data", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]),
        {"virtual-pvc"},
    ),
    ("hostPath", spec_set(volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}]), {"virtual-hostpath"}),
    ("configMap volume", spec_set(volumes=[{"name": "config", "configMap": {"name": "orders"}}]), set()),
    # host and privileges
    ("hostNetwork", spec_set(hostNetwork=True), {"virtual-host-network"}),
    ("hostNetwork false", spec_set(hostNetwork=False), set()),
    ("privileged container", first_container(securityContext={"privileged": True}), {"virtual-privileged"}),
    (
        "SYS_ADMIN capability",
        first_container(securityContext={"capabilities": {"add": ["SYS_ADMIN"]}}),
        {"virtual-privileged"},
    ),
    (
        "CAP_NET_ADMIN spelled with prefix",
        first_container(securityContext={"capabilities": {"add": ["CAP_NET_ADMIN"]}}),
        {"virtual-privileged"},
    ),
    (
        "baseline capability is fine",
        first_container(securityContext={"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}),
        set(),
    ),
    (
        "privileged init container",
        spec_set(initContainers=[container("setup", cpu="100m", memory="128Mi", securityContext={"privileged": True})]),
        {"virtual-privileged"},
    ),
    # GPUs
    ("nvidia GPU limit", limits(**{"nvidia.com/gpu": "1"}), {"virtual-gpu"}),
    ("amd GPU limit", limits(**{"amd.com/gpu": "2"}), {"virtual-gpu"}),
    (
        "GPU request of another vendor",
        lambda spec: spec["containers"][0]["resources"]["requests"].update({"gpu.example.com/gpu": "1"}),
        {"virtual-gpu"},
    ),
    # shape
    ("64 OCPU fits", first_container(resources=container(cpu="64")["resources"]), set()),
    ("65 OCPU does not", first_container(resources=container(cpu="65")["resources"]), {"virtual-shape-limit"}),
    (
        "64.2 OCPU rounds up to 65",
        first_container(resources=container(cpu="64200m")["resources"]),
        {"virtual-shape-limit"},
    ),
    (
        "sidecar pushes the sum over",
        both(
            first_container(resources=container(cpu="60")["resources"]),
            spec_set(initContainers=[container("proxy", cpu="5", restartPolicy="Always")]),
        ),
        {"virtual-shape-limit"},
    ),
    (
        "ordinary init container counts at its peak only",
        both(
            first_container(resources=container(cpu="60")["resources"]),
            spec_set(initContainers=[container("migrate", cpu="8")]),
        ),
        set(),
    ),
    (
        "init container alone too big",
        spec_set(initContainers=[container("migrate", cpu="70")]),
        {"virtual-shape-limit"},
    ),
    (
        "two large containers",
        spec_set(containers=[container("a", cpu="40"), container("b", cpu="30")]),
        {"virtual-shape-limit"},
    ),
    ("ephemeral storage above 15 GB", limits(**{"ephemeral-storage": "20Gi"}), {"virtual-shape-limit"}),
    ("ephemeral storage within 15 GB", limits(**{"ephemeral-storage": "10Gi"}), set()),
    # sizing (warning)
    ("no resources", first_container(resources={}), {"virtual-unsized"}),
    (
        "requests below limits",
        first_container(
            resources={"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
        ),
        {"virtual-unsized"},
    ),
    ("limits only", first_container(resources={"limits": {"cpu": "1", "memory": "1Gi"}}), set()),
    # several at once
    (
        "many problems",
        both(spec_drop("tolerations"), spec_set(hostNetwork=True), limits(**{"nvidia.com/gpu": "1"})),
        {"virtual-missing-toleration", "virtual-host-network", "virtual-gpu"},
    ),
]

MANAGED_CASES: list[tuple[str, Mutation, set[str]]] = [
    ("correct", lambda spec: None, set()),
    ("no toleration", spec_drop("tolerations"), {"managed-missing-toleration"}),
    (
        "toleration with the wrong value",
        spec_set(tolerations=[{"key": "workload-type", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]),
        {"managed-missing-toleration"},
    ),
    ("Exists toleration", spec_set(tolerations=[{"key": "workload-type", "operator": "Exists"}]), set()),
    ("no selector", spec_drop("nodeSelector"), {"managed-missing-selector"}),
    (
        "no selector, no toleration",
        both(spec_drop("nodeSelector"), spec_drop("tolerations")),
        {"managed-missing-selector", "managed-missing-toleration"},
    ),
    (
        "virtual-node selector",
        spec_set(nodeSelector={"type": "virtual-node"}),
        {"managed-missing-selector"},
    ),
    (
        "required affinity on stateful",
        both(spec_drop("nodeSelector"), spec_set(affinity=required_affinity([STATEFUL]))),
        set(),
    ),
    (
        "Karpenter NodePool selector, no toleration needed",
        both(spec_drop("tolerations"), spec_set(nodeSelector={"karpenter.sh/nodepool": "burst"})),
        set(),
    ),
    (
        "Karpenter NodePool affinity (Exists)",
        both(
            spec_drop("tolerations"),
            spec_drop("nodeSelector"),
            spec_set(affinity=required_affinity([{"key": "karpenter.sh/nodepool", "operator": "Exists"}])),
        ),
        set(),
    ),
    (
        "affinity: stateful or a NodePool",
        both(
            spec_drop("nodeSelector"),
            spec_set(
                affinity=required_affinity(
                    [STATEFUL], [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["burst"]}]
                )
            ),
        ),
        set(),
    ),
    (
        "virtual-only rules do not apply",
        both(
            spec_set(hostNetwork=True, volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "d"}}]),
            limits(**{"nvidia.com/gpu": "1"}),
        ),
        set(),
    ),
]


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in VIRTUAL_CASES], ids=[c[0] for c in VIRTUAL_CASES])
def test_virtual_rules(mutation: Mutation, expected: set[str]) -> None:
    template = virtual_template()
    mutation(template["spec"])
    assert rules(lint_pod_template(template, tier="virtual", owner=OWNER)) == expected


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in MANAGED_CASES], ids=[c[0] for c in MANAGED_CASES])
def test_managed_rules(mutation: Mutation, expected: set[str]) -> None:
    template = managed_template()
    mutation(template["spec"])
    assert rules(lint_pod_template(template, tier="managed", owner=OWNER)) == expected


def test_findings_name_object_rule_and_fix() -> None:
    template = virtual_template()
    template["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "orders-data"}}]
    (finding,) = lint_pod_template(template, tier="virtual", owner=OWNER)
    assert (finding.kind, finding.namespace, finding.name, finding.scaled_object) == (
        "Deployment",
        "shop",
        "orders-consumer",
        "orders",
    )
    assert finding.object == "Deployment shop/orders-consumer"
    assert finding.rule == "virtual-pvc"
    assert finding.severity is Severity.ERROR
    assert finding.is_error
    assert "'data' (claim 'orders-data')" in finding.message
    assert "- name: data\n    emptyDir: {}" in finding.fix


def test_unknown_or_missing_tier_has_no_pod_rules() -> None:
    broken = virtual_template()
    broken["spec"] = {"hostNetwork": True}
    assert lint_pod_template(broken, tier="", owner=OWNER) == []
    assert lint_pod_template(broken, tier="Virtual", owner=OWNER) == []


def test_malformed_template_does_not_crash() -> None:
    for template in ({}, {"spec": None}, {"spec": {"containers": "nope", "volumes": [1, None], "tolerations": {}}}):
        found = rules(lint_pod_template(template, tier="virtual", owner=OWNER))
        assert {"virtual-missing-selector", "virtual-missing-toleration"} <= found


def test_every_rule_is_documented() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule_id == rule_id.lower()
        assert " " not in rule_id
        assert rule.summary.endswith(".")
        assert rule.fix
        assert rule.tier in (None, "virtual", "managed")
        assert rule.tier is None or rule_id.startswith(rule.tier + "-")
    assert {r for r, rule in RULES.items() if rule.severity is Severity.WARNING} == {
        "virtual-unsized",
        "target-not-found",
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        (2, Decimal(2)),
        (1.5, Decimal("1.5")),
        ("1Gi", Decimal(2**30)),
        ("15G", Decimal(15 * 10**9)),
        ("1e3", Decimal(1000)),
        ("1E", Decimal(10**18)),
        ("100k", Decimal(100000)),
        ("abc", None),
        ("1e999999999", None),
        (True, None),
        (None, None),
    ],
)
def test_parse_quantity(text: Any, value: Decimal | None) -> None:
    assert parse_quantity(text) == value


def test_toleration_matching_follows_kubernetes() -> None:
    assert tolerates([{"key": "a", "operator": "Equal", "value": "b"}], "a", "b", "NoSchedule")
    assert not tolerates([{"key": "a", "value": "c"}], "a", "b", "NoSchedule")
    assert tolerates([{"key": "a", "value": "c"}], "a", None, "NoSchedule")
    assert not tolerates([{"key": "a", "operator": "Exists", "effect": "NoExecute"}], "a", "b", "NoSchedule")
    assert tolerates([{"operator": "Exists"}], "anything", "b", "NoExecute")
    assert not tolerates([{"operator": "Equal", "value": "b"}], "a", "b", "NoSchedule")


# ---------------------------------------------------------------------------------------------------------------------
# Whole objects: ScaledObjects, ScaledJobs and their targets.


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


def test_lint_objects_resolves_targets_per_scaled_object() -> None:
    bad_virtual = virtual_template()
    bad_virtual["spec"].pop("tolerations")
    bad_managed = managed_template()
    bad_managed["spec"].pop("tolerations")
    objects = [
        deployment("good-virtual", virtual_template()),
        deployment("good-managed", managed_template()),
        deployment("bad-virtual", bad_virtual),
        deployment("bad-managed", bad_managed),
        scaled_object("gv", "good-virtual", "virtual"),
        scaled_object("gm", "good-managed", "managed"),
        scaled_object("bv", "bad-virtual", "virtual"),
        scaled_object("bm", "bad-managed", "managed"),
    ]
    assert found(lint_objects(objects)) == {
        ("virtual-missing-toleration", "Deployment shop/bad-virtual", "bv"),
        ("managed-missing-toleration", "Deployment shop/bad-managed", "bm"),
    }


def test_same_workload_under_the_wrong_tier_is_flagged() -> None:
    objects = [deployment("consumer", virtual_template()), scaled_object("so", "consumer", "managed")]
    assert {f.rule for f in lint_objects(objects)} == {"managed-missing-selector", "managed-missing-toleration"}


def test_only_triggers_naming_this_scaler_are_linted() -> None:
    broken = {"spec": {"hostNetwork": True, "containers": [container()]}}
    objects = [
        deployment("a", broken),
        deployment("b", broken),
        deployment("c", broken),
        deployment("d", broken),
        scaled_object("cpu", "a", "virtual", trigger_type="cpu"),
        scaled_object("other-external", "b", "virtual", source="kafka", scalerAddress="other.svc:6000"),
        scaled_object("no-tier", "c", None),
        scaled_object("by-address", "d", "virtual", source=""),
    ]
    assert {f.scaled_object for f in lint_objects(objects)} == {"by-address"}
    assert [(r.name, r.tiers) for r in burst_scalers(objects)] == [
        ("no-tier", ()),
        ("by-address", ("virtual",)),
    ]


def test_streaming_source_names_this_scaler() -> None:
    objects = [
        deployment("s", {"spec": {"containers": [container()]}}),
        scaled_object("s", "s", "virtual", source="oci-streaming", scalerAddress="10.0.0.1:6000"),
    ]
    assert {"virtual-missing-selector", "virtual-missing-toleration"} <= {f.rule for f in lint_objects(objects)}


def test_target_not_found_is_a_warning() -> None:
    (finding,) = lint_objects([scaled_object("orders", "orders-consumer", "virtual")])
    assert (finding.rule, finding.object, finding.severity) == (
        "target-not-found",
        "Deployment shop/orders-consumer",
        Severity.WARNING,
    )
    assert not finding.is_error


def test_target_is_matched_by_namespace_kind_and_group() -> None:
    objects = [
        deployment("consumer", {"spec": {}}, namespace="other"),
        deployment("consumer", {"spec": {}}, kind="StatefulSet"),
        scaled_object("so", "consumer", "virtual"),
    ]
    assert {f.rule for f in lint_objects(objects)} == {"target-not-found"}
    so = scaled_object("so", "consumer", "virtual")
    so["spec"]["scaleTargetRef"]["apiVersion"] = "argoproj.io/v1alpha1"
    assert {f.rule for f in lint_objects([deployment("consumer", virtual_template()), so])} == {"target-not-found"}


def test_missing_namespace_means_the_default_namespace() -> None:
    objects = [deployment("c", virtual_template(), namespace=None), scaled_object("so", "c", "virtual", namespace=None)]
    assert lint_objects(objects) == []
    bad = deployment("c", {"spec": {"containers": [container()]}}, namespace=None)
    findings = lint_objects([bad, scaled_object("so", "c", "virtual", namespace=None)], default_namespace="team")
    assert {f.object for f in findings} == {"Deployment team/c"}


def test_unknown_tier_is_an_error_on_the_scaled_object() -> None:
    (finding,) = lint_objects([deployment("c", virtual_template()), scaled_object("so", "c", "Virtual")])
    assert (finding.rule, finding.object, finding.severity) == ("unknown-tier", "ScaledObject shop/so", Severity.ERROR)


def test_daemonset_target_on_virtual() -> None:
    objects = [
        deployment("agent", virtual_template(), kind="DaemonSet"),
        scaled_object("so", "agent", "virtual", kind="DaemonSet"),
    ]
    assert found(lint_objects(objects)) == {("virtual-daemonset", "DaemonSet shop/agent", "so")}


def test_statefulset_claim_templates_on_virtual() -> None:
    sts = deployment("cache", virtual_template(), kind="StatefulSet")
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]
    findings = lint_workload(sts, tier="virtual", scaled_object="so")
    assert [(f.rule, f.object) for f in findings] == [("virtual-pvc", "StatefulSet shop/cache")]
    assert "(data)" in findings[0].message
    managed = deployment("cache", managed_template(), kind="StatefulSet")
    managed["spec"]["volumeClaimTemplates"] = sts["spec"]["volumeClaimTemplates"]
    assert lint_workload(managed, tier="managed", scaled_object="so") == []


def scaled_job(name: str, template: dict[str, Any], tier: str) -> dict[str, Any]:
    so = scaled_object(name, "", tier)
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledJob",
        "metadata": {"name": name, "namespace": "batch"},
        "spec": {"jobTargetRef": {"backoffLimit": 1, "template": template}, "triggers": so["spec"]["triggers"]},
    }


def test_scaled_job_template_is_linted_in_place() -> None:
    template = virtual_template()
    template["spec"]["restartPolicy"] = "Never"
    assert lint_objects([scaled_job("reindex", template, "virtual")]) == []
    template["spec"].pop("tolerations")
    (finding,) = lint_objects([scaled_job("reindex", template, "virtual")])
    assert (finding.rule, finding.object, finding.scaled_object) == (
        "virtual-missing-toleration",
        "ScaledJob batch/reindex",
        "reindex",
    )
    assert finding.fix.startswith("spec.jobTargetRef.template.spec:")
    (missing,) = lint_objects([scaled_job("empty", {}, "virtual")])
    assert missing.rule == "target-not-found"


def nodepool(name: str, *taints: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {"template": {"spec": {"taints": list(taints), "nodeClassRef": {"name": "default"}}}},
    }


PREEMPTIBLE = {"key": "oci.oraclecloud.com/oke-is-preemptible", "value": "present", "effect": "NoSchedule"}


def test_known_nodepool_taints_must_be_tolerated() -> None:
    template = managed_template()
    template["spec"]["nodeSelector"] = {"karpenter.sh/nodepool": "spot"}
    template["spec"]["tolerations"] = []
    objects = [
        nodepool("spot", PREEMPTIBLE, {"key": "soft", "value": "x", "effect": "PreferNoSchedule"}),
        deployment("c", template),
        scaled_object("so", "c", "managed"),
    ]
    (finding,) = lint_objects(objects)
    assert finding.rule == "managed-nodepool-toleration"
    assert "oci.oraclecloud.com/oke-is-preemptible=present:NoSchedule" in finding.message
    assert "soft" not in finding.message
    assert "- key: oci.oraclecloud.com/oke-is-preemptible\n    operator: Equal\n    value: present" in finding.fix
    template["spec"]["tolerations"] = [{"key": "oci.oraclecloud.com/oke-is-preemptible", "operator": "Exists"}]
    assert lint_objects(objects) == []
    assert nodepool_taints(objects) == {
        "spot": (
            ("oci.oraclecloud.com/oke-is-preemptible", "present", "NoSchedule"),
            ("soft", "x", "PreferNoSchedule"),
        )
    }


def test_unknown_nodepool_needs_no_toleration() -> None:
    template = managed_template()
    template["spec"]["nodeSelector"] = {"karpenter.sh/nodepool": "elsewhere"}
    template["spec"]["tolerations"] = []
    assert (
        lint_objects([nodepool("spot", PREEMPTIBLE), deployment("c", template), scaled_object("so", "c", "managed")])
        == []
    )


def test_rule_reference_is_generated_from_the_table() -> None:
    text = rules_markdown()
    for rule_id, rule in RULES.items():
        assert f"| `{rule_id}` | {rule.tier or 'any'} | {rule.severity.value} |" in text
        assert f"#### `{rule_id}`" in text
        assert rule.fix in text
