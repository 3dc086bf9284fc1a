"""Placement lint: will each consumer actually run on the tier its trigger names?

The scaler decides how many replicas each tier runs (DESIGN §4); the kube-scheduler decides where they land. A
`tier: virtual` consumer that does not tolerate the virtual-node taint stays Pending while its backlog grows, and one
that mounts a Block Volume claim is created but never starts. Neither shows up as a scaler error: the replica count
is right and nothing consumes. These rules catch that before (``burst-scaler check`` on manifests or a live cluster)
and while (the server, on the target it scales) it happens.

Everything here is a pure function over plain dicts: Kubernetes objects as parsed YAML/JSON, camelCase keys, exactly
as ``kubectl get -o json`` or a manifest file spells them. No I/O, so the CLI and the server run the same rules.
``RULES`` is the one declaration of what is checked; the docs are generated from it.

Judgement calls, kept here so they are visible:

- Virtual nodes: taint ``virtual-kubelet.io/provider`` is tolerated by a toleration with that key (operator Exists, or
  Equal with any value: the taint's value is not documented) or by an empty-key Exists toleration, with effect
  NoSchedule or empty. "Selecting" ``type=virtual-node`` means the nodeSelector has it, or every required node
  affinity term pins ``type In [virtual-node]`` (terms are ORed, so one loose term lets the pod land anywhere).
- Every PersistentVolumeClaim is flagged on virtual nodes: a pod spec does not say what backs a claim, and virtual
  nodes do not attach Block Volumes (oke-karpenter.md §2, "Not supported").
- "Privileged" is ``securityContext.privileged: true`` or an added capability outside the Kubernetes Pod Security
  Standards *baseline* set (SYS_ADMIN, NET_ADMIN, ALL, …): what a shared serverless host cannot grant.
- Virtual-node shape: at most 64 OCPU per pod (Pod.Standard.E3.Flex/E4.Flex, oke-karpenter.md §2 "Per-pod max") and
  15 GB ephemeral storage including the image (§2 "Ephemeral storage"). The pod is sized as OKE sizes it: per
  container the limit if set, else the request, else 0.125 OCPU; sidecars (init containers with
  ``restartPolicy: Always``) add to the regular containers; other init containers count at their peak; rounded up to
  a whole OCPU. No per-pod memory maximum is documented, so memory is not checked.
- Managed tier: selecting a Karpenter NodePool (``karpenter.sh/nodepool`` in the nodeSelector or in every required
  affinity term) counts as selecting managed capacity, and then the ``workload-type=stateful`` toleration is not
  required. If the NodePool objects are among the input, the pod must tolerate their NoSchedule/NoExecute taints
  instead (an ``Exists`` selector on the label names no pool, so nothing more is checked).
- A ScaledObject whose target is not in the input is a *warning* (``target-not-found``): with ``-f`` the manifest may
  simply live elsewhere, so it must not fail CI. Only errors set the exit code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final

Obj = Mapping[str, Any]
"""A Kubernetes object (or part of one) as parsed JSON/YAML."""

TIER_VIRTUAL: Final = "virtual"
TIER_MANAGED: Final = "managed"
TIERS: Final = (TIER_VIRTUAL, TIER_MANAGED)

SCALER_SOURCES: Final = frozenset({"oci-queue", "oci-streaming"})
SCALER_TRIGGER_TYPES: Final = frozenset({"external", "external-push"})
SCALER_ADDRESS_MARK: Final = "burst-scaler"

VIRTUAL_NODE_LABEL: Final = ("type", "virtual-node")
VIRTUAL_NODE_TAINT_KEY: Final = "virtual-kubelet.io/provider"
STATEFUL_LABEL: Final = ("workload-type", "stateful")
STATEFUL_TAINT: Final = ("workload-type", "stateful", "NoSchedule")
NODEPOOL_LABEL: Final = "karpenter.sh/nodepool"

# oke-karpenter.md §2: "Per-pod max | 64 cores (128 vCPU) for Pod.Standard.E3.Flex/E4.Flex" (OKE counts pod CPU in
# OCPUs); "Ephemeral storage | 15 GB per pod incl. image"; "none ⇒ 0.125 OCPU/0.5 GB per container; rounded up to
# whole OCPU". No per-pod memory maximum is documented there, so none is enforced.
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

POD_SPEC_PATH: Final = "spec.template.spec"
_JOB_POD_SPEC_PATH: Final = "spec.jobTargetRef.template.spec"


class Severity(StrEnum):
    ERROR = "error"
    """The workload will not run where its tier says (or not at all): fails ``burst-scaler check``."""
    WARNING = "warning"
    """Worth a look, but the workload can run: reported, exit code unaffected."""


@dataclass(frozen=True)
class Rule:
    """One check: its id is the stable name users grep for and silence by; ``fix`` is generic YAML."""

    id: str
    tier: str | None
    """``virtual``, ``managed``, or None for rules about the ScaledObject itself."""
    severity: Severity
    summary: str
    fix: str


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


RULES: Final[Mapping[str, Rule]] = _rules(
    Rule(
        "virtual-missing-selector",
        TIER_VIRTUAL,
        Severity.ERROR,
        "A virtual-tier pod must select virtual nodes (`type=virtual-node`), or the scheduler may put the burst on "
        "managed nodes.",
        f"{POD_SPEC_PATH}:\n  nodeSelector:\n    type: virtual-node",
    ),
    Rule(
        "virtual-missing-toleration",
        TIER_VIRTUAL,
        Severity.ERROR,
        f"A virtual-tier pod must tolerate the `{VIRTUAL_NODE_TAINT_KEY}` taint, or it stays Pending.",
        f"{POD_SPEC_PATH}:\n  tolerations:\n  - key: {VIRTUAL_NODE_TAINT_KEY}\n    operator: Exists\n"
        "    effect: NoSchedule",
    ),
    Rule(
        "virtual-pvc",
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not attach Block Volume persistent volumes; a pod with a PersistentVolumeClaim (or an "
        "ephemeral volumeClaimTemplate, or a StatefulSet volumeClaimTemplate) never starts there.",
        "use an emptyDir (up to 15 GB ephemeral storage per pod) or object storage, or set `tier: managed`:\n"
        f"{POD_SPEC_PATH}:\n  volumes:\n  - name: data\n    emptyDir: {{}}",
    ),
    Rule(
        "virtual-hostpath",
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes have no host filesystem to mount: hostPath volumes are not available.",
        "replace the hostPath volume with an emptyDir, configMap or secret, or set `tier: managed`:\n"
        f"{POD_SPEC_PATH}:\n  volumes:\n  - name: cache\n    emptyDir: {{}}",
    ),
    Rule(
        "virtual-host-network",
        TIER_VIRTUAL,
        Severity.ERROR,
        "Each virtual-node pod gets its own VCN IP and has no host network to join.",
        f"{POD_SPEC_PATH}:\n  hostNetwork: false",
    ),
    Rule(
        "virtual-privileged",
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes are shared serverless hosts: no privileged containers and no capabilities beyond the Pod "
        "Security Standards baseline set (SYS_ADMIN, NET_ADMIN, ALL, …).",
        "drop privileged mode and extra capabilities, or set `tier: managed`:\nsecurityContext:\n  privileged: false\n"
        "  capabilities:\n    drop: [ALL]",
    ),
    Rule(
        "virtual-gpu",
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes offer no GPUs; a pod requesting `*/gpu` never schedules there.",
        "GPU consumers belong on managed capacity: set `tier: managed` in the trigger and select a GPU NodePool:\n"
        f"{POD_SPEC_PATH}:\n  nodeSelector:\n    {NODEPOOL_LABEL}: gpu",
    ),
    Rule(
        "virtual-daemonset",
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not run DaemonSets (and KEDA cannot scale one).",
        "scale a Deployment instead (`spec.scaleTargetRef.kind: Deployment`), or set `tier: managed`",
    ),
    Rule(
        "virtual-shape-limit",
        TIER_VIRTUAL,
        Severity.ERROR,
        "A virtual-node pod gets at most 64 OCPU (Pod.Standard.E3/E4.Flex) and 15 GB ephemeral storage including "
        "the image; sidecars add to the containers, init containers count at their peak.",
        "lower the containers' resources.limits so the whole pod fits, or set `tier: managed`",
    ),
    Rule(
        "virtual-unsized",
        TIER_VIRTUAL,
        Severity.WARNING,
        "Virtual nodes size each pod from its containers' limits (else requests, else 0.125 OCPU / 0.5 GB); OKE "
        "recommends requests equal to limits for cpu and memory.",
        "resources:\n  requests: {cpu: 500m, memory: 1Gi}\n  limits: {cpu: 500m, memory: 1Gi}",
    ),
    Rule(
        "managed-missing-selector",
        TIER_MANAGED,
        Severity.ERROR,
        "A managed-tier pod must select managed capacity (`workload-type=stateful`, or a Karpenter NodePool through "
        f"`{NODEPOOL_LABEL}`), or it may land on virtual nodes or on whatever else is free.",
        f"{POD_SPEC_PATH}:\n  nodeSelector:\n    workload-type: stateful    # or {NODEPOOL_LABEL}: <pool>",
    ),
    Rule(
        "managed-missing-toleration",
        TIER_MANAGED,
        Severity.ERROR,
        "Managed nodes are tainted `workload-type=stateful:NoSchedule`; a managed-tier pod that selects them must "
        "tolerate it, or it stays Pending.",
        f"{POD_SPEC_PATH}:\n  tolerations:\n  - key: workload-type\n    operator: Equal\n    value: stateful\n"
        "    effect: NoSchedule",
    ),
    Rule(
        "managed-nodepool-toleration",
        TIER_MANAGED,
        Severity.ERROR,
        "A managed-tier pod that selects a Karpenter NodePool must tolerate that pool's taints (when the NodePool is "
        "among the checked objects), or Karpenter never launches a node for it.",
        f"{POD_SPEC_PATH}:\n  tolerations:\n  - key: <the NodePool's taint key>\n    operator: Exists\n"
        "    effect: NoSchedule",
    ),
    Rule(
        "unknown-tier",
        None,
        Severity.ERROR,
        "The trigger's `tier` metadata must be `virtual` or `managed`; the scaler rejects anything else.",
        "triggers:\n- metadata:\n    tier: virtual    # or managed",
    ),
    Rule(
        "target-not-found",
        None,
        Severity.WARNING,
        "The ScaledObject's target is not among the checked objects, so its placement was not checked.",
        "check the target's manifest too (add it to -f), or fix spec.scaleTargetRef",
    ),
)


def rules_markdown() -> str:
    """The rule reference for the docs, generated from ``RULES``."""
    sections = ["| rule | tier | severity | checks |", "|---|---|---|---|"]
    sections += [f"| `{r.id}` | {r.tier or 'any'} | {r.severity.value} | {r.summary} |" for r in RULES.values()]
    for rule in RULES.values():
        sections += ["", f"#### `{rule.id}`", "", rule.summary, "", "Fix:", "", "```", rule.fix, "```"]
    return "\n".join(sections) + "\n"


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
    rule: str
    message: str
    fix: str
    severity: Severity

    @property
    def object(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class ScalerRef:
    """A ScaledObject or ScaledJob with at least one trigger that names this scaler."""

    kind: str
    namespace: str
    name: str
    tiers: tuple[str, ...]
    """Distinct ``tier`` values of its triggers, in order (empty: no placement rules apply)."""


Taint = tuple[str, str, str]
"""(key, value, effect) of a node taint."""


# ---------------------------------------------------------------------------------------------------------------------
# Small readers over untrusted dicts: a manifest may have any shape, and a lint must not crash on a typo.


def _map(value: Any) -> Obj:
    return value if isinstance(value, Mapping) else {}


def _maps(value: Any) -> list[Obj]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _containers(spec: Obj) -> Iterator[tuple[str, Obj]]:
    """(description, container) for every container and init container."""
    for field, label in (("initContainers", "init container"), ("containers", "container")):
        for container in _maps(spec.get(field)):
            yield f"{label} {_str(container.get('name')) or '?'!r}", container


def _names(items: Sequence[str]) -> str:
    return ", ".join(items)


_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_SUFFIX: Final[Mapping[str, Decimal]] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity (``500m``, ``2``, ``1.5Gi``, ``1e3``) as a number; None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    try:
        result = Decimal(number) * _SUFFIX[suffix or ""]
        if exponent is not None:
            if abs(int(exponent)) > 30:  # no real quantity is that large; refuse rather than build a huge number
                return None
            result = result.scaleb(int(exponent))
    except (InvalidOperation, ValueError):
        return None
    return result


def _resource(container: Obj, section: str, name: str) -> Decimal | None:
    return parse_quantity(_map(_map(container.get("resources")).get(section)).get(name))


def _sized(container: Obj, name: str, default: Decimal) -> Decimal:
    """OKE's per-container sizing: the limit if set, else the request, else the default."""
    for section in ("limits", "requests"):
        value = _resource(container, section, name)
        if value is not None:
            return value
    return default


def _pod_total(spec: Obj, size: Callable[[Obj], Decimal]) -> Decimal:
    """Kubernetes' effective pod amount: regular containers plus sidecars, or the init-phase peak if larger."""
    sidecars = Decimal(0)
    init_peak = Decimal(0)
    for container in _maps(spec.get("initContainers")):
        amount = size(container)
        if container.get("restartPolicy") == "Always":
            sidecars += amount
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, sidecars + amount)
    regular = sum((size(c) for c in _maps(spec.get("containers"))), Decimal(0))
    return max(regular + sidecars, init_peak)


def _with_volume_name(fix: str, placeholder: str, name: str) -> str:
    return fix.replace(f"- name: {placeholder}\n", f"- name: {name}\n")


def _yaml_scalar(text: str) -> str:
    return text if text else '""'


def _fmt(number: Decimal) -> str:
    return f"{number.normalize():f}"


# ---------------------------------------------------------------------------------------------------------------------
# Scheduling: node selection and tolerations.


def _required_terms(spec: Obj) -> list[Obj]:
    affinity = _map(_map(spec.get("affinity")).get("nodeAffinity"))
    required = _map(affinity.get("requiredDuringSchedulingIgnoredDuringExecution"))
    return _maps(required.get("nodeSelectorTerms"))


def _term_values(term: Obj, key: str) -> tuple[str, ...] | None:
    """Values a required node-affinity term pins ``key`` to (``In``); ``()`` for ``Exists``; None if it does not."""
    for expression in _maps(term.get("matchExpressions")):
        if expression.get("key") != key:
            continue
        operator = expression.get("operator")
        values = expression.get("values")
        if operator == "In" and isinstance(values, list) and values:
            return tuple(str(v) for v in values)
        if operator == "Exists":
            return ()
    return None


def _selects_label(spec: Obj, key: str, value: str) -> bool:
    """nodeSelector has key=value, or every required affinity term pins key In [value]."""
    if _map(spec.get("nodeSelector")).get(key) == value:
        return True
    terms = _required_terms(spec)
    return bool(terms) and all(_term_values(term, key) == (value,) for term in terms)


def _selected_nodepools(spec: Obj) -> tuple[str, ...] | None:
    """NodePools the pod is pinned to through ``karpenter.sh/nodepool``: names, ``()`` for any, None if not pinned."""
    selected = _map(spec.get("nodeSelector")).get(NODEPOOL_LABEL)
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


def _pins_managed(spec: Obj) -> bool:
    """Every way the pod can schedule leads to stateful nodes or to a Karpenter NodePool."""
    node_selector = _map(spec.get("nodeSelector"))
    if node_selector.get(STATEFUL_LABEL[0]) == STATEFUL_LABEL[1] or _str(node_selector.get(NODEPOOL_LABEL)):
        return True
    terms = _required_terms(spec)
    return bool(terms) and all(
        _term_values(term, STATEFUL_LABEL[0]) == (STATEFUL_LABEL[1],) or _term_values(term, NODEPOOL_LABEL) is not None
        for term in terms
    )


def tolerates(tolerations: Iterable[Obj], key: str, value: str | None, effect: str) -> bool:
    """Kubernetes toleration matching; ``value=None`` accepts an ``Equal`` toleration with any value."""
    for toleration in tolerations:
        toleration_effect = _str(toleration.get("effect"))
        if toleration_effect and toleration_effect != effect:
            continue
        operator = _str(toleration.get("operator")) or "Equal"
        toleration_key = _str(toleration.get("key"))
        if not toleration_key:
            if operator == "Exists":
                return True
            continue
        if toleration_key != key:
            continue
        if operator == "Exists":
            return True
        if operator == "Equal" and (value is None or _str(toleration.get("value")) == value):
            return True
    return False


def nodepool_taints(objects: Iterable[Obj]) -> dict[str, tuple[Taint, ...]]:
    """Karpenter NodePools among ``objects``: name → the taints its nodes carry (``spec.template.spec.taints``)."""
    pools: dict[str, tuple[Taint, ...]] = {}
    for obj in objects:
        if obj.get("kind") != "NodePool" or not _str(obj.get("apiVersion")).startswith("karpenter.sh/"):
            continue
        name = _str(_map(obj.get("metadata")).get("name"))
        taints = _maps(_map(_map(_map(obj.get("spec")).get("template")).get("spec")).get("taints"))
        if name:
            pools[name] = tuple(
                (_str(t.get("key")), _str(t.get("value")), _str(t.get("effect")) or "NoSchedule") for t in taints
            )
    return pools


# ---------------------------------------------------------------------------------------------------------------------
# The rules.


class _Report:
    """Collects findings for one owner; fixes are written for the owner's pod-spec path."""

    def __init__(self, owner: ObjectRef) -> None:
        self.owner = owner
        self.findings: list[Finding] = []
        self._path = _JOB_POD_SPEC_PATH if owner.kind == "ScaledJob" else POD_SPEC_PATH

    def add(self, rule_id: str, message: str, fix: str | None = None) -> None:
        rule = RULES[rule_id]
        self.findings.append(
            Finding(
                kind=self.owner.kind,
                namespace=self.owner.namespace,
                name=self.owner.name,
                scaled_object=self.owner.scaled_object,
                rule=rule_id,
                message=message,
                fix=(fix if fix is not None else rule.fix).replace(POD_SPEC_PATH, self._path),
                severity=rule.severity,
            )
        )


def _lint_virtual(spec: Obj, report: _Report) -> None:
    if not _selects_label(spec, *VIRTUAL_NODE_LABEL):
        report.add(
            "virtual-missing-selector",
            "tier virtual, but the pod does not select virtual nodes (nodeSelector type: virtual-node, or a required "
            "node affinity pinning type In [virtual-node])",
        )
    if not tolerates(_maps(spec.get("tolerations")), VIRTUAL_NODE_TAINT_KEY, None, "NoSchedule"):
        report.add(
            "virtual-missing-toleration",
            f"tier virtual, but the pod does not tolerate the {VIRTUAL_NODE_TAINT_KEY}:NoSchedule taint; it will stay "
            "Pending",
        )

    volumes = _maps(spec.get("volumes"))
    claim_volumes = [
        _str(v.get("name")) or "data"
        for v in volumes
        if "persistentVolumeClaim" in v or "volumeClaimTemplate" in _map(v.get("ephemeral"))
    ]
    claims = [
        f"{_str(v.get('name')) or '?'!r} (claim {_str(_map(v['persistentVolumeClaim']).get('claimName')) or '?'!r})"
        for v in volumes
        if "persistentVolumeClaim" in v
    ]
    claims += [
        f"{_str(v.get('name')) or '?'!r} (ephemeral volumeClaimTemplate)"
        for v in volumes
        if "volumeClaimTemplate" in _map(v.get("ephemeral"))
    ]
    if claims:
        report.add(
            "virtual-pvc",
            f"tier virtual, but volume {_names(claims)} needs a persistent volume; virtual nodes do not attach Block "
            "Volumes, so the pod never starts",
            _with_volume_name(RULES["virtual-pvc"].fix, "data", claim_volumes[0]),
        )
    host_path_volumes = [_str(v.get("name")) or "cache" for v in volumes if "hostPath" in v]
    host_paths = [
        f"{_str(v.get('name')) or '?'!r} ({_str(_map(v['hostPath']).get('path')) or '?'})"
        for v in volumes
        if "hostPath" in v
    ]
    if host_paths:
        report.add(
            "virtual-hostpath",
            f"tier virtual, but volume {_names(host_paths)} is a hostPath",
            _with_volume_name(RULES["virtual-hostpath"].fix, "cache", host_path_volumes[0]),
        )
    if _is_true(spec.get("hostNetwork")):
        report.add("virtual-host-network", "tier virtual, but the pod sets hostNetwork: true")

    privileged: list[str] = []
    gpus: list[str] = []
    for label, container in _containers(spec):
        security = _map(container.get("securityContext"))
        if _is_true(security.get("privileged")):
            privileged.append(f"{label} is privileged")
        added = [
            str(cap).upper().removeprefix("CAP_")
            for cap in _map(security.get("capabilities")).get("add") or []
            if isinstance(cap, str)
        ]
        extra = [cap for cap in added if cap not in BASELINE_CAPABILITIES]
        if extra:
            privileged.append(f"{label} adds capabilities {_names(extra)}")
        resources = _map(container.get("resources"))
        gpu_names = sorted(
            {
                str(name)
                for section in ("requests", "limits")
                for name in _map(resources.get(section))
                if str(name).endswith("/gpu")
            }
        )
        if gpu_names:
            gpus.append(f"{label} requests {_names(gpu_names)}")
    if privileged:
        report.add("virtual-privileged", f"tier virtual, but {'; '.join(privileged)}")
    if gpus:
        report.add("virtual-gpu", f"tier virtual, but {'; '.join(gpus)}; virtual nodes have no GPUs")

    _lint_virtual_shape(spec, report)


def _lint_virtual_shape(spec: Obj, report: _Report) -> None:
    problems: list[str] = []
    ocpu = _pod_total(spec, lambda c: _sized(c, "cpu", VIRTUAL_DEFAULT_CONTAINER_OCPU))
    rounded = Decimal(math.ceil(ocpu))
    if rounded > VIRTUAL_MAX_POD_OCPU:
        problems.append(
            f"the pod is sized at {_fmt(rounded)} OCPU (containers, sidecars and init containers: limit, else "
            f"request, else {_fmt(VIRTUAL_DEFAULT_CONTAINER_OCPU)}; rounded up) but a virtual-node pod gets at most "
            f"{_fmt(VIRTUAL_MAX_POD_OCPU)}"
        )
    storage = _pod_total(spec, lambda c: _sized(c, "ephemeral-storage", Decimal(0)))
    if storage > VIRTUAL_MAX_POD_EPHEMERAL_STORAGE:
        problems.append(
            f"the pod asks for {_fmt(storage / Decimal(10**9))} GB ephemeral storage but a virtual-node pod has "
            f"{_fmt(VIRTUAL_MAX_POD_EPHEMERAL_STORAGE / Decimal(10**9))} GB including the image"
        )
    if problems:
        report.add("virtual-shape-limit", f"tier virtual, but {'; '.join(problems)}")

    unsized: list[str] = []
    for label, container in _containers(spec):
        missing = [name for name in ("cpu", "memory") if _resource(container, "limits", name) is None]
        differs = [
            name
            for name in ("cpu", "memory")
            if name not in missing
            and _resource(container, "requests", name) not in (None, _resource(container, "limits", name))
        ]
        if missing:
            unsized.append(f"{label} has no {' or '.join(missing)} limit")
        elif differs:
            unsized.append(f"{label} requests less {' and '.join(differs)} than its limit")
    if unsized:
        report.add(
            "virtual-unsized",
            f"tier virtual: {'; '.join(unsized)}; the pod shape is then not what the scheduler assumed",
        )


def _lint_managed(spec: Obj, report: _Report, node_pools: Mapping[str, Sequence[Taint]]) -> None:
    tolerations = _maps(spec.get("tolerations"))
    pools = _selected_nodepools(spec)
    if not _pins_managed(spec):
        report.add(
            "managed-missing-selector",
            f"tier managed, but the pod does not select managed capacity (nodeSelector workload-type: stateful or "
            f"{NODEPOOL_LABEL}: <pool>, or a required node affinity on one of them)",
        )
    if pools is None and not tolerates(tolerations, *STATEFUL_TAINT):
        report.add(
            "managed-missing-toleration",
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
            fix = f"{POD_SPEC_PATH}:\n  tolerations:\n" + "".join(
                f"  - key: {key}\n    operator: Equal\n    value: {_yaml_scalar(value)}\n    effect: {effect}\n"
                for key, value, effect in untolerated
            )
            report.add(
                "managed-nodepool-toleration",
                f"tier managed, NodePool {pool!r} taints its nodes "
                f"{_names([f'{k}={v}:{e}' for k, v, e in untolerated])} and the pod does not tolerate them; Karpenter "
                "will not launch a node for it",
                fix.rstrip("\n"),
            )


def lint_pod_template(
    template: Obj,
    *,
    tier: str,
    owner: ObjectRef,
    node_pools: Mapping[str, Sequence[Taint]] | None = None,
) -> list[Finding]:
    """Findings for one pod template (``spec.template``) under ``tier``; an unknown tier has no rules here.

    ``node_pools`` (NodePool name → taints, see :func:`nodepool_taints`) enables the NodePool toleration check for
    managed pods that select a pool by name.
    """
    spec = _map(_map(template).get("spec"))
    report = _Report(owner)
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
    metadata = _map(workload.get("metadata"))
    kind = _str(workload.get("kind"))
    owner = ObjectRef(
        kind=kind,
        namespace=_str(metadata.get("namespace")) or default_namespace,
        name=_str(metadata.get("name")),
        scaled_object=scaled_object,
    )
    spec = _map(workload.get("spec"))
    findings: list[Finding] = []
    if tier == TIER_VIRTUAL:
        extra = _Report(owner)
        if kind == "DaemonSet":
            extra.add("virtual-daemonset", "tier virtual, but the target is a DaemonSet; virtual nodes do not run them")
        templates = [_str(_map(t.get("metadata")).get("name")) or "?" for t in _maps(spec.get("volumeClaimTemplates"))]
        if templates:
            extra.add(
                "virtual-pvc",
                f"tier virtual, but the StatefulSet's volumeClaimTemplates ({_names(templates)}) need persistent "
                "volumes; virtual nodes do not attach Block Volumes, so the pods never start",
                "remove spec.volumeClaimTemplates (use an emptyDir or object storage), or set `tier: managed`",
            )
        findings.extend(extra.findings)
    findings.extend(lint_pod_template(_map(spec.get("template")), tier=tier, owner=owner, node_pools=node_pools))
    return findings


# ---------------------------------------------------------------------------------------------------------------------
# ScaledObjects and ScaledJobs: which ones are ours, and what they scale.


def _triggers_naming_us(obj: Obj) -> list[Obj]:
    """Trigger metadata of the triggers that name this scaler (external/external-push with our source or address)."""
    found: list[Obj] = []
    for trigger in _maps(_map(obj.get("spec")).get("triggers")):
        if trigger.get("type") not in SCALER_TRIGGER_TYPES:
            continue
        metadata = _map(trigger.get("metadata"))
        if metadata.get("source") in SCALER_SOURCES or SCALER_ADDRESS_MARK in _str(metadata.get("scalerAddress")):
            found.append(metadata)
    return found


def _is_keda(obj: Obj, kind: str) -> bool:
    return obj.get("kind") == kind and _str(obj.get("apiVersion")).startswith("keda.sh/")


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
        metadata = _map(obj.get("metadata"))
        refs.append(
            ScalerRef(
                kind=_str(obj.get("kind")),
                namespace=_str(metadata.get("namespace")) or default_namespace,
                name=_str(metadata.get("name")),
                tiers=tuple(tiers),
            )
        )
    return refs


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


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
        metadata = _map(obj.get("metadata"))
        key = (
            _group(_str(obj.get("apiVersion"))),
            _str(obj.get("kind")),
            _str(metadata.get("namespace")) or default_namespace,
            _str(metadata.get("name")),
        )
        by_key.setdefault(key, obj)

    scalers = {
        (ref.kind, ref.namespace, ref.name): ref for ref in burst_scalers(items, default_namespace=default_namespace)
    }
    findings: list[Finding] = []
    for obj in items:
        metadata = _map(obj.get("metadata"))
        ref = scalers.get(
            (_str(obj.get("kind")), _str(metadata.get("namespace")) or default_namespace, _str(metadata.get("name")))
        )
        if ref is None:
            continue
        self_ref = ObjectRef(ref.kind, ref.namespace, ref.name, ref.name)
        for tier in ref.tiers:
            if tier not in TIERS:
                report = _Report(self_ref)
                report.add("unknown-tier", f"trigger metadata tier: {tier!r} is neither 'virtual' nor 'managed'")
                findings.extend(report.findings)
                continue
            spec = _map(obj.get("spec"))
            if ref.kind == "ScaledJob":
                template = _map(_map(spec.get("jobTargetRef")).get("template"))
                if not template:
                    report = _Report(self_ref)
                    report.add("target-not-found", "the ScaledJob has no spec.jobTargetRef.template to check")
                    findings.extend(report.findings)
                    continue
                findings.extend(lint_pod_template(template, tier=tier, owner=self_ref, node_pools=node_pools))
                continue
            target = _map(spec.get("scaleTargetRef"))
            kind = _str(target.get("kind")) or "Deployment"
            name = _str(target.get("name"))
            workload = by_key.get((_group(_str(target.get("apiVersion")) or "apps/v1"), kind, ref.namespace, name))
            if workload is None:
                report = _Report(ObjectRef(kind, ref.namespace, name or "?", ref.name))
                report.add(
                    "target-not-found",
                    f"scaleTargetRef {kind} {ref.namespace}/{name or '?'} is not among the checked objects; its "
                    f"placement for tier {tier} was not checked",
                )
                findings.extend(report.findings)
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
