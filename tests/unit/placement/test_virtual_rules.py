"""Virtual-tier rules, one table row per rule: a correct pod passes, each breakage reports exactly its rule."""

from __future__ import annotations

import pytest

from scaler.placement import (
    Severity,
    lint_pod_template,
)
from tests.unit.placement.objects import (
    OWNER,
    TYPE_VIRTUAL,
    Mutation,
    both,
    container,
    first_container,
    limits,
    required_affinity,
    rules,
    spec_drop,
    spec_set,
    virtual_template,
)

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
        {"virtual-privileged", "virtual-init-containers"},
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
        {"virtual-shape-limit", "virtual-init-containers"},
    ),
    (
        "ordinary init container counts at its peak only",
        both(
            first_container(resources=container(cpu="60")["resources"]),
            spec_set(initContainers=[container("migrate", cpu="8")]),
        ),
        {"virtual-init-containers"},  # not too big; refused for being an init container
    ),
    (
        "init container alone too big",
        spec_set(initContainers=[container("migrate", cpu="70")]),
        {"virtual-shape-limit", "virtual-init-containers"},
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
        {"virtual-requests-differ-from-limits"},
    ),
    ("requests only", first_container(resources={"requests": {"cpu": "1", "memory": "1Gi"}}), {"virtual-unsized"}),
    ("limits only", first_container(resources={"limits": {"cpu": "1", "memory": "1Gi"}}), set()),
    # several at once
    (
        "many problems",
        both(spec_drop("tolerations"), spec_set(hostNetwork=True), limits(**{"nvidia.com/gpu": "1"})),
        {"virtual-missing-toleration", "virtual-host-network", "virtual-gpu"},
    ),
]


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in VIRTUAL_CASES], ids=[c[0] for c in VIRTUAL_CASES])
def test_virtual_rules(mutation: Mutation, expected: set[str]) -> None:
    template = virtual_template()
    mutation(template["spec"])
    assert rules(lint_pod_template(template, tier="virtual", owner=OWNER)) == expected


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
