"""The tier rules: what a pod template (and the workload around it) must look like to run on its tier.

Each finding names the object, the rule and a concrete fix written for where that owner keeps its pod spec, so a
user can paste it. The virtual-node limits below are OKE's published ones (OCI documentation, "Virtual node pod
resource allocation"): at most 64 cores for Pod.Standard.E3.Flex/E4.Flex (OKE counts pod CPU in OCPUs); 15 GB
ephemeral storage per pod including the image; a container with neither limit nor request is sized at 0.125 OCPU /
0.5 GB and the pod is rounded up to a whole OCPU. No per-pod memory maximum is documented, so none is enforced.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from scaler.placement.catalogue import (
    JOB_POD_SPEC_PATH,
    NODEPOOL_LABEL,
    POD_SPEC_PATH,
    RULES,
    STATEFUL_TAINT,
    STATEFULSET_CLAIMS_FIX,
    TIER_MANAGED,
    TIER_VIRTUAL,
    VIRTUAL_NODE_LABEL,
    VIRTUAL_NODE_TAINT_KEY,
    RuleId,
    Severity,
)
from scaler.placement.readers import (
    Obj,
    as_map,
    containers,
    fmt,
    is_true,
    maps,
    names,
    pod_total,
    resource,
    sized,
    text,
)
from scaler.placement.restrictions import virtual_restrictions
from scaler.placement.scheduling import Taint, pins_managed, selected_nodepools, selects_label, tolerates

VIRTUAL_MAX_POD_OCPU: Final = Decimal(64)
VIRTUAL_MAX_POD_EPHEMERAL_STORAGE: Final = Decimal(15 * 10**9)
VIRTUAL_DEFAULT_CONTAINER_OCPU: Final = Decimal("0.125")

# Kubernetes Pod Security Standards, baseline profile: the only capabilities a pod may add. Anything else needs a
# node the workload controls.
BASELINE_CAPABILITIES: Final = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


@dataclass(frozen=True)
class ObjectRef:
    """Who owns a pod template, and which ScaledObject (or ScaledJob) scales it."""

    kind: str
    namespace: str
    name: str
    scaled_object: str = ""


@dataclass(frozen=True)
class Finding:
    """One rule broken by one object, with a concrete fix."""

    kind: str
    namespace: str
    name: str
    scaled_object: str
    rule: RuleId
    message: str
    fix: str
    severity: Severity

    @property
    def object(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class Report:
    """Collects findings for one owner; fixes are written for the owner's pod-spec path."""

    def __init__(self, owner: ObjectRef) -> None:
        self.owner = owner
        self.findings: list[Finding] = []
        self._pod_spec = JOB_POD_SPEC_PATH if owner.kind == "ScaledJob" else POD_SPEC_PATH

    def add(self, rule_id: RuleId, message: str, *, fix: str | None = None, **slots: str) -> None:
        """Record a finding; its fix is the rule's with ``slots`` filled in, or ``fix`` when the case needs another."""
        rule = RULES[rule_id]
        self.findings.append(
            Finding(
                kind=self.owner.kind,
                namespace=self.owner.namespace,
                name=self.owner.name,
                scaled_object=self.owner.scaled_object,
                rule=rule_id,
                message=message,
                fix=fix if fix is not None else rule.fix_for(pod_spec=self._pod_spec, **slots),
                severity=rule.severity,
            )
        )


def _lint_virtual(spec: Obj, report: Report) -> None:
    if not selects_label(spec, *VIRTUAL_NODE_LABEL):
        report.add(
            RuleId.VIRTUAL_MISSING_SELECTOR,
            "tier virtual, but the pod does not select virtual nodes (nodeSelector type: virtual-node, or a required "
            "node affinity pinning type In [virtual-node])",
        )
    if not tolerates(maps(spec.get("tolerations")), VIRTUAL_NODE_TAINT_KEY, None, "NoSchedule"):
        report.add(
            RuleId.VIRTUAL_MISSING_TOLERATION,
            f"tier virtual, but the pod does not tolerate the {VIRTUAL_NODE_TAINT_KEY}:NoSchedule taint; it will stay "
            "Pending",
        )
    _lint_virtual_volumes(maps(spec.get("volumes")), report)
    if is_true(spec.get("hostNetwork")):
        report.add(RuleId.VIRTUAL_HOST_NETWORK, "tier virtual, but the pod sets hostNetwork: true")
    _lint_virtual_containers(spec, report)
    _lint_virtual_shape(spec, report)
    for rule_id, message, slots in virtual_restrictions(spec):
        report.add(rule_id, message, **slots)


def _lint_virtual_volumes(volumes: list[Obj], report: Report) -> None:
    claim_volumes = [
        text(v.get("name")) or "data"
        for v in volumes
        if "persistentVolumeClaim" in v or "volumeClaimTemplate" in as_map(v.get("ephemeral"))
    ]
    claims = [
        f"{text(v.get('name')) or '?'!r} (claim {text(as_map(v['persistentVolumeClaim']).get('claimName')) or '?'!r})"
        for v in volumes
        if "persistentVolumeClaim" in v
    ]
    claims += [
        f"{text(v.get('name')) or '?'!r} (ephemeral volumeClaimTemplate)"
        for v in volumes
        if "volumeClaimTemplate" in as_map(v.get("ephemeral"))
    ]
    if claims:
        report.add(
            RuleId.VIRTUAL_PVC,
            f"tier virtual, but volume {names(claims)} needs a persistent volume; virtual nodes do not attach Block "
            "Volumes, so the pod never starts",
            volume=claim_volumes[0],
        )
    host_path_volumes = [text(v.get("name")) or "cache" for v in volumes if "hostPath" in v]
    host_paths = [
        f"{text(v.get('name')) or '?'!r} ({text(as_map(v['hostPath']).get('path')) or '?'})"
        for v in volumes
        if "hostPath" in v
    ]
    if host_paths:
        report.add(
            RuleId.VIRTUAL_HOSTPATH,
            f"tier virtual, but volume {names(host_paths)} is a hostPath",
            volume=host_path_volumes[0],
        )


def _lint_virtual_containers(spec: Obj, report: Report) -> None:
    privileged: list[str] = []
    gpus: list[str] = []
    for label, container in containers(spec):
        security = as_map(container.get("securityContext"))
        if is_true(security.get("privileged")):
            privileged.append(f"{label} is privileged")
        added = [
            str(cap).upper().removeprefix("CAP_")
            for cap in as_map(security.get("capabilities")).get("add") or []
            if isinstance(cap, str)
        ]
        extra = [cap for cap in added if cap not in BASELINE_CAPABILITIES]
        if extra:
            privileged.append(f"{label} adds capabilities {names(extra)}")
        requested = as_map(container.get("resources"))
        gpu_names = sorted(
            {
                str(name)
                for section in ("requests", "limits")
                for name in as_map(requested.get(section))
                if str(name).endswith("/gpu")
            }
        )
        if gpu_names:
            gpus.append(f"{label} requests {names(gpu_names)}")
    if privileged:
        report.add(RuleId.VIRTUAL_PRIVILEGED, f"tier virtual, but {'; '.join(privileged)}")
    if gpus:
        report.add(RuleId.VIRTUAL_GPU, f"tier virtual, but {'; '.join(gpus)}; virtual nodes have no GPUs")


def _lint_virtual_shape(spec: Obj, report: Report) -> None:
    problems: list[str] = []
    ocpu = pod_total(spec, lambda c: sized(c, "cpu", VIRTUAL_DEFAULT_CONTAINER_OCPU))
    rounded = Decimal(math.ceil(ocpu))
    if rounded > VIRTUAL_MAX_POD_OCPU:
        problems.append(
            f"the pod is sized at {fmt(rounded)} OCPU (containers, sidecars and init containers: limit, else "
            f"request, else {fmt(VIRTUAL_DEFAULT_CONTAINER_OCPU)}; rounded up) but a virtual-node pod gets at most "
            f"{fmt(VIRTUAL_MAX_POD_OCPU)}"
        )
    storage = pod_total(spec, lambda c: sized(c, "ephemeral-storage", Decimal(0)))
    if storage > VIRTUAL_MAX_POD_EPHEMERAL_STORAGE:
        problems.append(
            f"the pod asks for {fmt(storage / Decimal(10**9))} GB ephemeral storage but a virtual-node pod has "
            f"{fmt(VIRTUAL_MAX_POD_EPHEMERAL_STORAGE / Decimal(10**9))} GB including the image"
        )
    if problems:
        report.add(RuleId.VIRTUAL_SHAPE_LIMIT, f"tier virtual, but {'; '.join(problems)}")

    unsized: list[str] = []
    for label, container in containers(spec):
        missing = [name for name in ("cpu", "memory") if resource(container, "limits", name) is None]
        if missing:
            unsized.append(f"{label} has no {' or '.join(missing)} limit")
    if unsized:
        report.add(
            RuleId.VIRTUAL_UNSIZED,
            f"tier virtual: {'; '.join(unsized)}; the pod shape is then not what the scheduler assumed",
        )


def _yaml_scalar(value: str) -> str:
    return value if value else '""'


def _lint_managed(spec: Obj, report: Report, node_pools: Mapping[str, Sequence[Taint]]) -> None:
    tolerations = maps(spec.get("tolerations"))
    pools = selected_nodepools(spec)
    if not pins_managed(spec):
        report.add(
            RuleId.MANAGED_MISSING_SELECTOR,
            f"tier managed, but the pod does not select managed capacity (nodeSelector workload-type: stateful or "
            f"{NODEPOOL_LABEL}: <pool>, or a required node affinity on one of them)",
        )
    if pools is None and not tolerates(tolerations, *STATEFUL_TAINT):
        report.add(
            RuleId.MANAGED_MISSING_TOLERATION,
            "tier managed, but the pod does not tolerate the workload-type=stateful:NoSchedule taint of the managed "
            "nodes; it will stay Pending",
        )
    for pool in pools or ():
        untolerated = [
            taint
            for taint in node_pools.get(pool, ())
            if taint[2] in ("NoSchedule", "NoExecute") and not tolerates(tolerations, *taint)
        ]
        if untolerated:
            report.add(
                RuleId.MANAGED_NODEPOOL_TOLERATION,
                f"tier managed, NodePool {pool!r} taints its nodes "
                f"{names([f'{k}={v}:{e}' for k, v, e in untolerated])} and the pod does not tolerate them; Karpenter "
                "will not launch a node for it",
                tolerations="\n".join(
                    f"  - key: {key}\n    operator: Equal\n    value: {_yaml_scalar(value)}\n    effect: {effect}"
                    for key, value, effect in untolerated
                ),
            )


def lint_pod_template(
    template: Obj,
    *,
    tier: str,
    owner: ObjectRef,
    node_pools: Mapping[str, Sequence[Taint]] | None = None,
) -> list[Finding]:
    """Findings for one pod template (``spec.template``) under ``tier``; an unknown tier has no rules here.

    ``node_pools`` (NodePool name → taints, see :func:`~scaler.placement.scheduling.nodepool_taints`) enables the
    NodePool toleration check for managed pods that select a pool by name.
    """
    spec = as_map(as_map(template).get("spec"))
    report = Report(owner)
    if tier == TIER_VIRTUAL:
        _lint_virtual(spec, report)
    elif tier == TIER_MANAGED:
        _lint_managed(spec, report, node_pools or {})
    return report.findings


def lint_workload(
    workload: Obj,
    *,
    tier: str,
    scaled_object: str,
    default_namespace: str = "default",
    node_pools: Mapping[str, Sequence[Taint]] | None = None,
) -> list[Finding]:
    """Findings for a whole workload object: its pod template plus what only the workload says (kind, claims)."""
    metadata = as_map(workload.get("metadata"))
    kind = text(workload.get("kind"))
    owner = ObjectRef(
        kind=kind,
        namespace=text(metadata.get("namespace")) or default_namespace,
        name=text(metadata.get("name")),
        scaled_object=scaled_object,
    )
    spec = as_map(workload.get("spec"))
    findings: list[Finding] = []
    if tier == TIER_VIRTUAL:
        extra = Report(owner)
        if kind == "DaemonSet":
            extra.add(
                RuleId.VIRTUAL_DAEMONSET, "tier virtual, but the target is a DaemonSet; virtual nodes do not run them"
            )
        templates = [text(as_map(t.get("metadata")).get("name")) or "?" for t in maps(spec.get("volumeClaimTemplates"))]
        if templates:
            extra.add(
                RuleId.VIRTUAL_PVC,
                f"tier virtual, but the StatefulSet's volumeClaimTemplates ({names(templates)}) need persistent "
                "volumes; virtual nodes do not attach Block Volumes, so the pods never start",
                fix=STATEFULSET_CLAIMS_FIX,
            )
        findings.extend(extra.findings)
    findings.extend(lint_pod_template(as_map(spec.get("template")), tier=tier, owner=owner, node_pools=node_pools))
    return findings
