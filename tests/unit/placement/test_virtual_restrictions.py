"""The Kubernetes features OKE virtual nodes do not support, one rule each: every breakage reports exactly its rule
with an exact message and the rule's fix, and the nearest correct spelling reports nothing."""

from __future__ import annotations

import pytest

from scaler.placement import RULES, RuleId, Severity, lint_pod_template
from tests.unit.placement.objects import (
    OWNER,
    Mutation,
    both,
    container,
    first_container,
    managed_template,
    spec_set,
    virtual_template,
)

GRPC_PROBE = {"grpc": {"port": 6000}}

BROKEN: list[tuple[str, Mutation, RuleId, str]] = [
    (
        "init container",
        spec_set(initContainers=[container("migrate")]),
        RuleId.VIRTUAL_INIT_CONTAINERS,
        "tier virtual, but the pod has init containers 'migrate'; virtual nodes do not run init containers "
        "(sidecars included)",
    ),
    (
        "sidecar",
        spec_set(initContainers=[container("proxy", restartPolicy="Always")]),
        RuleId.VIRTUAL_INIT_CONTAINERS,
        "tier virtual, but the pod has init containers 'proxy'; virtual nodes do not run init containers "
        "(sidecars included)",
    ),
    (
        "ephemeral container",
        spec_set(ephemeralContainers=[{"name": "debugger", "image": "busybox"}]),
        RuleId.VIRTUAL_EPHEMERAL_CONTAINERS,
        "tier virtual, but the pod spec has ephemeral containers 'debugger'; virtual nodes do not support them",
    ),
    (
        "two emptyDirs",
        spec_set(volumes=[{"name": "scratch", "emptyDir": {}}, {"name": "cache", "emptyDir": {"medium": "Memory"}}]),
        RuleId.VIRTUAL_EMPTYDIR_COUNT,
        "tier virtual, but the pod has 2 emptyDir volumes ('scratch', 'cache'); a virtual-node pod supports one",
    ),
    (
        "emptyDir sizeLimit",
        spec_set(volumes=[{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]),
        RuleId.VIRTUAL_EMPTYDIR_SIZE_LIMIT,
        "tier virtual, but emptyDir volume 'tmp' (sizeLimit 64Mi) sets a sizeLimit; virtual nodes do not support "
        "emptyDir sizeLimit",
    ),
    (
        "gRPC probes",
        first_container(readinessProbe=GRPC_PROBE, livenessProbe=GRPC_PROBE),
        RuleId.VIRTUAL_GRPC_PROBE,
        "tier virtual, but container 'consumer' has a gRPC livenessProbe; container 'consumer' has a gRPC "
        "readinessProbe; virtual nodes do not support gRPC probes",
    ),
    (
        "requests differ from limits",
        first_container(
            resources={"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
        ),
        RuleId.VIRTUAL_REQUESTS_DIFFER_FROM_LIMITS,
        "tier virtual, but container 'consumer' requests 500m cpu with a limit of 1; container 'consumer' requests "
        "1Gi memory with a limit of 2Gi; virtual nodes need requests equal to limits",
    ),
    (
        "hostPort",
        first_container(ports=[{"containerPort": 8080, "hostPort": 8080}]),
        RuleId.VIRTUAL_HOST_PORT,
        "tier virtual, but container 'consumer' port 8080 sets hostPort 8080; virtual-node pods have no host ports",
    ),
    (
        "containerPort in the NodePort range",
        first_container(ports=[{"name": "metrics", "containerPort": 30090}]),
        RuleId.VIRTUAL_NODE_PORT_RANGE,
        "tier virtual, but container 'consumer' listens on containerPort 30090; virtual nodes do not support "
        "container ports in the NodePort range 30000-32767",
    ),
    (
        "pod security settings",
        spec_set(
            securityContext={
                "runAsNonRoot": True,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
                "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
                "supplementalGroups": [4000],
            }
        ),
        RuleId.VIRTUAL_POD_SECURITY_CONTEXT,
        "tier virtual, but the pod securityContext sets fsGroup, sysctls, seccompProfile, supplementalGroups; "
        "virtual nodes do not support these pod security settings",
    ),
    (
        "shareProcessNamespace",
        spec_set(shareProcessNamespace=True),
        RuleId.VIRTUAL_SHARE_PROCESS_NAMESPACE,
        "tier virtual, but the pod sets shareProcessNamespace: true; virtual nodes do not support a shared process "
        "namespace",
    ),
]


@pytest.mark.parametrize(("mutation", "rule", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_each_restriction_is_its_own_rule_with_an_exact_message(mutation: Mutation, rule: RuleId, message: str) -> None:
    template = virtual_template()
    mutation(template["spec"])
    (finding,) = lint_pod_template(template, tier="virtual", owner=OWNER)
    assert (finding.rule, finding.message, finding.severity) == (rule, message, Severity.ERROR)
    assert finding.fix == RULES[rule].fix_for(**({"volume": message.split("'")[1]} if "emptyDir" in message else {}))


CLEAN: list[tuple[str, Mutation]] = [
    ("one emptyDir without a sizeLimit", spec_set(volumes=[{"name": "scratch", "emptyDir": {"medium": "Memory"}}])),
    ("an emptyDir and a configMap", spec_set(volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {}}])),
    (
        "tcpSocket and httpGet probes",
        first_container(readinessProbe={"tcpSocket": {"port": 6000}}, livenessProbe={"httpGet": {"port": 8080}}),
    ),
    (
        "requests equal limits, spelled differently",
        first_container(
            resources={"requests": {"cpu": "1000m", "memory": "1024Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
        ),
    ),
    ("limits only", first_container(resources={"limits": {"cpu": "1", "memory": "1Gi"}})),
    (
        "containerPort just below the NodePort range",
        first_container(ports=[{"containerPort": 29999}, {"containerPort": 8080}]),
    ),
    ("containerPort just above it", first_container(ports=[{"containerPort": 32768}])),
    (
        "supported pod security settings",
        spec_set(securityContext={"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001}),
    ),
    ("empty supplementalGroups", spec_set(securityContext={"supplementalGroups": []})),
    (
        "container-level hardening",
        first_container(securityContext={"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}),
    ),
    ("shareProcessNamespace false", spec_set(shareProcessNamespace=False)),
    ("no init or ephemeral containers", both(spec_set(initContainers=[]), spec_set(ephemeralContainers=[]))),
]


@pytest.mark.parametrize("mutation", [c[1] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_the_supported_spelling_passes(mutation: Mutation) -> None:
    template = virtual_template()
    mutation(template["spec"])
    assert lint_pod_template(template, tier="virtual", owner=OWNER) == []


def test_managed_pods_may_use_all_of_it() -> None:
    template = managed_template()
    for _, mutation, _, _ in BROKEN:
        mutation(template["spec"])
    assert lint_pod_template(template, tier="managed", owner=OWNER) == []
