"""The observer, with the official kubernetes client, against a local API server serving real Kubernetes JSON.

Objects are added over time (a burst as the cluster would show it: replicas raised, pods Pending, pods Running on
a virtual node, a Karpenter NodeClaim and its node, then the hand-back) and the test asserts the counts per tier
and the milestone timings the observer reports. The backlog comes from the real scaler over gRPC.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import kubernetes
import pytest

from load.observe import ClusterObserver, ClusterReads, ScalerBacklog
from load.observe_model import Sample
from tests.conftest import StartScaler
from tests.support.fakes import FakeQueueSource
from tests.support.kube_api import FakeKubeApi

NS = "shop"


def node(name: str, *, virtual: bool = False) -> dict[str, Any]:
    labels = {"type": "virtual-node"} if virtual else {"workload-type": "stateful", "karpenter.sh/nodepool": "burst"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def deployment(name: str, replicas: int, ready: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS, "labels": {"app.kubernetes.io/part-of": "orders"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
        "status": {"replicas": replicas, "readyReplicas": ready},
    }


def pod(name: str, app: str, *, node_name: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "i"}]}
    if node_name:
        spec["nodeName"] = node_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": app}},
        "spec": spec,
        "status": {"phase": "Running" if node_name else "Pending"},
    }


def nodeclaim(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {"name": name},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


@pytest.fixture
def api() -> Iterator[FakeKubeApi]:
    objects = [
        node("managed-1"),
        node("vn-1", virtual=True),
        nodeclaim("burst-aaaa"),
        deployment("orders-virtual", 0, 0),
        deployment("orders-managed", 1, 1),
        deployment("unrelated", 1, 1) | {"metadata": {"name": "unrelated", "namespace": NS}},
        pod("orders-managed-0", "orders-managed", node_name="managed-1"),
    ]
    with FakeKubeApi(objects) as server:
        yield server


def api_client(server: FakeKubeApi, tmp_path: Path) -> Any:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    return kubernetes.config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]


async def test_burst_counts_per_tier_and_milestones(
    api: FakeKubeApi, tmp_path: Path, start_scaler: StartScaler
) -> None:
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=0.01)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
    backlog = ScalerBacklog(
        channel=channel,
        name="orders-virtual",
        namespace=NS,
        metadata={"source": "oci-queue", "queueId": "ocid1.queue.oc1..q", "targetBacklogPerReplica": "10"},
    )
    client = api_client(api, tmp_path)
    reads = ClusterReads(api=client, namespace=NS, deployments=[], selector="app.kubernetes.io/part-of=orders")
    samples: list[Sample] = []
    observer = ClusterObserver(
        reads=reads, backlog=backlog, interval=0.1, duration=5.0, until_scaled_back=True, on_sample=samples.append
    )

    events: dict[str, float] = {}
    started = time.monotonic()

    def mark(name: str) -> None:
        events[name] = time.monotonic() - started

    async def burst() -> None:
        await asyncio.sleep(0.4)
        source.set(120)  # the first message lands
        mark("message")
        await asyncio.sleep(0.4)  # KEDA scales; pods wait for capacity
        api.put(deployment("orders-virtual", 2, 0))
        api.put(deployment("orders-managed", 2, 1))
        mark("pods")
        for name in ("orders-virtual-a", "orders-virtual-b"):
            api.put(pod(name, "orders-virtual"))
        api.put(pod("orders-managed-1", "orders-managed"))
        await asyncio.sleep(0.4)  # virtual pods start; Karpenter launches a node for the managed one
        mark("running")
        api.put(deployment("orders-virtual", 2, 2))
        for name in ("orders-virtual-a", "orders-virtual-b"):
            api.put(pod(name, "orders-virtual", node_name="vn-1"))
        api.put(nodeclaim("burst-bbbb"))
        api.put(node("managed-2"))
        api.put(pod("orders-managed-1", "orders-managed", node_name="managed-2"))
        api.put(deployment("orders-managed", 2, 2))
        await asyncio.sleep(0.4)
        mark("drained")
        source.set(0)
        await asyncio.sleep(0.4)  # the virtual tier hands back first, then managed
        api.put(deployment("orders-virtual", 0, 0))
        for name in ("orders-virtual-a", "orders-virtual-b"):
            api.delete("v1", "Pod", name, NS)
        await asyncio.sleep(0.3)
        mark("scaled_back")
        api.put(deployment("orders-managed", 1, 1))
        api.delete("v1", "Pod", "orders-managed-1", NS)

    script = asyncio.create_task(burst())
    try:
        report = await observer.run(asyncio.Event())
        await script
    finally:
        await channel.close(None)

    first = samples[0]
    assert first.state.replicas == {"orders-virtual": 0, "orders-managed": 1}  # "unrelated" is not selected
    assert first.state.pods == {"virtual": 0, "managed": 1, "pending": 0}
    # each phase lasts several sampling intervals, so some sample sees it complete
    assert any(s.state.pods == {"virtual": 0, "managed": 1, "pending": 3} for s in samples)
    running = [s for s in samples if s.state.pods == {"virtual": 2, "managed": 2, "pending": 0}]
    assert running
    assert running[-1].row()["nodes_added"] == 1
    assert running[-1].row()["nodeclaims"] == 2
    assert any(s.backlog == pytest.approx(120) for s in running)

    m = report.milestones
    assert m.reference == "first-backlog"
    assert m.first_message_at is not None
    slack = 1.0  # sampling interval 0.1 s plus a busy machine; lower bounds are exact (up to `started`'s 10 ms)

    def at(milestone: float | None) -> float:
        assert milestone is not None
        assert m.first_message_at is not None
        return m.first_message_at + milestone

    assert events["message"] - 0.01 <= m.first_message_at <= events["message"] + slack
    assert events["pods"] - 0.01 <= at(m.first_new_pod) <= events["pods"] + slack
    assert events["pods"] - 0.01 <= at(m.peak) <= events["pods"] + slack
    assert events["running"] - 0.01 <= at(m.first_new_pod_running) <= events["running"] + slack
    assert events["drained"] - 0.01 <= at(m.drained) <= events["drained"] + slack
    assert events["scaled_back"] - 0.01 <= at(m.scaled_back) <= events["scaled_back"] + slack
    assert m.peak_replicas == 4
    assert report.peak_pods == {"virtual": 2, "managed": 2, "pending": 3}
    assert report.peak_replicas == {"orders-managed": 2, "orders-virtual": 2}
    assert (report.new_pods, report.nodes_added, report.nodeclaims_created) == (3, 1, 1)
    assert report.errors == 0
    assert api.requests[f"/apis/apps/v1/namespaces/{NS}/deployments"] == report.samples


async def test_without_karpenter_nodeclaims_are_not_tracked(tmp_path: Path) -> None:
    objects = [
        node("managed-1"),
        deployment("orders-managed", 1, 1),
        pod("m-0", "orders-managed", node_name="managed-1"),
    ]
    with FakeKubeApi(objects) as server:  # no NodeClaim CRD: its list is a 404
        reads = ClusterReads(
            api=api_client(server, tmp_path), namespace=NS, deployments=["orders-managed"], selector=None
        )
        observer = ClusterObserver(reads=reads, interval=0.05, duration=0.2)
        report = await observer.run(asyncio.Event())
        assert server.requests["/apis/karpenter.sh/v1/nodeclaims"] == 1  # asked once, then never again
    assert report.samples >= 2
    assert report.nodeclaims_created is None
    assert report.peak_replicas == {"orders-managed": 1}
    assert report.peak_pods == {"virtual": 0, "managed": 1, "pending": 0}
    assert report.milestones.reference == "observe-start"
    assert observer.samples[0].row()["nodeclaims"] is None
