"""Pods and Deployments of the cluster model, and which pods a shrinking ReplicaSet deletes first.

A pod is more than a counter: when it turns Running, the model starts a worker for it (a real consumer loop
draining the emulator), and when the Deployment shrinks it stops that worker gracefully (SIGTERM semantics) and
only then removes the pod. So throughput is real, not a formula.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

VIRTUAL = "virtual"
MANAGED = "managed"
VIRTUAL_NODE = "virtual-node"
"""The one virtual node every virtual pod is bound to."""


class PodWorker(Protocol):
    """What runs inside a pod: returns when ``stop`` is set and its in-flight work is finished or released."""

    async def run(self, stop: asyncio.Event) -> Any: ...


WorkerFactory = Callable[[str, str], PodWorker]
"""(deployment name, pod name) → the worker that pod runs."""


@dataclass
class Pod:
    name: str
    deployment: str
    tier: str
    created_at: float
    node: str | None = None
    """The node the pod is bound to; None while Pending."""
    start_at: float | None = None
    running_since: float | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[Any] | None = None
    terminating: bool = False


@dataclass
class Deployment:
    """The scale subresource KEDA/HPA write and the pods the model runs for it."""

    name: str
    tier: str
    replicas: int = 0
    pods: list[Pod] = field(default_factory=list)

    def scale(self, replicas: int) -> None:
        self.replicas = max(0, replicas)

    @property
    def ready(self) -> int:
        return sum(1 for p in self.pods if p.running_since is not None and not p.terminating)


def _ready_bucket(pod: Pod, now: float) -> int:
    """LogarithmicScaleDown: ready times compare by their power-of-two bucket, so near-equal ones tie."""
    if pod.running_since is None:
        return -1
    return math.floor(math.log2(max(1e-9, now - pod.running_since) + 1))


def deletion_order(pods: Sequence[Pod], now: float) -> list[Pod]:
    """The ReplicaSet controller's choice of pods to delete, first first.

    kubernetes pkg/controller/replicaset/replica_set.go ``getPodsToDelete`` ranks each pod by the number of active
    pods of the same Deployment on its node (``getPodsRankedByRelatedPodsOnSameNode``) and sorts with
    pkg/controller/controller_utils.go ``ActivePodsWithRanks.Less``: unscheduled before scheduled, not running
    before running, the most crowded node first, then shorter-ready (in log2 buckets), then newest. The crowded
    node is the part that decides which managed node Karpenter can empty: the ReplicaSet, not Karpenter, picks it.
    """
    crowd = Counter(p.node for p in pods if p.node is not None)
    return sorted(
        pods,
        key=lambda p: (
            p.node is not None,
            p.running_since is not None,
            -crowd[p.node] if p.node is not None else 0,
            _ready_bucket(p, now),
            -p.created_at,
        ),
    )
