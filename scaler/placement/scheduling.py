"""Scheduling semantics the rules rely on: where a pod may land (node selectors, required node affinity) and which
taints it tolerates, read as the kube-scheduler reads them.

A lint that is looser than the scheduler misses the Pending pod it exists to catch; one that is stricter fails CI on
a correct manifest. So these follow Kubernetes exactly where they can: affinity terms are ORed (one loose term lets
the pod land anywhere), an empty-key ``Exists`` toleration tolerates every taint, an empty toleration effect matches
every effect.
"""

from __future__ import annotations

from collections.abc import Iterable

from scaler.placement.catalogue import NODEPOOL_LABEL, STATEFUL_LABEL
from scaler.placement.readers import Obj, as_map, maps, text

Taint = tuple[str, str, str]
"""(key, value, effect) of a node taint."""


def _required_terms(spec: Obj) -> list[Obj]:
    affinity = as_map(as_map(spec.get("affinity")).get("nodeAffinity"))
    required = as_map(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"))
    return maps(required.get("nodeSelectorTerms"))


def _term_values(term: Obj, key: str) -> tuple[str, ...] | None:
    """Values a required node-affinity term pins ``key`` to (``In``); ``()`` for ``Exists``; None if it does not."""
    for expression in maps(term.get("matchExpressions")):
        if expression.get("key") != key:
            continue
        operator = expression.get("operator")
        values = expression.get("values")
        if operator == "In" and isinstance(values, list) and values:
            return tuple(str(v) for v in values)
        if operator == "Exists":
            return ()
    return None


def selects_label(spec: Obj, key: str, value: str) -> bool:
    """nodeSelector has key=value, or every required affinity term pins key In [value]."""
    if as_map(spec.get("nodeSelector")).get(key) == value:
        return True
    terms = _required_terms(spec)
    return bool(terms) and all(_term_values(term, key) == (value,) for term in terms)


def selected_nodepools(spec: Obj) -> tuple[str, ...] | None:
    """NodePools the pod is pinned to through ``karpenter.sh/nodepool``: names, ``()`` for any, None if not pinned."""
    selected = as_map(spec.get("nodeSelector")).get(NODEPOOL_LABEL)
    if isinstance(selected, str) and selected:
        return (selected,)
    terms = _required_terms(spec)
    if not terms:
        return None
    pools: list[str] = []
    for term in terms:
        values = _term_values(term, NODEPOOL_LABEL)
        if values is None:
            return None
        if not values:
            return ()
        pools.extend(v for v in values if v not in pools)
    return tuple(pools)


def pins_managed(spec: Obj) -> bool:
    """Every way the pod can schedule leads to stateful nodes or to a Karpenter NodePool."""
    node_selector = as_map(spec.get("nodeSelector"))
    if node_selector.get(STATEFUL_LABEL[0]) == STATEFUL_LABEL[1] or text(node_selector.get(NODEPOOL_LABEL)):
        return True
    terms = _required_terms(spec)
    return bool(terms) and all(
        _term_values(term, STATEFUL_LABEL[0]) == (STATEFUL_LABEL[1],) or _term_values(term, NODEPOOL_LABEL) is not None
        for term in terms
    )


def tolerates(tolerations: Iterable[Obj], key: str, value: str | None, effect: str) -> bool:
    """Kubernetes toleration matching; ``value=None`` accepts an ``Equal`` toleration with any value."""
    for toleration in tolerations:
        toleration_effect = text(toleration.get("effect"))
        if toleration_effect and toleration_effect != effect:
            continue
        operator = text(toleration.get("operator")) or "Equal"
        toleration_key = text(toleration.get("key"))
        if not toleration_key:
            if operator == "Exists":
                return True
            continue
        if toleration_key != key:
            continue
        if operator == "Exists":
            return True
        if operator == "Equal" and (value is None or text(toleration.get("value")) == value):
            return True
    return False


def nodepool_taints(objects: Iterable[Obj]) -> dict[str, tuple[Taint, ...]]:
    """Karpenter NodePools among ``objects``: name → the taints its nodes carry (``spec.template.spec.taints``)."""
    pools: dict[str, tuple[Taint, ...]] = {}
    for obj in objects:
        if obj.get("kind") != "NodePool" or not text(obj.get("apiVersion")).startswith("karpenter.sh/"):
            continue
        name = text(as_map(obj.get("metadata")).get("name"))
        taints = maps(as_map(as_map(as_map(obj.get("spec")).get("template")).get("spec")).get("taints"))
        if name:
            pools[name] = tuple(
                (text(t.get("key")), text(t.get("value")), text(t.get("effect")) or "NoSchedule") for t in taints
            )
    return pools
