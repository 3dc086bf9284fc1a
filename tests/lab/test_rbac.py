"""Real authorization: the scaler reads the API server as deploy/base's ServiceAccount, so deploy/base's RBAC is
what it gets. Without the rule that lets it read Deployments, its reads fail with 403, the log names the missing
permission, the spill-over split degrades to pure overflow (D − the managed member's cap), and nothing crashes.

The copy of the spill-over example uses a consumer that holds each message for 10 minutes, so the backlog (visible
plus in flight) stays where the test put it while it compares decisions, and KEDA's paused-replicas annotation holds
the managed member at 2 replicas, below its cap of 8: only then do "what ready managed pods cannot serve" (D − 2)
and pure overflow (D − 8) differ.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import grpc
import pytest

from onebox.lab import kubectl, objects, procs
from onebox.lab.layout import load
from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc
from tests.lab.support import Lab, clone_example, condition, until

pytestmark = pytest.mark.timeout(600)
NAMESPACE = "lab-rbac"
BACKLOG = 400
TARGET = 20


MANAGED_HELD = 2


def _hold_messages(obj: dict[str, Any]) -> None:
    if obj["kind"] == "ConfigMap":
        obj["data"]["BURST_LOAD_WORK"] = "heavy=600,light=600"
    if obj["kind"] == "ScaledObject" and obj["metadata"]["name"] == "orders-managed":
        obj["metadata"].setdefault("annotations", {})["autoscaling.keda.sh/paused-replicas"] = str(MANAGED_HELD)


async def _virtual_replicas(lab: Lab, metadata: dict[str, str]) -> int:
    async with grpc.aio.insecure_channel(lab.scaler_address) as channel:
        stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        ref = pb.ScaledObjectRef(name="orders-virtual", namespace=NAMESPACE, scalerMetadata=metadata)
        spec = (await stub.GetMetricSpec(ref, timeout=5)).metricSpecs[0]
        request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName)
        (value,) = (await stub.GetMetrics(request, timeout=5)).metricValues
        replicas: int = math.ceil(value.metricValueFloat / spec.targetSizeFloat)
        return replicas


def test_without_the_deployments_rule_reads_fail_loudly_and_the_split_degrades(lab: Lab) -> None:
    queue_id = lab.create_queue("rbac")
    rendered = clone_example(lab, "spillover", NAMESPACE, queue_id=queue_id, edit=_hold_messages)
    (virtual,) = [o for o in rendered if o["kind"] == "ScaledObject" and o["metadata"]["name"] == "orders-virtual"]
    metadata = virtual["spec"]["triggers"][0]["metadata"]
    until(
        "ScaledObjects Ready",
        lambda: condition(lab.get("scaledobject", "orders-virtual", "-n", NAMESPACE), "Ready"),
        60,
    )
    lab.put(queue_id, range(BACKLOG), cls="heavy")
    need = BACKLOG // TARGET  # D: the group's total need
    managed_cap = int(metadata["managedMaxReplicas"])
    until(
        "managed tier held at its paused replicas",
        lambda: lab.get("deployment", "orders-managed", "-n", NAMESPACE)["status"].get("readyReplicas") == MANAGED_HELD,
        120,
    )
    # 2 Ready managed pods cannot keep up with a need of 20: the virtual tier covers all of it (readiness read), and
    # more once its consumers are all busy holding batches (the busy term); pure overflow gives need - cap
    with_rbac = need
    until(
        "the split counting ready managed pods", lambda: asyncio.run(_virtual_replicas(lab, metadata)) >= with_rbac, 60
    )

    role = next(o for o in kubectl.render(objects.DEPLOY / "base") if o["kind"] == "ClusterRole")
    narrowed = {**role, "rules": [r for r in role["rules"] if "deployments" not in r["resources"]]}
    scaler_log = Path(lab.logs_dir) / "burst-scaler.log"
    try:
        kubectl.apply(lab.kubeconfig, [narrowed])

        def degraded() -> bool:
            return asyncio.run(_virtual_replicas(lab, metadata)) == need - managed_cap

        until("the split degraded to pure overflow", degraded, timeout=60)
        log = scaler_log.read_text(errors="replace")
        assert "403" in log
        assert 'cannot get resource "deployments" in API group "apps"' in log, log[-3000:]
        running = load()
        assert running is not None
        assert all(procs.alive(p) for p in running[1] if p.name == "burst-scaler"), "the scaler survived"
    finally:
        kubectl.apply(lab.kubeconfig, [role])
    until("the split back to ready-aware", lambda: asyncio.run(_virtual_replicas(lab, metadata)) >= with_rbac, 60)
    assert condition(lab.get("scaledobject", "orders-virtual", "-n", NAMESPACE), "Ready")
