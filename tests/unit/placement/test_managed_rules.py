"""Managed-tier rules, one table row per rule: a correct pod passes, each breakage reports exactly its rule."""

from __future__ import annotations

import pytest

from scaler.placement import (
    lint_pod_template,
)
from tests.unit.placement.objects import (
    OWNER,
    STATEFUL,
    Mutation,
    both,
    limits,
    managed_template,
    required_affinity,
    rules,
    spec_drop,
    spec_set,
)

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


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in MANAGED_CASES], ids=[c[0] for c in MANAGED_CASES])
def test_managed_rules(mutation: Mutation, expected: set[str]) -> None:
    template = managed_template()
    mutation(template["spec"])
    assert rules(lint_pod_template(template, tier="managed", owner=OWNER)) == expected
