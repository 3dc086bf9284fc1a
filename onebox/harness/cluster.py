"""A model of the three elasticity layers of an OKE Enhanced Cluster, with real consumers as pods.

What matters for the scaler's decisions is *when* capacity appears: virtual-node pods start within seconds and
need no node; managed pods need a free slot on a managed node, and when none is free they stay Pending until
Karpenter provisions a node (tens of seconds to minutes) — then they start. Empty Karpenter nodes are
consolidated after a delay. Everything else (bin-packing details, image pulls) is left out on purpose.

A pod is more than a counter: when it turns Running, the model starts a worker for it (a real consumer loop
draining the emulator), and when the Deployment shrinks it stops that worker gracefully (SIGTERM semantics) and
only then removes the pod. So throughput is real, not a formula.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

VIRTUAL = "virtual"
MANAGED = "managed"


class PodWorker(Protocol):
    """What runs inside a pod: returns when ``stop`` is set and its in-flight work is finished or released."""

    async def run(self, stop: asyncio.Event) -> Any: ...


WorkerFactory = Callable[[str, str], PodWorker]
"""(deployment name, pod name) → the worker that pod runs."""


@dataclass(frozen=True)
class ClusterSpec:
    """Latencies and shapes of the model; defaults are plausible for OKE and compressed for a short demo."""

    virtual_pod_start_seconds: float = 3.0
    managed_pod_start_seconds: float = 1.0
    fixed_managed_nodes: int = 1
    pods_per_node: int = 4
    karpenter_provision_seconds: float = 30.0
    karpenter_max_nodes: int = 10
    consolidate_after_seconds: float = 30.0
    reconcile_interval_seconds: float = 0.2


@dataclass
class Node:
    name: str
    karpenter: bool
    created_at: float
    ready_at: float
    empty_since: float | None = None


@dataclass
class Pod:
    name: str
    deployment: str
    tier: str
    created_at: float
    node: Node | None = None
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


@dataclass(frozen=True)
class ClusterSnapshot:
    """One row of the timeline."""

    at: float
    replicas: dict[str, int]
    running: dict[str, int]
    """Running pods per tier."""
    pending: int
    """Managed pods waiting for a node."""
    starting: int
    nodes: int
    """Managed nodes that are Ready (fixed + Karpenter)."""
    provisioning: int


class ClusterModel:
    """Reconciles Deployments into pods, pods onto nodes, pending pods into Karpenter nodes."""

    def __init__(
        self,
        *,
        spec: ClusterSpec,
        worker_factory: WorkerFactory,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._spec = spec
        self._factory = worker_factory
        self._clock = clock
        self.deployments: dict[str, Deployment] = {}
        now = clock()
        self.nodes: list[Node] = [
            Node(name=f"managed-{i}", karpenter=False, created_at=now, ready_at=now)
            for i in range(spec.fixed_managed_nodes)
        ]
        self._names = itertools.count(1)
        self.karpenter_nodes_created = 0
        self.first_karpenter_node_ready: float | None = None

    def add_deployment(self, name: str, tier: str) -> Deployment:
        deployment = Deployment(name=name, tier=tier)
        self.deployments[name] = deployment
        return deployment

    # --- reconcile ---------------------------------------------------------------------------------------

    def _free_slot(self, now: float) -> Node | None:
        for node in self.nodes:
            if node.ready_at > now:
                continue
            used = sum(1 for d in self.deployments.values() for p in d.pods if p.node is node)
            if used < self._spec.pods_per_node:
                return node
        return None

    def _reconcile_replicas(self, now: float) -> None:
        for deployment in self.deployments.values():
            live = [p for p in deployment.pods if not p.terminating]
            for _ in range(deployment.replicas - len(live)):
                pod = Pod(
                    name=f"{deployment.name}-{next(self._names)}",
                    deployment=deployment.name,
                    tier=deployment.tier,
                    created_at=now,
                )
                deployment.pods.append(pod)
            surplus = len(live) - deployment.replicas
            if surplus > 0:
                # ReplicaSet deletion order: unscheduled before scheduled, not-ready before ready, newest first.
                victims = sorted(
                    live,
                    key=lambda p: (p.node is not None or p.tier == VIRTUAL, p.running_since is not None, -p.created_at),
                )[:surplus]
                for pod in victims:
                    pod.terminating = True
                    pod.stop.set()

    def _schedule(self, now: float) -> None:
        for deployment in self.deployments.values():
            for pod in deployment.pods:
                if pod.terminating or pod.start_at is not None:
                    continue
                if pod.tier == VIRTUAL:
                    pod.start_at = now + self._spec.virtual_pod_start_seconds
                else:
                    node = self._free_slot(now)
                    if node is not None:
                        pod.node = node
                        pod.start_at = now + self._spec.managed_pod_start_seconds

    def _start_and_reap(self, now: float) -> None:
        for deployment in self.deployments.values():
            for pod in list(deployment.pods):
                if pod.terminating:
                    if pod.task is None or pod.task.done():
                        deployment.pods.remove(pod)
                    continue
                if pod.start_at is not None and pod.task is None and now >= pod.start_at:
                    pod.running_since = now
                    pod.task = asyncio.create_task(
                        self._factory(deployment.name, pod.name).run(pod.stop), name=f"pod {pod.name}"
                    )

    def _karpenter(self, now: float) -> None:
        pending = sum(
            1
            for d in self.deployments.values()
            for p in d.pods
            if p.tier == MANAGED and not p.terminating and p.start_at is None
        )
        provisioning = [n for n in self.nodes if n.karpenter and n.ready_at > now]
        room = self._spec.pods_per_node * len(provisioning)
        karpenter_nodes = sum(1 for n in self.nodes if n.karpenter)
        wanted = math.ceil(max(0, pending - room) / self._spec.pods_per_node)
        for _ in range(min(wanted, self._spec.karpenter_max_nodes - karpenter_nodes)):
            self.karpenter_nodes_created += 1
            node = Node(
                name=f"karpenter-{self.karpenter_nodes_created}",
                karpenter=True,
                created_at=now,
                ready_at=now + self._spec.karpenter_provision_seconds,
            )
            self.nodes.append(node)
            log.info("karpenter: provisioning %s (%d managed pods pending)", node.name, pending)
        for node in [n for n in self.nodes if n.karpenter and n.ready_at <= now]:
            if self.first_karpenter_node_ready is None:
                self.first_karpenter_node_ready = node.ready_at
            used = any(p.node is node for d in self.deployments.values() for p in d.pods)
            if used:
                node.empty_since = None
            elif node.empty_since is None:
                node.empty_since = now
            elif now - node.empty_since >= self._spec.consolidate_after_seconds:
                self.nodes.remove(node)
                log.info("karpenter: consolidated empty node %s", node.name)

    def reconcile(self) -> None:
        now = self._clock()
        self._reconcile_replicas(now)
        self._schedule(now)
        self._start_and_reap(now)
        self._karpenter(now)

    def snapshot(self) -> ClusterSnapshot:
        now = self._clock()
        running = {VIRTUAL: 0, MANAGED: 0}
        pending = starting = 0
        for deployment in self.deployments.values():
            for pod in deployment.pods:
                if pod.terminating:
                    continue
                if pod.running_since is not None:
                    running[pod.tier] += 1
                elif pod.start_at is None:
                    pending += 1
                else:
                    starting += 1
        return ClusterSnapshot(
            at=now,
            replicas={name: d.replicas for name, d in self.deployments.items()},
            running=running,
            pending=pending,
            starting=starting,
            nodes=sum(1 for n in self.nodes if n.ready_at <= now),
            provisioning=sum(1 for n in self.nodes if n.ready_at > now),
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.reconcile()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._spec.reconcile_interval_seconds)

    async def shutdown(self) -> None:
        """Stop every pod's worker gracefully and wait for them (pods finish or release in-flight work)."""
        tasks = []
        for deployment in self.deployments.values():
            for pod in deployment.pods:
                pod.stop.set()
                if pod.task is not None:
                    tasks.append(pod.task)
        await asyncio.gather(*tasks, return_exceptions=True)
