"""ScaledObject discovery: which KEDA objects name this scaler, which tiers their triggers declare, and what they
scale, so that a whole directory of manifests (or a whole cluster) can be linted at once.

A ScaledObject whose target is not in the input is a *warning* (``target-not-found``): with ``-f`` the manifest may
simply live elsewhere, so it must not fail CI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from scaler.placement.catalogue import TIERS, RuleId
from scaler.placement.readers import Obj, as_map, maps, text
from scaler.placement.rules import Finding, ObjectRef, Report, lint_pod_template, lint_workload
from scaler.placement.scheduling import nodepool_taints

SCALER_SOURCES: Final = frozenset({"oci-queue", "oci-streaming"})
SCALER_TRIGGER_TYPES: Final = frozenset({"external", "external-push"})
SCALER_ADDRESS_MARK: Final = "burst-scaler"


@dataclass(frozen=True)
class ScalerRef:
    """A ScaledObject or ScaledJob with at least one trigger that names this scaler."""

    kind: str
    namespace: str
    name: str
    tiers: tuple[str, ...]
    """Distinct ``tier`` values of its triggers, in order (empty: no placement rules apply)."""


def _triggers_naming_us(obj: Obj) -> list[Obj]:
    """Trigger metadata of the triggers that name this scaler (external/external-push with our source or address)."""
    found: list[Obj] = []
    for trigger in maps(as_map(obj.get("spec")).get("triggers")):
        if trigger.get("type") not in SCALER_TRIGGER_TYPES:
            continue
        metadata = as_map(trigger.get("metadata"))
        if metadata.get("source") in SCALER_SOURCES or SCALER_ADDRESS_MARK in text(metadata.get("scalerAddress")):
            found.append(metadata)
    return found


def _is_keda(obj: Obj, kind: str) -> bool:
    return obj.get("kind") == kind and text(obj.get("apiVersion")).startswith("keda.sh/")


def burst_scalers(objects: Iterable[Obj], *, default_namespace: str = "default") -> list[ScalerRef]:
    """The ScaledObjects and ScaledJobs among ``objects`` with at least one trigger naming this scaler."""
    refs: list[ScalerRef] = []
    for obj in objects:
        if not (_is_keda(obj, "ScaledObject") or _is_keda(obj, "ScaledJob")):
            continue
        triggers = _triggers_naming_us(obj)
        if not triggers:
            continue
        tiers: list[str] = []
        for metadata in triggers:
            tier = metadata.get("tier")
            if tier is not None and str(tier) not in tiers:
                tiers.append(str(tier))
        metadata = as_map(obj.get("metadata"))
        refs.append(
            ScalerRef(
                kind=text(obj.get("kind")),
                namespace=text(metadata.get("namespace")) or default_namespace,
                name=text(metadata.get("name")),
                tiers=tuple(tiers),
            )
        )
    return refs


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def _one(owner: ObjectRef, rule_id: RuleId, message: str) -> list[Finding]:
    report = Report(owner)
    report.add(rule_id, message)
    return report.findings


def lint_objects(objects: Iterable[Obj], *, default_namespace: str = "default") -> list[Finding]:
    """Lint every target of every ScaledObject/ScaledJob naming this scaler, under the tier its triggers declare.

    Objects without ``metadata.namespace`` are in ``default_namespace`` (what ``kubectl apply -n`` would do).
    Targets are matched by API group, kind, namespace and name; any kind with a ``spec.template`` pod template is
    linted (Deployment, StatefulSet, DaemonSet, or a custom workload such as an Argo Rollout).
    """
    items = [obj for obj in objects if isinstance(obj, Mapping)]
    node_pools = nodepool_taints(items)
    by_key: dict[tuple[str, str, str, str], Obj] = {}
    for obj in items:
        metadata = as_map(obj.get("metadata"))
        key = (
            _group(text(obj.get("apiVersion"))),
            text(obj.get("kind")),
            text(metadata.get("namespace")) or default_namespace,
            text(metadata.get("name")),
        )
        by_key.setdefault(key, obj)

    scalers = {
        (ref.kind, ref.namespace, ref.name): ref for ref in burst_scalers(items, default_namespace=default_namespace)
    }
    findings: list[Finding] = []
    for obj in items:
        metadata = as_map(obj.get("metadata"))
        ref = scalers.get(
            (text(obj.get("kind")), text(metadata.get("namespace")) or default_namespace, text(metadata.get("name")))
        )
        if ref is None:
            continue
        self_ref = ObjectRef(ref.kind, ref.namespace, ref.name, ref.name)
        for tier in ref.tiers:
            if tier not in TIERS:
                message = f"trigger metadata tier: {tier!r} is neither 'virtual' nor 'managed'"
                findings.extend(_one(self_ref, RuleId.UNKNOWN_TIER, message))
                continue
            spec = as_map(obj.get("spec"))
            if ref.kind == "ScaledJob":
                template = as_map(as_map(spec.get("jobTargetRef")).get("template"))
                if not template:
                    message = "the ScaledJob has no spec.jobTargetRef.template to check"
                    findings.extend(_one(self_ref, RuleId.TARGET_NOT_FOUND, message))
                    continue
                findings.extend(lint_pod_template(template, tier=tier, owner=self_ref, node_pools=node_pools))
                continue
            target = as_map(spec.get("scaleTargetRef"))
            kind = text(target.get("kind")) or "Deployment"
            name = text(target.get("name"))
            workload = by_key.get((_group(text(target.get("apiVersion")) or "apps/v1"), kind, ref.namespace, name))
            if workload is None:
                message = (
                    f"scaleTargetRef {kind} {ref.namespace}/{name or '?'} is not among the checked objects; its "
                    f"placement for tier {tier} was not checked"
                )
                findings.extend(
                    _one(ObjectRef(kind, ref.namespace, name or "?", ref.name), RuleId.TARGET_NOT_FOUND, message)
                )
                continue
            findings.extend(
                lint_workload(
                    workload,
                    tier=tier,
                    scaled_object=ref.name,
                    default_namespace=default_namespace,
                    node_pools=node_pools,
                )
            )
    return findings
