"""Spill-over on real parts: one emulator queue, the real `kubernetes` client reading Deployment status from a
local API server on 127.0.0.1, and the scaler answering both members of the group over gRPC."""

from __future__ import annotations

import asyncio
import copy
import logging
from pathlib import Path
from typing import Any

import oci
import pytest

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import KubeMode, KubeSettings, OciSettings
from tests.conftest import stub_for
from tests.support.kube_api import FakeKubeApi

NS = "shop"


def scaled_object(name: str, tier: str, queue_id: str, max_replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "scaleTargetRef": {"name": name},
            "triggers": [
                {
                    "type": "external-push",
                    "metadata": {
                        "scalerAddress": "burst-scaler.keda.svc.cluster.local:6000",
                        "source": "oci-queue",
                        "queueId": queue_id,
                        "targetBacklogPerReplica": "10",
                        "tier": tier,
                        "group": "orders",
                        "maxReplicas": str(max_replicas),
                    },
                }
            ],
        },
    }


def deployment(name: str, ready: int, *, virtual: bool) -> dict[str, Any]:
    pod_spec: dict[str, Any] = {"containers": [{"name": "consumer", "image": "example/consumer:1"}]}
    if virtual:
        pod_spec["nodeSelector"] = {"type": "virtual-node"}
        pod_spec["tolerations"] = [{"key": "virtual-kubelet.io/provider", "operator": "Exists"}]
    else:
        pod_spec["nodeSelector"] = {"workload-type": "stateful"}
        pod_spec["tolerations"] = [
            {"key": "workload-type", "operator": "Equal", "value": "stateful", "effect": "NoSchedule"}
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": ready,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec},
        },
        "status": {"replicas": ready, "readyReplicas": ready, "availableReplicas": ready},
    }


def so_ref(name: str, queue_id: str, tier: str, max_replicas: int, **extra: str) -> pb.ScaledObjectRef:
    metadata = scaled_object(name, tier, queue_id, max_replicas)["spec"]["triggers"][0]["metadata"]
    return pb.ScaledObjectRef(name=name, namespace=NS, scalerMetadata={**metadata, **extra})


async def replicas_for(stub: Any, ref: pb.ScaledObjectRef) -> tuple[int, bool]:
    """What the HPA would run for this member: ceil(value / target), and whether KEDA sees it active."""
    spec = (await stub.GetMetricSpec(ref)).metricSpecs[0]
    (value,) = (
        await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName))
    ).metricValues
    active = (await stub.IsActive(ref)).result
    return -(-round(value.metricValueFloat * 1000) // round(spec.targetSizeFloat * 1000)), active


HOLD = "1"
"""The managed member's holdSeconds here: a burst must last this long before it buys managed capacity."""


async def sustained(stub: Any, ref: pb.ScaledObjectRef, want: int) -> tuple[int, bool]:
    """Ask until the readings span a hold window (each answer refreshes: the cache TTL is shorter than a poll)."""
    answer = await replicas_for(stub, ref)
    for _ in range(40):
        if answer[0] == want:
            break
        await asyncio.sleep(0.1)
        answer = await replicas_for(stub, ref)
    return answer


async def test_virtual_share_falls_as_managed_pods_turn_ready(
    emulator: Emulator, start_scaler: Any, channel_for: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue_id = emulator.create_queue("orders")
    config_path = emulator.write_config(tmp_path / "oci" / "config")
    client = oci.queue.QueueClient(oci.config.from_file(str(config_path)), service_endpoint=emulator.url)
    for _ in range(15):
        batch = [oci.queue.models.PutMessagesDetailsEntry(content="x") for _ in range(20)]
        await asyncio.to_thread(client.put_messages, queue_id, oci.queue.models.PutMessagesDetails(messages=batch))

    managed = scaled_object("orders-managed", "managed", queue_id, 10)
    virtual = scaled_object("orders-virtual", "virtual", queue_id, 50)
    broken_virtual = deployment("orders-virtual", 0, virtual=True)
    broken_virtual["spec"]["template"]["spec"]["tolerations"] = []  # placement bug the server must flag
    with FakeKubeApi() as kube:
        for obj in (managed, virtual, deployment("orders-managed", 0, virtual=False), broken_virtual):
            kube.put(copy.deepcopy(obj))
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
        with caplog.at_level(logging.INFO, logger="scaler"):
            app = await start_scaler(
                queue_source=None,
                stream_source=None,
                oci=OciSettings(config_file=config_path, endpoint=emulator.url),
                kube=KubeSettings(mode=KubeMode.KUBECONFIG, kubeconfig=kubeconfig),
                kube_ttl_seconds=0.05,
                cache_ttl_seconds=0.05,
            )
            stub = stub_for(channel_for(app))
            v_ref = so_ref("orders-virtual", queue_id, "virtual", 50)
            m_ref = so_ref("orders-managed", queue_id, "managed", 10, holdSeconds=HOLD)

            # Burst of 300 at target 10: D = 30. Virtual absorbs it all at once; managed buys nothing for a burst
            # younger than its hold (inactive, so KEDA does not run the HPA's one-pod minimum and Karpenter buys
            # no node for it), and asks its cap once the need lasted that long.
            assert await replicas_for(stub, v_ref) == (30, True)
            assert await replicas_for(stub, m_ref) == (0, False)
            assert await sustained(stub, m_ref, 10) == (10, True)

            observed = []
            for ready in (3, 6, 10):  # Karpenter nodes arrive, managed pods turn Ready
                kube.put(deployment("orders-managed", ready, virtual=False))
                await asyncio.sleep(0.15)
                observed.append((await replicas_for(stub, v_ref))[0])
            assert observed == [30, 30, 30]  # the burst still needs 30: Ready managed pods add to virtual ones
            assert await replicas_for(stub, m_ref) == (10, True)

            # consumers worked 205 messages off: 95 left need 10, which Ready managed covers: virtual hands back
            taken = 0
            while taken < 205:
                got = await asyncio.to_thread(
                    client.get_messages, queue_id, visibility_in_seconds=60, limit=min(20, 205 - taken)
                )
                entries = [oci.queue.models.DeleteMessagesDetailsEntry(receipt=m.receipt) for m in got.data.messages]
                details = oci.queue.models.DeleteMessagesDetails(entries=entries)
                await asyncio.to_thread(client.delete_messages, queue_id, details)
                taken += len(entries)
            await asyncio.sleep(0.15)
            assert await replicas_for(stub, v_ref) == (0, False)
            assert await replicas_for(stub, m_ref) == (10, True)

        split_logs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("group shop/orders")]
        assert any("managed 10, virtual 30" in m for m in split_logs)
        placement = [r.getMessage() for r in caplog.records if "breaks placement rules" in r.getMessage()]
        assert len(placement) == 1
        assert "orders-virtual" in placement[0]
        assert (
            app.telemetry.registry.get_sample_value(
                "burst_scaler_placement_violations", {"namespace": NS, "scaledobject": "orders-virtual"}
            )
            >= 1
        )
        assert (
            app.telemetry.registry.get_sample_value(
                "burst_scaler_group_replicas", {"namespace": NS, "group": "orders", "tier": "virtual"}
            )
            == 0
        )


async def test_without_api_access_virtual_takes_pure_overflow(
    emulator: Emulator, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    queue_id = emulator.create_queue("overflow")
    config_path = emulator.write_config(tmp_path / "config")
    client = oci.queue.QueueClient(oci.config.from_file(str(config_path)), service_endpoint=emulator.url)
    for _ in range(10):
        batch = [oci.queue.models.PutMessagesDetailsEntry(content="x") for _ in range(20)]
        await asyncio.to_thread(client.put_messages, queue_id, oci.queue.models.PutMessagesDetails(messages=batch))
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=OciSettings(config_file=config_path, endpoint=emulator.url)
    )
    stub = stub_for(channel_for(app))
    # 200 messages, target 10: D = 20; managed cap 8 (from the virtual member's own metadata) → virtual 12.
    v_ref = so_ref("orders-virtual", queue_id, "virtual", 50, managedMaxReplicas="8")
    assert await replicas_for(stub, v_ref) == (12, True)
    # Backlog within managed capacity: the virtual member is inactive, so KEDA can take it to zero.
    small = so_ref("orders-virtual", queue_id, "virtual", 50, managedMaxReplicas="30")
    assert await replicas_for(stub, small) == (0, False)


async def test_managed_holds_while_consumers_are_busy_and_virtual_hands_back(
    emulator: Emulator, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    """The busy term through real parts: consumers hold messages in flight after the backlog is gone."""
    queue_id = emulator.create_queue("busy")
    config_path = emulator.write_config(tmp_path / "oci" / "config")
    client = oci.queue.QueueClient(oci.config.from_file(str(config_path)), service_endpoint=emulator.url)
    for _ in range(6):
        batch = [oci.queue.models.PutMessagesDetailsEntry(content="x") for _ in range(20)]
        await asyncio.to_thread(client.put_messages, queue_id, oci.queue.models.PutMessagesDetails(messages=batch))

    with FakeKubeApi() as kube:
        for obj in (
            scaled_object("orders-managed", "managed", queue_id, 10),
            scaled_object("orders-virtual", "virtual", queue_id, 50),
            deployment("orders-managed", 0, virtual=False),
            deployment("orders-virtual", 0, virtual=True),
        ):
            kube.put(copy.deepcopy(obj))
        app = await start_scaler(
            queue_source=None,
            stream_source=None,
            oci=OciSettings(config_file=config_path, endpoint=emulator.url),
            kube=KubeSettings(mode=KubeMode.KUBECONFIG, kubeconfig=kube.write_kubeconfig(tmp_path / "kubeconfig")),
            kube_ttl_seconds=0.05,
            cache_ttl_seconds=0.05,
        )
        stub = stub_for(channel_for(app))
        v_ref = so_ref("orders-virtual", queue_id, "virtual", 50)
        m_ref = so_ref("orders-managed", queue_id, "managed", 10, holdSeconds=HOLD)
        # 120 waiting at target 10: the group needs 12; virtual covers all of it, managed its cap once it lasted
        assert await replicas_for(stub, v_ref) == (12, True)
        assert await sustained(stub, m_ref, 10) == (10, True)
        # a sustained need of 12 pays for managed nodes at a break-even of 12, not at 13: then it stays on virtual
        # nodes and the managed member is inactive
        at_break_even = so_ref("orders-managed", queue_id, "managed", 10, holdSeconds=HOLD, managedBreakEven="12")
        assert await replicas_for(stub, at_break_even) == (10, True)
        below = so_ref("orders-managed", queue_id, "managed", 10, holdSeconds=HOLD, managedBreakEven="13")
        assert await replicas_for(stub, below) == (0, False)

        # consumers took everything; 108 are done and deleted, 12 are still being worked on (in flight)
        received: list[Any] = []
        while len(received) < 120:
            got = await asyncio.to_thread(client.get_messages, queue_id, visibility_in_seconds=120, limit=20)
            received += got.data.messages
        done = [oci.queue.models.DeleteMessagesDetailsEntry(receipt=m.receipt) for m in received[12:]]
        for i in range(0, len(done), 20):
            details = oci.queue.models.DeleteMessagesDetails(entries=done[i : i + 20])
            await asyncio.to_thread(client.delete_messages, queue_id, details)
        kube.put(deployment("orders-managed", 10, virtual=False))
        kube.put(deployment("orders-virtual", 4, virtual=True))
        await asyncio.sleep(0.15)
        # backlog term ceil(12 / 10) = 2, but 12 consumers are busy: the need stays 12; Ready managed covers 10
        assert await replicas_for(stub, v_ref) == (2, True)
        assert await replicas_for(stub, m_ref) == (10, True)

        # the work is done: nothing waits and nothing is in flight; virtual goes inactive (how long managed keeps
        # its share is the hold's arithmetic, pinned by tests/unit/test_spillover.py on a clock that never drifts)
        rest = [oci.queue.models.DeleteMessagesDetailsEntry(receipt=m.receipt) for m in received[:12]]
        await asyncio.to_thread(client.delete_messages, queue_id, oci.queue.models.DeleteMessagesDetails(entries=rest))
        await asyncio.sleep(0.15)
        assert await replicas_for(stub, v_ref) == (0, False)
