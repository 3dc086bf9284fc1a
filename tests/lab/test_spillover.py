"""Spill-over on the real thing: virtual nodes absorb the burst, Karpenter adds managed nodes, the virtual tier
hands back first, and every message is consumed exactly where deploy/examples/spillover says it should be.

The test runs a copy of the example in its own namespace and queue. Two settings are shortened so the scenario fits
a CI budget, and nothing else: both ScaledObjects' cooldownPeriod (120/300 s → 20 s), and the managed member gets an
explicit 30 s scale-down stabilization (without `behavior` the HPA uses its 300 s default window).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.lab.support import Lab, Sample, Sampler, clone_example, condition, until

pytestmark = pytest.mark.timeout(900)
NAMESPACE = "lab-spillover"
MANAGED, VIRTUAL = "orders-managed", "orders-virtual"
MESSAGES = 1200


def _shorten(obj: dict[str, Any]) -> None:
    if obj["kind"] != "ScaledObject":
        return
    obj["spec"]["cooldownPeriod"] = 20
    if obj["metadata"]["name"] == MANAGED:
        # a burst buys managed nodes once it lasted holdSeconds: shortened like the lab's 20 s node launch
        obj["spec"]["triggers"][0]["metadata"]["holdSeconds"] = "20"
        behavior = {"scaleDown": {"stabilizationWindowSeconds": 30}}
        obj["spec"]["advanced"] = {"horizontalPodAutoscalerConfig": {"behavior": behavior}}


def _pending(sample: Sample, deployment: str) -> int:
    return sum(1 for p in sample.pods if p[0] == deployment and p[3] == "Pending")


def test_burst_spills_to_virtual_nodes_while_karpenter_adds_managed_nodes(lab: Lab) -> None:
    queue_id = lab.create_queue("spillover")
    clone_example(lab, "spillover", NAMESPACE, queue_id=queue_id, edit=_shorten)
    for name in (MANAGED, VIRTUAL):
        until(
            f"{name} Ready",
            lambda name=name: condition(lab.get("scaledobject", name, "-n", NAMESPACE), "Ready"),  # type: ignore[misc]
            timeout=60,
        )
    managed_nodes = {n["metadata"]["name"] for n in lab.get("nodes", "-l", "workload-type=stateful")["items"]}

    with Sampler(lab, NAMESPACE, [MANAGED, VIRTUAL], queue_id) as sampler:
        lab.put(queue_id, range(MESSAGES), cls="heavy")
        until("the burst seen", lambda: sampler.latest().backlog > 0, timeout=30)
        until("backlog drained", lambda: sampler.latest().backlog == 0, timeout=300)
        until(
            "both tiers back at their minimum",
            lambda: sampler.latest().replicas == {MANAGED: 1, VIRTUAL: 0},
            timeout=240,
        )
    timeline = sampler.table()
    samples = sampler.samples

    # placement: virtual pods only on the virtual node, managed pods only on managed (fixed or Karpenter) nodes
    for sample in samples:
        for deployment, pod, node, _phase in sample.pods:
            if node and deployment == VIRTUAL:
                assert node == "virtual-node-0", (pod, node)
            elif node:
                assert node != "virtual-node-0", (pod, node)
    # the burst reached the virtual tier first, at once
    peak_virtual = max(s.replicas[VIRTUAL] for s in samples)
    assert peak_virtual >= 8, timeline
    # managed pods went Pending, Karpenter made a NodeClaim, its node turned Ready and the managed pods ran there
    assert sampler.first(lambda s: _pending(s, MANAGED) > 0) is not None, timeline
    claimed = sampler.first(lambda s: s.node_claims > 0)
    assert claimed is not None, timeline
    karpenter_nodes = {n for s in samples for n in s.ready_nodes} - managed_nodes - {"virtual-node-0"}
    assert karpenter_nodes, f"no Karpenter node turned Ready\n{timeline}"
    assert any(p[0] == MANAGED and p[2] in karpenter_nodes and p[3] == "Running" for s in samples for p in s.pods)
    all_managed_running = sampler.first(
        lambda s: s.replicas[MANAGED] == 8 and s.ready[MANAGED] == 8 and _pending(s, MANAGED) == 0
    )
    assert all_managed_running is not None, timeline
    # the virtual tier is handed back first: it falls from its peak before the managed tier falls from its own
    virtual_falls = sampler.first(lambda s: s.t > claimed.t and s.replicas[VIRTUAL] < peak_virtual)
    managed_falls = sampler.first(lambda s: s.t > all_managed_running.t and s.replicas[MANAGED] < 8)
    assert virtual_falls is not None, timeline
    assert managed_falls is not None, timeline
    assert virtual_falls.t < managed_falls.t, timeline
    # no message lost: every producer sequence number was processed by some consumer
    until("every message accounted for", lambda: set(range(MESSAGES)) <= set(lab.processed(NAMESPACE)), 60)
    print(timeline)
