"""Landing past the HPA tolerance band on real parts: the scaler over real gRPC, reading each target's current
replicas and its ScaledObject's tolerance through the official `kubernetes` client from a local API server, and the
model harness's HPA (onebox.harness.hpa) turning every answer into replicas.

The backlog comes from a fake at the BacklogSource seam, one backlog per queue, so that a thousand ScaledObjects
can each ask for their own count in one run. The OCI side of the same RPCs is covered end to end elsewhere.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from onebox.harness.hpa import Behavior, average_value_replicas
from onebox.harness.keda import KedaLoop
from onebox.harness.scaledobject import ScaledObjectSpec
from scaler._proto import externalscaler_pb2 as pb
from scaler.metadata import QueueRef
from scaler.settings import KubeMode, KubeSettings
from scaler.values import Landing, QueueBacklog
from tests.conftest import stub_for
from tests.support.kube_api import FakeKubeApi
from tests.unit.landing_oracle import DEFAULT_BAND, Band, expected, reachable_counts

TARGET = 10
SIZES = range(1, 101)


class BacklogPerQueue:
    """The BacklogSource seam, scripted per queue: each ScaledObject of the table reads its own backlog."""

    def __init__(self) -> None:
        self.backlog: dict[str, int] = {}

    def read(self, ref: QueueRef) -> QueueBacklog:
        visible = self.backlog[ref.queue_id]
        return QueueBacklog(visible=visible, in_flight=0, size_bytes=0, dlq_visible=0, dlq_in_flight=0)


@dataclass(frozen=True)
class Role:
    """How a table row's ScaledObject is set up, and the rule it must land by."""

    name: str
    rule: Landing
    metadata: dict[str, str]
    band: Band = DEFAULT_BAND


ROLES = (
    Role("virtual", Landing.DOWN, {"tier": "virtual", "group": "g", "managedMaxReplicas": "0"}),
    Role("managed", Landing.HOLD, {"tier": "managed", "landing": "hold"}),  # a group's managed rule, on a lone trigger
    Role("nearest", Landing.NEAREST, {"landing": "nearest"}),
    Role("keda", Landing.OFF, {}),
    Role("exact", Landing.DOWN, {"tier": "virtual", "group": "g", "managedMaxReplicas": "0"}, Band(0.0, 0.0)),
)


@dataclass(frozen=True)
class Row:
    role: Role
    current: int
    desired: int

    @property
    def name(self) -> str:
        return f"{self.role.name}-{self.current}-{self.desired}"

    def metadata(self) -> dict[str, str]:
        return {
            "scalerAddress": "burst-scaler-headless.keda.svc.cluster.local:6000",
            "source": "oci-queue",
            "queueId": f"ocid1.queue.oc1..{self.name}",
            "targetBacklogPerReplica": str(TARGET),
            "maxReplicas": "200",
            **self.role.metadata,
        }

    def objects(self) -> list[dict[str, Any]]:
        """Its namespace's ScaledObject and Deployment (one namespace per row: no group sees another's peer)."""
        behavior = {
            "scaleUp": {"tolerance": str(self.role.band.up)},
            "scaleDown": {"tolerance": str(self.role.band.down)},
        }
        scaled_object = {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": self.name, "namespace": self.name},
            "spec": {
                "scaleTargetRef": {"name": self.name},
                "advanced": {"horizontalPodAutoscalerConfig": {"behavior": behavior}},
                "triggers": [{"type": "external", "metadata": self.metadata()}],
            },
        }
        return [scaled_object, deployment(self.name, self.current, managed=self.role.metadata.get("tier") == "managed")]

    def ref(self) -> pb.ScaledObjectRef:
        return pb.ScaledObjectRef(name=self.name, namespace=self.name, scalerMetadata=self.metadata())


def deployment(name: str, replicas: int, *, managed: bool = False) -> dict[str, Any]:
    """A consumer running ``replicas`` pods, placed as its tier's placement lint wants it."""
    taint = ("workload-type", "stateful") if managed else ("virtual-kubelet.io/provider", None)
    pod = {
        "nodeSelector": {"workload-type": "stateful"} if managed else {"type": "virtual-node"},
        "tolerations": [{"key": taint[0], "operator": "Equal", "value": taint[1], "effect": "NoSchedule"}]
        if managed
        else [{"key": taint[0], "operator": "Exists"}],
        "containers": [{"name": "consumer", "image": "example/consumer:1"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": {"spec": pod}},
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }


def rows() -> Iterator[Row]:
    """Every size from 1 to 100, one count down and one count up: inside the band from 11 up, reachable below."""
    for role in ROLES:
        for current in SIZES:
            for desired in (current - 1, current + 1):
                yield Row(role, current, desired)


async def test_every_size_lands_where_its_rule_says_through_grpc_and_the_harness_hpa(
    start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    table = list(rows())
    source = BacklogPerQueue()
    for row in table:
        source.backlog[row.metadata()["queueId"]] = row.desired * TARGET
    with FakeKubeApi([obj for row in table for obj in row.objects()]) as kube:
        app = await start_scaler(
            queue_source=source,
            kube=KubeSettings(mode=KubeMode.KUBECONFIG, kubeconfig=kube.write_kubeconfig(tmp_path / "kubeconfig")),
            rpc_deadline_seconds=10.0,
        )
        stub = stub_for(channel_for(app))
        limit = asyncio.Semaphore(16)

        async def ask(row: Row) -> tuple[float, float]:
            async with limit:
                spec = (await stub.GetMetricSpec(row.ref())).metricSpecs[0]
                request = pb.GetMetricsRequest(scaledObjectRef=row.ref(), metricName=spec.metricName)
                (value,) = (await stub.GetMetrics(request, timeout=15)).metricValues
                return value.metricValueFloat, spec.targetSizeFloat

        answers = await asyncio.gather(*(ask(row) for row in table))

    counts = {
        (band, current): reachable_counts(current, TARGET, band, 200)
        for band in {role.band for role in ROLES}
        for current in SIZES
    }
    wrong = []
    for row, (value, target) in zip(table, answers, strict=True):
        band = row.role.band
        runs = average_value_replicas(
            value, target, row.current, scale_up_tolerance=band.up, scale_down_tolerance=band.down
        )
        if row.role.rule is Landing.OFF:  # KEDA's semantics: the plain backlog, whatever the HPA makes of it
            want = average_value_replicas(row.desired * TARGET, TARGET, row.current)
            ok = value == row.desired * TARGET and runs == want
        else:
            want = expected(row.role.rule, row.desired, row.current, counts[band, row.current])
            ok = runs == want and (band != Band(0.0, 0.0) or runs == row.desired)  # tolerance 0: exactly
        if not ok:
            wrong.append((row.name, value, runs, want))
    assert wrong == []
    held = {
        row.current
        for row, (value, _) in zip(table, answers, strict=True)
        if row.role.rule is Landing.OFF and average_value_replicas(value, TARGET, row.current) == row.current
    }
    assert held == set(range(10, 101))  # plain KEDA: from 10 replicas up, a move by one pod is swallowed


async def test_without_kubernetes_access_nothing_changes(start_scaler: Any, channel_for: Any) -> None:
    source = BacklogPerQueue()
    row = Row(ROLES[0], 30, 28)
    source.backlog[row.metadata()["queueId"]] = 280
    app = await start_scaler(queue_source=source)
    stub = stub_for(channel_for(app))
    spec = (await stub.GetMetricSpec(row.ref())).metricSpecs[0]
    request = pb.GetMetricsRequest(scaledObjectRef=row.ref(), metricName=spec.metricName)
    (value,) = (await stub.GetMetrics(request)).metricValues
    assert value.metricValueFloat == 280.0  # the plain backlog: from 30 replicas the HPA holds, as today


class KubeScaleTarget:
    """The harness's scale subresource, written through to the API server the scaler reads."""

    def __init__(self, kube: FakeKubeApi, name: str, replicas: int) -> None:
        self._kube, self._name, self._replicas = kube, name, replicas
        kube.put(deployment(name, replicas))

    @property
    def replicas(self) -> int:
        return self._replicas

    def scale(self, replicas: int) -> None:
        self._replicas = replicas
        self._kube.put(deployment(self._name, replicas))


@pytest.mark.parametrize(
    ("landing", "tolerance", "first", "second"),
    [
        (None, 0.1, 27, 27),  # the virtual tier hands back past the band, and stays there
        ("off", 0.1, 30, 30),  # KEDA issue 7900: the band swallows the hand-back
        (None, 0.0, 28, 28),  # tolerance 0 (Kubernetes >= 1.33): exact landing
    ],
    ids=["down", "off", "tolerance-0"],
)
async def test_the_harness_keda_loop_lands_a_virtual_member(
    start_scaler: Any, channel_for: Any, tmp_path: Path, landing: str | None, tolerance: float, first: int, second: int
) -> None:
    """A virtual member at 30 replicas whose share falls to 28: one HPA sync of the harness's KEDA loop, then one more
    after the scaler has seen the new replica count."""
    row = Row(ROLES[0], 30, 28)
    metadata = row.metadata() | ({"landing": landing} if landing else {})
    source = BacklogPerQueue()
    source.backlog[metadata["queueId"]] = 280
    scaled_object = copy.deepcopy(row.objects()[0])
    rules = {"tolerance": str(tolerance)}
    scaled_object["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] = {
        "scaleUp": rules,
        "scaleDown": rules | {"stabilizationWindowSeconds": 0},
    }
    scaled_object["spec"]["triggers"][0]["metadata"] = metadata
    with FakeKubeApi([scaled_object]) as kube:
        target = KubeScaleTarget(kube, row.name, 30)
        app = await start_scaler(
            queue_source=source,
            kube=KubeSettings(mode=KubeMode.KUBECONFIG, kubeconfig=kube.write_kubeconfig(tmp_path / "kubeconfig")),
            kube_ttl_seconds=0.05,
        )
        behavior = Behavior(
            scale_down_stabilization_seconds=0, scale_up_tolerance=tolerance, scale_down_tolerance=tolerance
        )
        spec = ScaledObjectSpec(
            name=row.name, namespace=row.name, metadata=metadata, push=False, max_replicas=200, behavior=behavior
        )
        channel: grpc.aio.Channel = channel_for(app)
        loop = KedaLoop(channel=channel, spec=spec, target=target)
        await loop.hpa_once()
        assert target.replicas == first
        await asyncio.sleep(0.15)  # past the scaler's Kubernetes TTL: it now reads the new count
        await loop.hpa_once()
        assert target.replicas == second
        assert loop.stats.errors == 0
