"""Karpenter's timing in the model: batched launches, and empty nodes removed by a polling, validating,
budgeted disruption controller (kubernetes-sigs/karpenter v1.14.1)."""

from __future__ import annotations

from onebox.harness.karpenter import Karpenter, KarpenterNode, KarpenterSpec, allowed_disruptions


def test_launches_wait_for_the_batch_to_go_idle() -> None:
    karpenter = Karpenter(spec=KarpenterSpec(provision_seconds=20))
    karpenter.launch(0.0, pending=1, pods_per_node=4)
    assert karpenter.nodes == []  # the window opened; one idle second to go
    karpenter.launch(0.5, pending=5, pods_per_node=4)  # more pods: the idle timer restarts
    karpenter.launch(1.4, pending=5, pods_per_node=4)
    assert karpenter.nodes == []
    karpenter.launch(1.5, pending=5, pods_per_node=4)
    assert [n.ready_at for n in karpenter.nodes] == [21.5, 21.5]  # 5 pods, 4 per node: 2 nodes in one batch


def test_a_busy_batch_closes_after_the_maximum_duration() -> None:
    karpenter = Karpenter(spec=KarpenterSpec())
    for tick in range(30):  # a new pending pod every half second, never idle for 1 s
        karpenter.launch(tick * 0.5, pending=tick + 1, pods_per_node=4)
        if karpenter.nodes:
            break
    assert karpenter.nodes[0].created_at == 10.0
    assert len(karpenter.nodes) == 6  # 21 pods


def run_disruption(karpenter: Karpenter, *, until: float, busy: frozenset[str] = frozenset()) -> dict[str, float]:
    """Reconcile every 0.1 s; when each node disappeared."""
    gone: dict[str, float] = {}
    names = {n.name for n in karpenter.nodes}
    for tick in range(round(until * 10) + 1):
        now = tick / 10
        karpenter.disrupt(now, used=lambda node: node.name in busy)
        for name in names - {n.name for n in karpenter.nodes} - gone.keys():
            gone[name] = now
    return gone


def test_an_empty_node_outlives_consolidate_after_by_poll_validation_and_termination() -> None:
    karpenter = Karpenter(spec=KarpenterSpec(consolidate_after_seconds=25))
    karpenter.nodes.append(KarpenterNode("karpenter-1", created_at=-30, ready_at=-1))
    gone = run_disruption(karpenter, until=60)
    # empty from 0, consolidatable at 25; polls at 0, 10, 20 find nothing, 30 does; validated at 45; 2 s to go
    assert gone == {"karpenter-1": 47.0}


def test_the_default_budget_empties_small_pools_one_node_at_a_time() -> None:
    assert [allowed_disruptions(n, 10) for n in (1, 4, 10, 11, 25)] == [1, 1, 1, 2, 3]
    karpenter = Karpenter(spec=KarpenterSpec(consolidate_after_seconds=0))
    for i in range(3):
        karpenter.nodes.append(KarpenterNode(f"karpenter-{i}", created_at=-30, ready_at=-1))
    gone = run_disruption(karpenter, until=80)
    # one node per command; while it terminates it uses the budget up, so the requeue finds nothing and the next
    # poll is 10 s later: commands at 0, 25, 50, validated 15 s later, gone 2 s after that
    assert sorted(gone.values()) == [17.0, 42.0, 67.0]


def test_a_node_that_gets_a_pod_during_validation_is_kept() -> None:
    karpenter = Karpenter(spec=KarpenterSpec(consolidate_after_seconds=0))
    karpenter.nodes.append(KarpenterNode("karpenter-1", created_at=-30, ready_at=-1))
    run_disruption(karpenter, until=5)
    assert run_disruption(karpenter, until=5, busy=frozenset({"karpenter-1"})) == {}
    assert [n.terminate_at for n in karpenter.nodes] == [None]
