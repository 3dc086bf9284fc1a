"""Pods per tier, new pods and nodes, and burst milestones, from real Kubernetes JSON shapes (no cluster)."""

from __future__ import annotations

from typing import Any

from load.observe_model import ClusterState, cluster_state, milestones, pod_tier, sample_of, summarize


def node(name: str, *, virtual: bool = False) -> dict[str, Any]:
    labels = {"type": "virtual-node"} if virtual else {"workload-type": "stateful"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


def pod(name: str, app: str, *, phase: str = "Running", node_name: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
    if node_name:
        spec["nodeName"] = node_name
    return {
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", "labels": {"app": app}},
        "spec": spec,
        "status": {"phase": phase},
    }


def deployment(name: str, replicas: int, ready: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
        "status": {"readyReplicas": ready},
    }


def state(pods: list[dict[str, Any]], replicas: dict[str, int], nodes: list[dict[str, Any]]) -> ClusterState:
    return cluster_state(
        deployments=[deployment(n, r, r) for n, r in replicas.items()], pods=pods, nodes=nodes, nodeclaims=None
    )


NODES = [node("vn-1", virtual=True), node("m-1"), node("m-2")]


def test_pod_tiers() -> None:
    virtual = frozenset({"vn-1"})
    assert pod_tier(pod("a", "x", node_name="vn-1"), virtual) == "virtual"
    assert pod_tier(pod("a", "x", node_name="m-1"), virtual) == "managed"
    assert pod_tier(pod("a", "x", phase="Pending"), virtual) == "pending"
    assert pod_tier(pod("a", "x", phase="Pending", node_name="m-1"), virtual) == "pending"
    assert pod_tier(pod("a", "x", phase="Succeeded", node_name="m-1"), virtual) is None


def test_cluster_state_counts_only_pods_of_watched_deployments() -> None:
    pods = [
        pod("v1", "orders-virtual", node_name="vn-1"),
        pod("v2", "orders-virtual", node_name="vn-1"),
        pod("m1", "orders-managed", node_name="m-1"),
        pod("m2", "orders-managed", phase="Pending"),
        pod("other", "billing", node_name="m-2"),
    ]
    s = cluster_state(
        deployments=[deployment("orders-virtual", 2, 2), deployment("orders-managed", 2, 1)],
        pods=pods,
        nodes=NODES,
        nodeclaims=[{"metadata": {"name": "c1"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}],
    )
    assert s.pods == {"virtual": 2, "managed": 1, "pending": 1}
    assert s.pods_by_deployment["orders-managed"] == {"virtual": 0, "managed": 1, "pending": 1}
    assert s.replicas == {"orders-virtual": 2, "orders-managed": 2}
    assert s.ready == {"orders-virtual": 2, "orders-managed": 1}
    assert s.virtual_nodes == {"vn-1"}
    assert s.nodeclaims == frozenset({"c1"})
    assert s.nodeclaims_ready == 1


def test_milestones_from_first_backlog() -> None:
    base = state([pod("m0", "w", node_name="m-1")], {"w": 1}, NODES)
    burst = state(
        [pod("m0", "w", node_name="m-1"), pod("n1", "w", phase="Pending"), pod("n2", "w", node_name="vn-1")],
        {"w": 3},
        [*NODES, node("m-3")],
    )
    samples = [
        sample_of(0.0, 0, base, base),
        sample_of(1.0, 50, base, base),  # first message seen
        sample_of(2.0, 80, burst, base),  # new pods, one running, replicas at peak
        sample_of(3.0, 0, burst, base),  # drained
        sample_of(4.0, 0, base, base),  # scaled back
    ]
    assert samples[2].new_pods == 2
    assert samples[2].new_pods_running == 1
    assert samples[2].nodes_added == 1
    assert samples[2].row()["pods_pending"] == 1
    m = milestones(samples)
    assert m.reference == "first-backlog"
    assert m.first_message_at == 1.0
    assert (m.first_new_pod, m.first_new_pod_running, m.peak, m.drained, m.scaled_back) == (1.0, 1.0, 1.0, 2.0, 3.0)
    assert m.peak_replicas == 3
    report = summarize(samples)
    assert report.new_pods == 2
    assert report.nodes_added == 1
    assert report.peak_pods == {"virtual": 1, "managed": 1, "pending": 1}
    assert report.peak_backlog == 80
    assert report.nodeclaims_created is None


def test_without_backlog_times_count_from_the_start_and_no_peak_without_growth() -> None:
    base = state([], {"w": 2}, NODES)
    m = milestones([sample_of(0.0, None, base, base), sample_of(1.0, None, base, base)])
    assert m.reference == "observe-start"
    assert m.peak is None
    assert m.scaled_back is None
    assert milestones([]).reference == "observe-start"
