"""Placement lint: will each consumer actually run on the tier its trigger names?

The scaler decides how many replicas each tier runs (README, "Tiers, policies and spill-over"); the kube-scheduler
decides where they land. A `tier: virtual` consumer that does not tolerate the virtual-node taint stays Pending while
its backlog grows, and one that mounts a Block Volume claim is created but never starts. Neither shows up as a
scaler error: the replica count is right and nothing consumes. These rules catch that before (``burst-scaler
check`` on manifests or a live cluster) and while (the server, on the target it scales) it happens.

Everything here is a pure function over plain dicts: Kubernetes objects as parsed YAML/JSON, camelCase keys, exactly
as ``kubectl get -o json`` or a manifest file spells them. No I/O, so the CLI and the server run the same rules.

- ``catalogue``: the rule ids, severities, summaries and fixes (the Markdown rule reference is rendered from it);
- ``readers``: defensive readers over untrusted dicts, and OKE's pod sizing;
- ``scheduling``: node selection and toleration semantics, as the kube-scheduler applies them;
- ``rules``: the tier rules over one pod template or workload;
- ``restrictions``: the Kubernetes features OKE virtual nodes refuse, one rule each;
- ``discovery``: which ScaledObjects/ScaledJobs name this scaler, and linting what they scale.

Judgement calls, kept here so they are visible:

- Virtual nodes: taint ``virtual-kubelet.io/provider`` is tolerated by a toleration with that key (operator Exists, or
  Equal with any value: the taint's value is not documented) or by an empty-key Exists toleration, with effect
  NoSchedule or empty. "Selecting" ``type=virtual-node`` means the nodeSelector has it, or every required node
  affinity term pins ``type In [virtual-node]`` (terms are ORed, so one loose term lets the pod land anywhere).
- Every PersistentVolumeClaim is flagged on virtual nodes: a pod spec does not say what backs a claim, and virtual
  nodes do not attach Block Volumes (OCI documentation, virtual nodes: Block Volume persistent volumes are not
  supported).
- "Privileged" is ``securityContext.privileged: true`` or an added capability outside the Kubernetes Pod Security
  Standards *baseline* set (SYS_ADMIN, NET_ADMIN, ALL, …): what a shared serverless host cannot grant.
- Virtual-node shape: at most 64 OCPU per pod and 15 GB ephemeral storage including the image (OCI documentation,
  "Virtual node pod resource allocation"). The pod is sized as OKE sizes it: per container the limit if set, else
  the request, else 0.125 OCPU; sidecars (init containers with ``restartPolicy: Always``) add to the regular
  containers; other init containers count at their peak; rounded up to a whole OCPU. No per-pod memory maximum is
  documented, so memory is not checked.
- Virtual-node restrictions (Oracle, "Comparing Virtual Nodes with Managed Nodes"): a request that differs from its
  limit is an error when both are set; a request without a limit is sized from the request and stays the
  ``virtual-unsized`` warning. The four unsupported pod security settings (fsGroup, sysctls, seccompProfile,
  supplementalGroups) are one rule, since one fix (drop them from the pod's securityContext) covers them. Only the
  pod-level fields are checked, as Oracle's list names pod settings; a container's own ``seccompProfile`` is not
  flagged. Sidecars are init containers, so ``virtual-init-containers`` flags them too.
- Managed tier: selecting a Karpenter NodePool (``karpenter.sh/nodepool`` in the nodeSelector or in every required
  affinity term) counts as selecting managed capacity, and then the ``workload-type=stateful`` toleration is not
  required. If the NodePool objects are among the input, the pod must tolerate their NoSchedule/NoExecute taints
  instead (an ``Exists`` selector on the label names no pool, so nothing more is checked).
- A ScaledObject whose target is not in the input is a *warning* (``target-not-found``): with ``-f`` the manifest may
  simply live elsewhere, so it must not fail CI. Only errors set the exit code.
"""

from scaler.placement.catalogue import (
    RULES,
    TIER_MANAGED,
    TIER_VIRTUAL,
    TIERS,
    Rule,
    RuleId,
    Severity,
    rules_markdown,
)
from scaler.placement.discovery import ScalerRef, burst_scalers, lint_objects
from scaler.placement.readers import Obj, parse_quantity
from scaler.placement.rules import Finding, ObjectRef, lint_pod_template, lint_workload
from scaler.placement.scheduling import Taint, nodepool_taints, tolerates

__all__ = [
    "RULES",
    "TIERS",
    "TIER_MANAGED",
    "TIER_VIRTUAL",
    "Finding",
    "Obj",
    "ObjectRef",
    "Rule",
    "RuleId",
    "ScalerRef",
    "Severity",
    "Taint",
    "burst_scalers",
    "lint_objects",
    "lint_pod_template",
    "lint_workload",
    "nodepool_taints",
    "parse_quantity",
    "rules_markdown",
    "tolerates",
]
