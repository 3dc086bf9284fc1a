"""The cluster model's timing: virtual pods start fast, managed pods wait for Karpenter, empty nodes go away."""

from __future__ import annotations

import asyncio

from onebox.harness.cluster import MANAGED, VIRTUAL, ClusterModel, ClusterSpec
from tests.support.fakes import ManualClock


class Worker:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def run(self, stop: asyncio.Event) -> None:
        self.log.append(f"start {self.name}")
        await stop.wait()
        self.log.append(f"stop {self.name}")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_virtual_first_then_karpenter_nodes_then_consolidation() -> None:
    clock = ManualClock(now=0.0)
    events: list[str] = []
    spec = ClusterSpec(
        virtual_pod_start_seconds=2,
        managed_pod_start_seconds=1,
        fixed_managed_nodes=1,
        pods_per_node=2,
        karpenter_provision_seconds=30,
        karpenter_max_nodes=3,
        consolidate_after_seconds=10,
    )
    model = ClusterModel(spec=spec, worker_factory=lambda d, p: Worker(events, p), clock=clock)
    virtual = model.add_deployment("orders-virtual", VIRTUAL)
    managed = model.add_deployment("orders-managed", MANAGED)
    virtual.scale(5)
    managed.scale(6)
    model.reconcile()
    snap = model.snapshot()
    assert snap.pending == 4  # 2 fit on the fixed node, 4 wait
    assert snap.provisioning == 2  # Karpenter asks for 2 nodes of 2 pods
    clock.advance(2)
    model.reconcile()
    await settle()
    assert model.snapshot().running == {VIRTUAL: 5, MANAGED: 2}
    assert virtual.ready == 5
    clock.advance(29)
    model.reconcile()  # nodes ready at t=30: pods scheduled, start one second later
    clock.advance(1)
    model.reconcile()
    await settle()
    assert model.snapshot().running == {VIRTUAL: 5, MANAGED: 6}
    assert model.snapshot().nodes == 3

    managed.scale(2)
    virtual.scale(0)
    model.reconcile()
    await settle()
    model.reconcile()
    assert model.snapshot().running == {VIRTUAL: 0, MANAGED: 2}
    assert sum(1 for e in events if e.startswith("stop")) == 9  # every removed pod was stopped gracefully
    clock.advance(1)
    model.reconcile()
    clock.advance(10)
    model.reconcile()
    assert model.snapshot().nodes == 1 + sum(1 for n in model.nodes if n.karpenter)
    assert sum(1 for n in model.nodes if n.karpenter) <= 1  # emptied Karpenter nodes consolidated
    await model.shutdown()
