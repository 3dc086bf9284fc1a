"""What a burst did to the cluster, as pure functions over Kubernetes JSON: counts per sample, then milestones.

Each sample lists the watched Deployments, their pods and the nodes (and Karpenter NodeClaims when that CRD
exists), and turns them into counts: replicas per Deployment, pods per tier (Running on a ``type=virtual-node``
node, Running on any other node, or Pending), nodes added since the start. From the samples come the milestones:
time from the first message (first backlog > 0, when a backlog source is given) to the first new pod, to the peak,
to drained and to scaled back. No I/O here, so all of it is tested without a cluster (load.observe reads the API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VIRTUAL = "virtual"
MANAGED = "managed"
PENDING = "pending"
TIERS: tuple[str, ...] = (VIRTUAL, MANAGED, PENDING)
VIRTUAL_NODE_LABEL = ("type", "virtual-node")


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("name") or "")


def is_virtual_node(node: Mapping[str, Any]) -> bool:
    key, value = VIRTUAL_NODE_LABEL
    return _labels(node).get(key) == value


def pod_tier(pod: Mapping[str, Any], virtual_nodes: frozenset[str]) -> str | None:
    """``pending`` (phase Pending), ``virtual`` / ``managed`` (Running, by its node), None when finished."""
    phase = pod.get("status", {}).get("phase") or "Pending"
    node = pod.get("spec", {}).get("nodeName")
    if phase == "Pending":
        return PENDING
    if phase != "Running":
        return None  # Succeeded, Failed, Unknown: not serving
    if not node:
        return PENDING
    return VIRTUAL if node in virtual_nodes else MANAGED


def selects(deployment: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """Whether the Deployment's ``matchLabels`` select the pod (``matchExpressions`` are not evaluated)."""
    wanted = deployment.get("spec", {}).get("selector", {}).get("matchLabels") or {}
    labels = _labels(pod)
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def _ready(obj: Mapping[str, Any]) -> bool:
    conditions = obj.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@dataclass(frozen=True)
class ClusterState:
    """One reading of the watched part of the cluster."""

    replicas: Mapping[str, int]
    """Desired replicas (``spec.replicas``) per Deployment."""
    ready: Mapping[str, int]
    """``status.readyReplicas`` per Deployment."""
    pods: Mapping[str, int]
    """Pods of the watched Deployments per tier (virtual, managed, pending)."""
    pods_by_deployment: Mapping[str, Mapping[str, int]]
    pod_ids: frozenset[str]
    running_ids: frozenset[str]
    nodes: frozenset[str]
    virtual_nodes: frozenset[str]
    nodeclaims: frozenset[str] | None
    """Karpenter NodeClaim names; None when the CRD is not installed."""
    nodeclaims_ready: int | None

    @property
    def replicas_total(self) -> int:
        return sum(self.replicas.values())


def cluster_state(
    *,
    deployments: Sequence[Mapping[str, Any]],
    pods: Sequence[Mapping[str, Any]],
    nodes: Sequence[Mapping[str, Any]],
    nodeclaims: Sequence[Mapping[str, Any]] | None,
) -> ClusterState:
    """Classify raw Kubernetes JSON into counts; pods not selected by a watched Deployment are ignored."""
    virtual = frozenset(name_of(n) for n in nodes if is_virtual_node(n))
    by_deployment: dict[str, dict[str, int]] = {}
    totals = dict.fromkeys(TIERS, 0)
    pod_ids: set[str] = set()
    running: set[str] = set()
    for deployment in deployments:
        counts = dict.fromkeys(TIERS, 0)
        for pod in pods:
            if not selects(deployment, pod):
                continue
            tier = pod_tier(pod, virtual)
            if tier is None:
                continue
            counts[tier] += 1
            totals[tier] += 1
            uid = str(pod.get("metadata", {}).get("uid") or name_of(pod))
            pod_ids.add(uid)
            if tier != PENDING:
                running.add(uid)
        by_deployment[name_of(deployment)] = counts
    return ClusterState(
        replicas={name_of(d): int(d.get("spec", {}).get("replicas") or 0) for d in deployments},
        ready={name_of(d): int(d.get("status", {}).get("readyReplicas") or 0) for d in deployments},
        pods=totals,
        pods_by_deployment=by_deployment,
        pod_ids=frozenset(pod_ids),
        running_ids=frozenset(running),
        nodes=frozenset(name_of(n) for n in nodes),
        virtual_nodes=virtual,
        nodeclaims=None if nodeclaims is None else frozenset(name_of(c) for c in nodeclaims),
        nodeclaims_ready=None if nodeclaims is None else sum(1 for c in nodeclaims if _ready(c)),
    )


@dataclass(frozen=True)
class Sample:
    """One observation, relative to the first one."""

    t: float
    backlog: float | None
    state: ClusterState
    new_pods: int
    """Pods (of watched Deployments) existing now that did not exist at the first sample."""
    new_pods_running: int
    nodes_added: int
    nodeclaims_created: int | None

    def row(self) -> dict[str, Any]:
        """The timeline CSV row."""
        s = self.state
        row: dict[str, Any] = {"t": round(self.t, 3), "backlog": self.backlog}
        for name in sorted(s.replicas):
            row[f"replicas_{name}"] = s.replicas[name]
            row[f"ready_{name}"] = s.ready[name]
        row.update({f"pods_{tier}": s.pods[tier] for tier in TIERS})
        row.update(
            nodes=len(s.nodes),
            virtual_nodes=len(s.virtual_nodes),
            nodes_added=self.nodes_added,
            nodeclaims=None if s.nodeclaims is None else len(s.nodeclaims),
            new_pods=self.new_pods,
        )
        return row


def sample_of(t: float, backlog: float | None, state: ClusterState, first: ClusterState) -> Sample:
    claims = None
    if state.nodeclaims is not None:
        claims = len(state.nodeclaims - (first.nodeclaims or frozenset()))
    return Sample(
        t=t,
        backlog=backlog,
        state=state,
        new_pods=len(state.pod_ids - first.pod_ids),
        new_pods_running=len(state.running_ids - first.pod_ids),
        nodes_added=len(state.nodes - first.nodes),
        nodeclaims_created=claims,
    )


@dataclass(frozen=True)
class Milestones:
    """Seconds from the reference instant (the first message, or the start of observation without a backlog)."""

    reference: str
    """``first-backlog`` or ``observe-start``."""
    first_message_at: float | None
    """Seconds after the start of observation when backlog was first seen above 0."""
    first_new_pod: float | None = None
    first_new_pod_running: float | None = None
    peak: float | None = None
    """When total desired replicas first reached their maximum (only if above the starting count)."""
    peak_replicas: int = 0
    drained: float | None = None
    """When backlog was back to 0 after the first message."""
    scaled_back: float | None = None
    """When total desired replicas were back to the starting count after the peak."""


def milestones(samples: Sequence[Sample]) -> Milestones:
    if not samples:
        return Milestones(reference="observe-start", first_message_at=None)
    first_backlog = next((s.t for s in samples if s.backlog is not None and s.backlog > 0), None)
    t0 = samples[0].t if first_backlog is None else first_backlog
    reference = "observe-start" if first_backlog is None else "first-backlog"

    def since(t: float | None) -> float | None:
        return None if t is None else round(t - t0, 3)

    baseline = samples[0].state.replicas_total
    peak_replicas = max(s.state.replicas_total for s in samples)
    peak_at = next((s.t for s in samples if s.state.replicas_total == peak_replicas), None)
    if peak_replicas <= baseline:
        peak_at = None
    drained = None
    if first_backlog is not None:
        drained = next((s.t for s in samples if s.t > first_backlog and s.backlog == 0), None)
    scaled_back = None
    if peak_at is not None:
        scaled_back = next((s.t for s in samples if s.t > peak_at and s.state.replicas_total <= baseline), None)
    return Milestones(
        reference=reference,
        first_message_at=first_backlog,
        first_new_pod=since(next((s.t for s in samples if s.new_pods > 0), None)),
        first_new_pod_running=since(next((s.t for s in samples if s.new_pods_running > 0), None)),
        peak=since(peak_at),
        peak_replicas=peak_replicas,
        drained=since(drained),
        scaled_back=since(scaled_back),
    )


@dataclass(frozen=True)
class ObserveReport:
    samples: int
    duration: float
    milestones: Milestones
    peak_pods: Mapping[str, int] = field(default_factory=dict)
    """Most pods seen at once per tier."""
    peak_replicas: Mapping[str, int] = field(default_factory=dict)
    """Most desired replicas seen per Deployment."""
    peak_backlog: float | None = None
    new_pods: int = 0
    """Distinct pods created during the observation."""
    nodes_added: int = 0
    """Distinct nodes that appeared during the observation."""
    nodeclaims_created: int | None = None
    """Distinct Karpenter NodeClaims created; None when the CRD is absent."""
    errors: int = 0


def summarize(samples: Sequence[Sample], *, errors: int = 0) -> ObserveReport:
    if not samples:
        return ObserveReport(samples=0, duration=0.0, milestones=milestones(samples), errors=errors)
    first = samples[0].state
    names = sorted({name for s in samples for name in s.state.replicas})
    backlogs = [s.backlog for s in samples if s.backlog is not None]
    claims: set[str] = set()
    for s in samples:
        claims |= s.state.nodeclaims or frozenset()
    has_claims = any(s.state.nodeclaims is not None for s in samples)
    return ObserveReport(
        samples=len(samples),
        duration=round(samples[-1].t - samples[0].t, 3),
        milestones=milestones(samples),
        peak_pods={tier: max(s.state.pods[tier] for s in samples) for tier in TIERS},
        peak_replicas={n: max(s.state.replicas.get(n, 0) for s in samples) for n in names},
        peak_backlog=max(backlogs) if backlogs else None,
        new_pods=len(frozenset().union(*(s.state.pod_ids for s in samples)) - first.pod_ids),
        nodes_added=len(frozenset().union(*(s.state.nodes for s in samples)) - first.nodes),
        nodeclaims_created=len(claims - (first.nodeclaims or frozenset())) if has_claims else None,
        errors=errors,
    )
