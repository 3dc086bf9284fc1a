"""Every series deploy/observability's dashboard and alerts read exists on a live scaler's /metrics.

A real scaler (emulator-backed OCI sources, the real `kubernetes` client against a local API server) answers a
spill-over group whose virtual target breaks placement rules, a queue OCI does not know (an upstream error, then
UNAVAILABLE) and repeated calls (cache hits); then /metrics is scraped over HTTP. Each metric a query names must
have a sample, carrying the label values the query selects by equality (``code="UNAVAILABLE"``, ``tier="virtual"``,
``result="hit"``, …): a renamed metric or label in scaler/telemetry.py breaks this test, not a dashboard in
production.
"""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import oci
import pytest
from prometheus_client.parser import text_string_to_metric_families

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import KubeMode, KubeSettings, OciSettings
from tests.conftest import stub_for
from tests.deploy.observability import Need, all_needs
from tests.support.kube_api import FakeKubeApi

NS = "shop"
UNKNOWN_QUEUE = "ocid1.queue.oc1.iad.amaaaaaanotaqueuenotaqueuenotaqueuenotaqueuenotaqueue"


def _trigger(name: str, queue_id: str, tier: str, max_replicas: int) -> dict[str, str]:
    return {
        "scalerAddress": "burst-scaler-headless.keda.svc.cluster.local:6000",
        "source": "oci-queue",
        "queueId": queue_id,
        "targetBacklogPerReplica": "10",
        "tier": tier,
        "group": "orders",
        "maxReplicas": str(max_replicas),
    }


def _objects(queue_id: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for name, tier, ready in (("orders-managed", "managed", 4), ("orders-virtual", "virtual", 0)):
        objects.append(
            {
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "ScaledObject",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "scaleTargetRef": {"name": name},
                    "triggers": [{"type": "external-push", "metadata": _trigger(name, queue_id, tier, 10)}],
                },
            }
        )
        # The virtual target lacks the virtual-node selector and toleration: a placement violation.
        selector = {"workload-type": "stateful"} if tier == "managed" else {}
        tolerations = (
            [{"key": "workload-type", "operator": "Equal", "value": "stateful", "effect": "NoSchedule"}]
            if tier == "managed"
            else []
        )
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "replicas": ready,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {
                            "nodeSelector": selector,
                            "tolerations": tolerations,
                            "containers": [{"name": "consumer", "image": "example/consumer:1"}],
                        },
                    },
                },
                "status": {"replicas": ready, "readyReplicas": ready, "availableReplicas": ready},
            }
        )
    return objects


async def _ask(stub: Any, name: str, metadata: dict[str, str]) -> None:
    ref = pb.ScaledObjectRef(name=name, namespace=NS, scalerMetadata=metadata)
    spec = (await stub.GetMetricSpec(ref)).metricSpecs[0]
    await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName))
    await stub.IsActive(ref)


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def _missing(needs: set[Need], exposition: str) -> list[str]:
    samples = [(s.name, s.labels) for f in text_string_to_metric_families(exposition) for s in f.samples]
    missing = []
    for need in sorted(needs, key=lambda n: (n.family, n.labels)):
        names = {need.family, f"{need.family}_bucket", f"{need.family}_total"}
        if not any(name in names and dict(need.labels).items() <= labels.items() for name, labels in samples):
            missing.append(f"{need.family}{dict(need.labels) or ''}")
    return missing


async def test_every_metric_the_dashboard_and_alerts_read_is_on_live_metrics(
    emulator: Emulator, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    queue_id = emulator.create_queue("orders")
    config_path = emulator.write_config(tmp_path / "oci" / "config")
    client = oci.queue.QueueClient(oci.config.from_file(str(config_path)), service_endpoint=emulator.url)
    batch = [oci.queue.models.PutMessagesDetailsEntry(content="x") for _ in range(20)]
    for _ in range(10):
        await asyncio.to_thread(client.put_messages, queue_id, oci.queue.models.PutMessagesDetails(messages=batch))

    with FakeKubeApi(_objects(queue_id)) as kube:
        app = await start_scaler(
            queue_source=None,
            stream_source=None,
            oci=OciSettings(config_file=config_path, endpoint=emulator.url),
            kube=KubeSettings(mode=KubeMode.KUBECONFIG, kubeconfig=kube.write_kubeconfig(tmp_path / "kubeconfig")),
            metrics_address="127.0.0.1:0",
            cache_ttl_seconds=30.0,
        )
        stub = stub_for(channel_for(app))
        for _ in range(2):  # the second round is served from the cache
            await _ask(stub, "orders-managed", _trigger("orders-managed", queue_id, "managed", 10))
            await _ask(stub, "orders-virtual", _trigger("orders-virtual", queue_id, "virtual", 10))
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _ask(stub, "ghost", {"source": "oci-queue", "queueId": UNKNOWN_QUEUE})
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert app.metrics_port
        exposition = await asyncio.to_thread(_scrape, app.metrics_port)

    needs = all_needs()
    assert len({n.family for n in needs}) >= 20, "the queries were not read"
    assert _missing(needs, exposition) == []
    assert "ocid1" not in exposition


def test_the_check_sees_a_missing_series() -> None:
    """Not a vacuous pass: a family absent from the exposition, or present without the selected label, is reported."""
    exposition = 'burst_scaler_rpc_total{code="OK",method="IsActive"} 1.0\n'
    needs = {Need("burst_scaler_rpc_total", (("code", "UNAVAILABLE"),)), Need("burst_scaler_backlog_messages", ())}
    assert _missing(needs, exposition) == [
        "burst_scaler_backlog_messages",
        "burst_scaler_rpc_total{'code': 'UNAVAILABLE'}",
    ]
