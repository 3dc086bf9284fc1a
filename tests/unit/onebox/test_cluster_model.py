"""The cluster model's timing: virtual pods start fast, managed pods wait for Karpenter, empty nodes go away."""

from __future__ import annotations

import asyncio

from onebox.harness.cluster import ClusterModel, ClusterSpec
from onebox.harness.karpenter import KarpenterSpec
from onebox.harness.pods import MANAGED, VIRTUAL, Pod, deletion_order
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
        # no batching window and an immediate disruption controller: the timing of launch and Ready alone
        karpenter=KarpenterSpec(
            provision_seconds=30,
            max_nodes=3,
            consolidate_after_seconds=10,
            batch_idle_seconds=0,
            batch_max_seconds=0,
            disruption_poll_seconds=0,
            validation_seconds=0,
            termination_seconds=0,
        ),
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
    model.reconcile()  # the command found at the poll above is validated and carried out (all delays 0)
    assert model.snapshot().nodes == 1 + len(model.karpenter.nodes)
    assert len(model.karpenter.nodes) <= 1  # emptied Karpenter nodes consolidated
    await model.shutdown()


def test_a_shrinking_replicaset_deletes_from_the_most_crowded_node_first() -> None:
    """getPodsToDelete ranks by co-located pods before age: the newest pod, alone on its node, stays."""
    crowded = [
        Pod(f"a{i}", "orders-managed", MANAGED, created_at=i, node="managed-0", running_since=10) for i in range(3)
    ]
    alone = Pod("b", "orders-managed", MANAGED, created_at=5, node="karpenter-1", running_since=10)
    pending = Pod("c", "orders-managed", MANAGED, created_at=1)
    order = deletion_order([*crowded, alone, pending], now=20)
    assert order[0] is pending  # unscheduled first
    assert order[1] is crowded[2]  # then the newest of the crowded node
    assert order[-1] is alone
