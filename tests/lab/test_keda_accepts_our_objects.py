"""Real KEDA against our ScaledObjects and our GetMetricSpec: what a user checks first."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc
from tests.lab.support import Lab, condition, until

pytestmark = pytest.mark.timeout(900)

EXAMPLE_OBJECTS = {"queue-consumer", "orders-managed", "orders-virtual", "stream-consumer"}


async def _metric_spec(address: str, name: str, namespace: str, metadata: dict[str, str]) -> pb.MetricSpec:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        ref = pb.ScaledObjectRef(name=name, namespace=namespace, scalerMetadata=metadata)
        response = await stub.GetMetricSpec(ref, timeout=5)
        (spec,) = response.metricSpecs
        assert isinstance(spec, pb.MetricSpec)
        return spec


def test_keda_reports_every_example_ready_and_builds_its_hpa_from_our_metric_spec(lab: Lab) -> None:
    objects = {o["metadata"]["name"]: o for o in lab.get("scaledobjects", "-n", lab.namespace)["items"]}
    assert set(objects) == EXAMPLE_OBJECTS
    for name, scaled_object in objects.items():
        assert condition(scaled_object, "Ready"), (name, scaled_object.get("status"))

        trigger = scaled_object["spec"]["triggers"][0]["metadata"]
        ours = asyncio.run(_metric_spec(lab.scaler_address, name, lab.namespace, trigger))
        hpa = lab.get("hpa", f"keda-hpa-{name}", "-n", lab.namespace)
        (metric,) = hpa["spec"]["metrics"]
        assert metric["type"] == "External"
        # KEDA names the HPA's metric s<trigger index>-<our metric name> and keeps our target as AverageValue
        assert metric["external"]["metric"]["name"] == f"s0-{ours.metricName}"
        assert metric["external"]["target"]["type"] == "AverageValue"
        assert metric["external"]["target"]["averageValue"] == str(ours.targetSize)
        assert hpa["spec"]["maxReplicas"] == scaled_object["spec"]["maxReplicaCount"]


def test_the_hpa_reads_our_metric_through_keda_metrics_adapter(lab: Lab) -> None:
    # The HPA controller's own status is the proof that the whole aggregation path works: it read a value.
    def read_by_hpa() -> bool:
        hpa = lab.get("hpa", "keda-hpa-orders-managed", "-n", lab.namespace)
        return condition(hpa, "ScalingActive") and bool((hpa.get("status") or {}).get("currentMetrics"))

    until("the HPA of orders-managed reading its external metric", read_by_hpa, timeout=90)
