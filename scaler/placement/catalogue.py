"""The rule catalogue: the one declaration of what the placement lint checks, and the fix it proposes for each rule.

Users grep for a rule id and CI scripts parse it from the JSON report, so the ids are a closed set
(``RuleId``) whose values never change. :func:`rules_markdown` renders ``RULES`` as a Markdown reference, so a
published rule list comes from the same declaration as the checks and cannot drift from them.

A fix is one whole YAML (or prose) text per rule. The parts that depend on the finding are named slots, filled when
the finding is made: ``{pod_spec}`` is where the owner keeps its pod spec (a Deployment's ``spec.template.spec``, a
ScaledJob's ``spec.jobTargetRef.template.spec``), and a rule may declare more (the volume to replace, the
tolerations a NodePool needs) with the example values the generic fix shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

TIER_VIRTUAL: Final = "virtual"
TIER_MANAGED: Final = "managed"
TIERS: Final = (TIER_VIRTUAL, TIER_MANAGED)

VIRTUAL_NODE_LABEL: Final = ("type", "virtual-node")
VIRTUAL_NODE_TAINT_KEY: Final = "virtual-kubelet.io/provider"
STATEFUL_LABEL: Final = ("workload-type", "stateful")
STATEFUL_TAINT: Final = ("workload-type", "stateful", "NoSchedule")
NODEPOOL_LABEL: Final = "karpenter.sh/nodepool"

POD_SPEC_PATH: Final = "spec.template.spec"
"""Where a workload (Deployment, StatefulSet, DaemonSet, ...) keeps its pod spec: the path the generic fixes use."""
JOB_POD_SPEC_PATH: Final = "spec.jobTargetRef.template.spec"
"""Where a ScaledJob keeps its pod spec."""


class Severity(StrEnum):
    ERROR = "error"
    """The workload will not run where its tier says (or not at all): fails ``burst-scaler check``."""
    WARNING = "warning"
    """Worth a look, but the workload can run: reported, exit code unaffected."""


class RuleId(StrEnum):
    """The stable rule names; a member *is* its string, so reports and messages print the name unchanged."""

    VIRTUAL_MISSING_SELECTOR = "virtual-missing-selector"
    VIRTUAL_MISSING_TOLERATION = "virtual-missing-toleration"
    VIRTUAL_PVC = "virtual-pvc"
    VIRTUAL_HOSTPATH = "virtual-hostpath"
    VIRTUAL_HOST_NETWORK = "virtual-host-network"
    VIRTUAL_PRIVILEGED = "virtual-privileged"
    VIRTUAL_GPU = "virtual-gpu"
    VIRTUAL_DAEMONSET = "virtual-daemonset"
    VIRTUAL_SHAPE_LIMIT = "virtual-shape-limit"
    VIRTUAL_UNSIZED = "virtual-unsized"
    VIRTUAL_INIT_CONTAINERS = "virtual-init-containers"
    VIRTUAL_EPHEMERAL_CONTAINERS = "virtual-ephemeral-containers"
    VIRTUAL_EMPTYDIR_COUNT = "virtual-emptydir-count"
    VIRTUAL_EMPTYDIR_SIZE_LIMIT = "virtual-emptydir-size-limit"
    VIRTUAL_GRPC_PROBE = "virtual-grpc-probe"
    VIRTUAL_REQUESTS_DIFFER_FROM_LIMITS = "virtual-requests-differ-from-limits"
    VIRTUAL_HOST_PORT = "virtual-host-port"
    VIRTUAL_NODE_PORT_RANGE = "virtual-node-port-range"
    VIRTUAL_POD_SECURITY_CONTEXT = "virtual-pod-security-context"
    VIRTUAL_SHARE_PROCESS_NAMESPACE = "virtual-share-process-namespace"
    MANAGED_MISSING_SELECTOR = "managed-missing-selector"
    MANAGED_MISSING_TOLERATION = "managed-missing-toleration"
    MANAGED_NODEPOOL_TOLERATION = "managed-nodepool-toleration"
    UNKNOWN_TIER = "unknown-tier"
    TARGET_NOT_FOUND = "target-not-found"


@dataclass(frozen=True)
class Rule:
    """One check: its id is the stable name users grep for; its fix is a YAML template."""

    id: RuleId
    tier: str | None
    """``virtual``, ``managed``, or None for rules about the ScaledObject itself."""
    severity: Severity
    summary: str
    fix_template: str
    """The whole fix, with ``{pod_spec}`` and the slots named in ``examples`` (``str.format`` syntax)."""
    examples: Mapping[str, str] = field(default_factory=dict)
    """The value of each extra slot in the generic fix (see :attr:`fix`)."""

    def fix_for(self, *, pod_spec: str = POD_SPEC_PATH, **slots: str) -> str:
        """The fix for one finding: ``slots`` replace the examples of the same name."""
        return self.fix_template.format(pod_spec=pod_spec, **{**self.examples, **slots})

    @property
    def fix(self) -> str:
        """The generic fix, as the rule reference shows it (for a Deployment, with the example slot values)."""
        return self.fix_for()


def _rules(*rules: Rule) -> dict[RuleId, Rule]:
    return {rule.id: rule for rule in rules}


RULES: Final[Mapping[RuleId, Rule]] = _rules(
    Rule(
        RuleId.VIRTUAL_MISSING_SELECTOR,
        TIER_VIRTUAL,
        Severity.ERROR,
        "A virtual-tier pod must select virtual nodes (`type=virtual-node`), or the scheduler may put the burst on "
        "managed nodes.",
        "{pod_spec}:\n  nodeSelector:\n    type: virtual-node",
    ),
    Rule(
        RuleId.VIRTUAL_MISSING_TOLERATION,
        TIER_VIRTUAL,
        Severity.ERROR,
        "A virtual-tier pod must tolerate the `virtual-kubelet.io/provider` taint, or it stays Pending.",
        "{pod_spec}:\n  tolerations:\n  - key: virtual-kubelet.io/provider\n    operator: Exists\n"
        "    effect: NoSchedule",
    ),
    Rule(
        RuleId.VIRTUAL_PVC,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not attach Block Volume persistent volumes; a pod with a PersistentVolumeClaim (or an "
        "ephemeral volumeClaimTemplate, or a StatefulSet volumeClaimTemplate) never starts there.",
        "use an emptyDir (up to 15 GB ephemeral storage per pod) or object storage, or set `tier: managed`:\n"
        "{pod_spec}:\n  volumes:\n  - name: {volume}\n    emptyDir: {{}}",
        {"volume": "data"},
    ),
    Rule(
        RuleId.VIRTUAL_HOSTPATH,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes have no host filesystem to mount: hostPath volumes are not available.",
        "replace the hostPath volume with an emptyDir, configMap or secret, or set `tier: managed`:\n"
        "{pod_spec}:\n  volumes:\n  - name: {volume}\n    emptyDir: {{}}",
        {"volume": "cache"},
    ),
    Rule(
        RuleId.VIRTUAL_HOST_NETWORK,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Each virtual-node pod gets its own VCN IP and has no host network to join.",
        "{pod_spec}:\n  hostNetwork: false",
    ),
    Rule(
        RuleId.VIRTUAL_PRIVILEGED,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes are shared serverless hosts: no privileged containers and no capabilities beyond the Pod "
        "Security Standards baseline set (SYS_ADMIN, NET_ADMIN, ALL, …).",
        "drop privileged mode and extra capabilities, or set `tier: managed`:\nsecurityContext:\n  privileged: false\n"
        "  capabilities:\n    drop: [ALL]",
    ),
    Rule(
        RuleId.VIRTUAL_GPU,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes offer no GPUs; a pod requesting `*/gpu` never schedules there.",
        "GPU consumers belong on managed capacity: set `tier: managed` in the trigger and select a GPU NodePool:\n"
        "{pod_spec}:\n  nodeSelector:\n    karpenter.sh/nodepool: gpu",
    ),
    Rule(
        RuleId.VIRTUAL_DAEMONSET,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not run DaemonSets (and KEDA cannot scale one).",
        "scale a Deployment instead (`spec.scaleTargetRef.kind: Deployment`), or set `tier: managed`",
    ),
    Rule(
        RuleId.VIRTUAL_SHAPE_LIMIT,
        TIER_VIRTUAL,
        Severity.ERROR,
        "A virtual-node pod gets at most 64 OCPU (Pod.Standard.E3/E4.Flex) and 15 GB ephemeral storage including "
        "the image; sidecars add to the containers, init containers count at their peak.",
        "lower the containers' resources.limits so the whole pod fits, or set `tier: managed`",
    ),
    Rule(
        RuleId.VIRTUAL_UNSIZED,
        TIER_VIRTUAL,
        Severity.WARNING,
        "Virtual nodes size each pod from its containers' limits (else requests, else 0.125 OCPU / 0.5 GB); a "
        "container without cpu and memory limits gets a shape the scheduler did not assume.",
        "resources:\n  requests: {{cpu: 500m, memory: 1Gi}}\n  limits: {{cpu: 500m, memory: 1Gi}}",
    ),
    Rule(
        RuleId.VIRTUAL_INIT_CONTAINERS,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not run init containers, and so no sidecars (init containers with `restartPolicy: Always`).",
        "do the set-up in the main container's entrypoint, or in a Job before the rollout, or set `tier: managed`:\n"
        "{pod_spec}:\n  initContainers: []",
    ),
    Rule(
        RuleId.VIRTUAL_EPHEMERAL_CONTAINERS,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not support ephemeral containers.",
        "remove ephemeralContainers from the pod spec; to debug with `kubectl debug`, run a copy with "
        "`tier: managed`:\n{pod_spec}:\n  ephemeralContainers: []",
    ),
    Rule(
        RuleId.VIRTUAL_EMPTYDIR_COUNT,
        TIER_VIRTUAL,
        Severity.ERROR,
        "A virtual-node pod supports one emptyDir volume.",
        "mount one emptyDir at each path with subPath:\n{pod_spec}:\n  volumes:\n  - name: {volume}\n"
        "    emptyDir: {{}}\n  containers:\n  - volumeMounts:\n"
        "    - {{name: {volume}, mountPath: /tmp, subPath: tmp}}\n"
        "    - {{name: {volume}, mountPath: /var/cache/app, subPath: cache}}",
        {"volume": "scratch"},
    ),
    Rule(
        RuleId.VIRTUAL_EMPTYDIR_SIZE_LIMIT,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not support an emptyDir `sizeLimit`; the pod's ephemeral storage (15 GB including the "
        "image) bounds it.",
        "remove the sizeLimit (bound the pod with resources.limits.ephemeral-storage instead):\n{pod_spec}:\n"
        "  volumes:\n  - name: {volume}\n    emptyDir: {{}}",
        {"volume": "tmp"},
    ),
    Rule(
        RuleId.VIRTUAL_GRPC_PROBE,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not support gRPC probes (`livenessProbe`, `readinessProbe` or `startupProbe` with `grpc`).",
        "probe the port with tcpSocket (or httpGet, or an exec of grpc_health_probe) instead:\nreadinessProbe:\n"
        "  tcpSocket:\n    port: 6000",
    ),
    Rule(
        RuleId.VIRTUAL_REQUESTS_DIFFER_FROM_LIMITS,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes need each container's requests equal to its limits.",
        "resources:\n  requests: {{cpu: 500m, memory: 1Gi}}\n  limits: {{cpu: 500m, memory: 1Gi}}",
    ),
    Rule(
        RuleId.VIRTUAL_HOST_PORT,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual-node pods have no host ports: `hostPort` is not supported.",
        "remove hostPort and reach the pod through a Service:\nports:\n- containerPort: 8080",
    ),
    Rule(
        RuleId.VIRTUAL_NODE_PORT_RANGE,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not support a `containerPort` in the NodePort range 30000-32767.",
        "listen on a port outside 30000-32767 (a Service's nodePort may still forward to it):\nports:\n"
        "- containerPort: 8080",
    ),
    Rule(
        RuleId.VIRTUAL_POD_SECURITY_CONTEXT,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not support the pod security settings `fsGroup`, `sysctls`, `seccompProfile` and "
        "`supplementalGroups`.",
        "remove them from the pod's securityContext (runAsUser, runAsGroup and runAsNonRoot remain):\n{pod_spec}:\n"
        "  securityContext:\n    runAsNonRoot: true\n    runAsUser: 10001\n    runAsGroup: 10001",
    ),
    Rule(
        RuleId.VIRTUAL_SHARE_PROCESS_NAMESPACE,
        TIER_VIRTUAL,
        Severity.ERROR,
        "Virtual nodes do not support a process namespace shared between a pod's containers.",
        "{pod_spec}:\n  shareProcessNamespace: false",
    ),
    Rule(
        RuleId.MANAGED_MISSING_SELECTOR,
        TIER_MANAGED,
        Severity.ERROR,
        "A managed-tier pod must select managed capacity (`workload-type=stateful`, or a Karpenter NodePool through "
        "`karpenter.sh/nodepool`), or it may land on virtual nodes or on whatever else is free.",
        "{pod_spec}:\n  nodeSelector:\n    workload-type: stateful    # or karpenter.sh/nodepool: <pool>",
    ),
    Rule(
        RuleId.MANAGED_MISSING_TOLERATION,
        TIER_MANAGED,
        Severity.ERROR,
        "Managed nodes are tainted `workload-type=stateful:NoSchedule`; a managed-tier pod that selects them must "
        "tolerate it, or it stays Pending.",
        "{pod_spec}:\n  tolerations:\n  - key: workload-type\n    operator: Equal\n    value: stateful\n"
        "    effect: NoSchedule",
    ),
    Rule(
        RuleId.MANAGED_NODEPOOL_TOLERATION,
        TIER_MANAGED,
        Severity.ERROR,
        "A managed-tier pod that selects a Karpenter NodePool must tolerate that pool's taints (when the NodePool is "
        "among the checked objects), or Karpenter never launches a node for it.",
        "{pod_spec}:\n  tolerations:\n{tolerations}",
        {"tolerations": "  - key: <the NodePool's taint key>\n    operator: Exists\n    effect: NoSchedule"},
    ),
    Rule(
        RuleId.UNKNOWN_TIER,
        None,
        Severity.ERROR,
        "The trigger's `tier` metadata must be `virtual` or `managed`; the scaler rejects anything else.",
        "triggers:\n- metadata:\n    tier: virtual    # or managed",
    ),
    Rule(
        RuleId.TARGET_NOT_FOUND,
        None,
        Severity.WARNING,
        "The ScaledObject's target is not among the checked objects, so its placement was not checked.",
        "check the target's manifest too (add it to -f), or fix spec.scaleTargetRef",
    ),
)


def rules_markdown() -> str:
    """The rule reference as Markdown (a table, then each rule's summary and generic fix), rendered from ``RULES``."""
    sections = ["| rule | tier | severity | checks |", "|---|---|---|---|"]
    sections += [f"| `{r.id}` | {r.tier or 'any'} | {r.severity.value} | {r.summary} |" for r in RULES.values()]
    for rule in RULES.values():
        sections += ["", f"#### `{rule.id}`", "", rule.summary, "", "Fix:", "", "```", rule.fix, "```"]
    return "\n".join(sections) + "\n"


STATEFULSET_CLAIMS_FIX: Final = (
    "remove spec.volumeClaimTemplates (use an emptyDir or object storage), or set `tier: managed`"
)
"""The ``virtual-pvc`` fix when the claims come from a StatefulSet's volumeClaimTemplates, not from its pod spec."""
