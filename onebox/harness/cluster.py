"""A model of the three elasticity layers of an OKE Enhanced Cluster, with real consumers as pods.

What matters for the scaler's decisions is *when* capacity appears: virtual-node pods start within seconds and
need no node; managed pods need a free slot on a managed node, and when none is free they stay Pending until
Karpenter provisions a node (tens of seconds to minutes) — then they start. Empty Karpenter nodes go away later
still (onebox.harness.karpenter). Everything else (bin-packing details, image pulls) is left out on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from onebox.harness.karpenter import Karpenter, KarpenterNode, KarpenterSpec
from onebox.harness.pods import MANAGED, VIRTUAL, VIRTUAL_NODE, Deployment, Pod, WorkerFactory, deletion_order


@dataclass(frozen=True)
class ClusterSpec:
    """Latencies and shapes of the model; defaults are plausible for OKE and compressed for a short demo."""

    virtual_pod_start_seconds: float = 3.0
    managed_pod_start_seconds: float = 1.0
    fixed_managed_nodes: int = 1
    pods_per_node: int = 4
    karpenter: KarpenterSpec = field(default_factory=KarpenterSpec)
    reconcile_interval_seconds: float = 0.2


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
        self.fixed_nodes = [f"managed-{i}" for i in range(spec.fixed_managed_nodes)]
        self.karpenter = Karpenter(spec=spec.karpenter)
        self._names = itertools.count(1)

    def add_deployment(self, name: str, tier: str) -> Deployment:
        deployment = Deployment(name=name, tier=tier)
        self.deployments[name] = deployment
        return deployment

    def _pods(self) -> list[Pod]:
        return [p for d in self.deployments.values() for p in d.pods]

    # --- reconcile ---------------------------------------------------------------------------------------

    def _free_slot(self, now: float) -> str | None:
        """The first managed node that is Ready, not being terminated, and has room (fixed nodes first)."""
        counts = Counter(p.node for p in self._pods() if p.node is not None)
        karpenter = [n.name for n in self.karpenter.nodes if n.ready_at <= now and n.terminate_at is None]
        for name in self.fixed_nodes + karpenter:
            if counts.get(name, 0) < self._spec.pods_per_node:
                return name
        return None

    def _reconcile_replicas(self, now: float) -> None:
        for deployment in self.deployments.values():
            live = [p for p in deployment.pods if not p.terminating]
            for _ in range(deployment.replicas - len(live)):
                name = f"{deployment.name}-{next(self._names)}"
                deployment.pods.append(Pod(name=name, deployment=deployment.name, tier=deployment.tier, created_at=now))
            surplus = len(live) - deployment.replicas
            for pod in deletion_order(live, now)[: max(0, surplus)]:
                pod.terminating = True
                pod.stop.set()

    def _schedule(self, now: float) -> None:
        for pod in self._pods():
            if pod.terminating or pod.start_at is not None:
                continue
            if pod.tier == VIRTUAL:
                pod.node = VIRTUAL_NODE
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

    def _pending_managed(self) -> int:
        return sum(1 for p in self._pods() if p.tier == MANAGED and not p.terminating and p.start_at is None)

    def _node_used(self, node: KarpenterNode) -> bool:
        return any(p.node == node.name for p in self._pods())

    def reconcile(self) -> None:
        now = self._clock()
        self._reconcile_replicas(now)
        self._schedule(now)
        self._start_and_reap(now)
        self.karpenter.launch(now, pending=self._pending_managed(), pods_per_node=self._spec.pods_per_node)
        self.karpenter.disrupt(now, used=self._node_used)

    def snapshot(self) -> ClusterSnapshot:
        now = self._clock()
        running = {VIRTUAL: 0, MANAGED: 0}
        pending = starting = 0
        for pod in self._pods():
            if pod.terminating:
                continue
            if pod.running_since is not None:
                running[pod.tier] += 1
            elif pod.start_at is None:
                pending += 1
            else:
                starting += 1
        claims = self.karpenter.nodes
        return ClusterSnapshot(
            at=now,
            replicas={name: d.replicas for name, d in self.deployments.items()},
            running=running,
            pending=pending,
            starting=starting,
            nodes=len(self.fixed_nodes) + sum(1 for n in claims if n.ready_at <= now),
            provisioning=sum(1 for n in claims if n.ready_at > now),
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.reconcile()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._spec.reconcile_interval_seconds)

    async def shutdown(self) -> None:
        """Stop every pod's worker gracefully and wait for them (pods finish or release in-flight work)."""
        tasks = []
        for pod in self._pods():
            pod.stop.set()
            if pod.task is not None:
                tasks.append(pod.task)
        await asyncio.gather(*tasks, return_exceptions=True)
