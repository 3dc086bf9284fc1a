"""Every RPC and error path through a real grpc.aio server on 127.0.0.1 and a real client stub.

The backlog comes from a scripted source at the BacklogSource seam so timing and failures are exact;
tests/integration/test_queue_end_to_end.py runs the same RPCs on the real OCI SDK against the emulator.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from scaler._proto import externalscaler_pb2 as pb
from tests.conftest import stub_for
from tests.support.fakes import FakeQueueSource, ManualClock

QUEUE = "ocid1.queue.oc1.iad.amaaaaaaexamplequeue123456"


def ref(name: str = "orders", namespace: str = "shop", **metadata: str) -> pb.ScaledObjectRef:
    meta = {"scalerAddress": "burst-scaler.keda:6000", "source": "oci-queue", "queueId": QUEUE}
    meta.update(metadata)
    return pb.ScaledObjectRef(name=name, namespace=namespace, scalerMetadata=meta)


async def metric(stub: Any, so: pb.ScaledObjectRef) -> pb.MetricValue:
    spec = (await stub.GetMetricSpec(so)).metricSpecs[0]
    response = await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=so, metricName=spec.metricName))
    assert len(response.metricValues) == 1
    value: pb.MetricValue = response.metricValues[0]
    return value


async def test_metric_spec_is_stable_path_safe_and_sets_both_targets(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler()
    stub = stub_for(channel_for(app))
    first = await stub.GetMetricSpec(ref(targetBacklogPerReplica="7.5"))
    second = await stub.GetMetricSpec(ref(targetBacklogPerReplica="7.5"))
    assert first == second
    (spec,) = first.metricSpecs
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.metricName)
    assert spec.targetSizeFloat == 7.5
    assert spec.targetSize == 8
    channel_spec = (await stub.GetMetricSpec(ref(channelId="heavy"))).metricSpecs[0]
    assert channel_spec.metricName != spec.metricName
    small = (await stub.GetMetricSpec(ref(targetBacklogPerReplica="0.2"))).metricSpecs[0]
    assert (small.targetSize, small.targetSizeFloat) == (1, 0.2)


async def test_get_metrics_reports_backlog_with_and_without_in_flight(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource(visible=37, in_flight=5)
    app = await start_scaler(queue_source=source)
    stub = stub_for(channel_for(app))
    value = await metric(stub, ref())
    assert (value.metricValue, value.metricValueFloat) == (42, 42.0)
    value = await metric(stub, ref(includeInFlight="false"))
    assert (value.metricValue, value.metricValueFloat) == (37, 37.0)


async def test_metric_value_is_capped_so_hpa_lands_on_max_replicas(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler(queue_source=FakeQueueSource(visible=1000))
    stub = stub_for(channel_for(app))
    value = await metric(stub, ref(targetBacklogPerReplica="10", maxReplicas="7"))
    assert value.metricValueFloat == 65.0  # HPA: ceil(65 / 10) = 7 replicas exactly, robust to KEDA's rounding


@pytest.mark.parametrize(
    ("backlog", "activation", "expected"),
    [(0, "0", False), (1, "0", True), (5, "5", False), (6, "5", True)],
)
async def test_is_active_is_strictly_above_activation_backlog(
    start_scaler: Any, channel_for: Any, backlog: int, activation: str, expected: bool
) -> None:
    app = await start_scaler(queue_source=FakeQueueSource(visible=backlog))
    stub = stub_for(channel_for(app))
    response = await stub.IsActive(ref(activationBacklog=activation))
    assert response.result is expected


async def test_bad_metadata_lists_every_problem_as_invalid_argument(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler()
    stub = stub_for(channel_for(app))
    bad = pb.ScaledObjectRef(
        name="x",
        namespace="y",
        scalerMetadata={"source": "oci-queue", "tier": "spot", "targetBacklogPerReplica": "-1", "maxReplicas": "many"},
    )
    for call in (
        stub.GetMetricSpec(bad),
        stub.IsActive(bad),
        stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=bad)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details() == (
            'missing required parameter "queueId"; '
            'parameter "targetBacklogPerReplica" value "-1" must be > 0; '
            'parameter "tier" value "spot" must be one of [managed virtual]; '
            'unable to set param "maxReplicas" value "many": expected an integer'
        )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetMetricSpec(pb.ScaledObjectRef(name="x", namespace="y"))
    assert info.value.details() == 'missing required parameter "source"'
    stream = stub.StreamIsActive(bad)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stream.read()
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_unknown_metadata_key_warns_once_per_scaled_object(
    start_scaler: Any, channel_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_scaler(queue_source=FakeQueueSource(visible=1))
    stub = stub_for(channel_for(app))
    with caplog.at_level(logging.WARNING, logger="scaler"):
        for _ in range(3):
            await stub.IsActive(ref(queueLenght="5"))
        await stub.IsActive(ref(name="other", queueLenght="5"))
    warnings = [r.getMessage() for r in caplog.records if "unknown trigger metadata" in r.getMessage()]
    assert len(warnings) == 2
    assert "queueLenght" in warnings[0]
    assert "scalerAddress" not in warnings[0]


async def test_from_env_keys_are_accepted(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler(queue_source=FakeQueueSource(visible=3))
    stub = stub_for(channel_for(app))
    so = pb.ScaledObjectRef(name="a", namespace="b", scalerMetadata={"source": "oci-queue", "queueIdFromEnv": QUEUE})
    assert (await metric(stub, so)).metricValue == 3


async def test_wrong_metric_name_is_invalid_argument(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler(queue_source=FakeQueueSource(visible=3))
    stub = stub_for(channel_for(app))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref(), metricName="queueLength"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "GetMetricSpec names" in (info.value.details() or "")


async def test_upstream_failure_serves_last_good_then_unavailable_never_zero(
    start_scaler: Any, channel_for: Any
) -> None:
    clock = ManualClock()
    source = FakeQueueSource(visible=25)
    app = await start_scaler(queue_source=source, clock=clock, cache_ttl_seconds=1.0, max_staleness_seconds=30.0)
    stub = stub_for(channel_for(app))
    assert (await metric(stub, ref())).metricValue == 25
    source.fail = "HTTP 500 InternalServerError"
    clock.advance(10)
    assert (await metric(stub, ref())).metricValue == 25  # stale but within the bound
    assert (await stub.IsActive(ref())).result is True
    clock.advance(25)  # last good value is now 35 s old
    for call in (stub.IsActive(ref()), metric(stub, ref())):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "staleness bound" in (info.value.details() or "")
    source.fail = None
    clock.advance(1)
    assert (await metric(stub, ref())).metricValue == 25


async def test_no_value_yet_and_upstream_down_is_unavailable(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource()
    source.fail = "HTTP 429 TooManyRequests"
    app = await start_scaler(queue_source=source)
    stub = stub_for(channel_for(app))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref()))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "429" in (info.value.details() or "")


async def test_hung_upstream_never_holds_an_rpc_past_its_deadline(start_scaler: Any, channel_for: Any) -> None:
    clock = ManualClock()
    source = FakeQueueSource(visible=9)
    app = await start_scaler(queue_source=source, clock=clock, rpc_deadline_seconds=0.3)
    stub = stub_for(channel_for(app))
    assert (await metric(stub, ref())).metricValue == 9
    source.hang_seconds = 10.0
    clock.advance(5)
    started = time.monotonic()
    assert (await metric(stub, ref())).metricValue == 9  # last good, after at most the deadline
    # With a caller deadline shorter than ours, the caller's wins.
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.IsActive(ref(name="fresh", queueId="ocid1.queue.oc1..other"), timeout=0.2)
    elapsed = time.monotonic() - started
    source.release()
    assert elapsed < 1.5


async def test_a_buggy_source_is_internal_and_the_server_keeps_serving(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource(visible=4)
    source.broken = True
    app = await start_scaler(queue_source=source)
    stub = stub_for(channel_for(app))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.IsActive(ref())
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert (await stub.GetMetricSpec(ref())).metricSpecs


async def test_stream_metric_spec_is_unimplemented(start_scaler: Any, channel_for: Any) -> None:
    app = await start_scaler()
    stub = stub_for(channel_for(app))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.StreamMetricSpec(ref()).read()
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_stream_is_active_pushes_true_once_per_transition(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, push_interval_seconds=0.05, cache_ttl_seconds=0.05)
    stub = stub_for(channel_for(app))
    stream = stub.StreamIsActive(ref())
    received: list[bool] = []

    async def reader() -> None:
        async for message in stream:
            received.append(message.result)

    task = asyncio.create_task(reader())
    await asyncio.sleep(0.3)
    assert received == []
    source.set(12)
    await _until(lambda: received == [True])
    await asyncio.sleep(0.4)  # still active: no repeated true
    assert received == [True]
    source.set(0)
    await asyncio.sleep(0.3)
    assert received == [True]  # false is never pushed
    source.set(3)
    await _until(lambda: received == [True, True])
    stream.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await _until(lambda: _gauge(app, "burst_scaler_active_streams") == 0)
    assert app.cache.watched == 0  # the watcher stopped with its last subscriber


async def test_200_concurrent_streams_on_one_connection(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, push_interval_seconds=0.1, cache_ttl_seconds=0.1)
    stub = stub_for(channel_for(app))
    streams = [stub.StreamIsActive(ref(name=f"so-{i}", queueId=f"{QUEUE}{i % 10}")) for i in range(200)]
    await _until(lambda: _gauge(app, "burst_scaler_active_streams") == 200)
    assert app.cache.watched == 10  # one refresh loop per distinct source
    source.set(50)
    firsts = await asyncio.wait_for(asyncio.gather(*(s.read() for s in streams)), timeout=10)
    assert all(m.result is True for m in firsts)
    for s in streams:
        s.cancel()
    await _until(lambda: _gauge(app, "burst_scaler_active_streams") == 0)


async def test_health_reflection_and_graceful_shutdown_ends_streams_ok(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, push_interval_seconds=0.05, grace_seconds=2.0)
    channel = channel_for(app)
    health = health_pb2_grpc.HealthStub(channel)
    checked = await health.Check(health_pb2.HealthCheckRequest(service="externalscaler.ExternalScaler"))
    assert checked.status == health_pb2.HealthCheckResponse.SERVING
    assert (await health.Check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    services = {s.name async for answer in answers for s in answer.list_services_response.service}
    assert {"externalscaler.ExternalScaler", "grpc.health.v1.Health"} <= services

    watch = health.Watch(health_pb2.HealthCheckRequest())
    assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
    stream = stub_for(channel).StreamIsActive(ref())
    await _until(lambda: _gauge(app, "burst_scaler_active_streams") == 1)
    stopping = asyncio.create_task(app.stop())
    assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
    # A clean end of stream, not an error. grpc-stubs do not declare grpc.aio.EOF.
    assert await stream.read() is grpc.aio.EOF  # type: ignore[attr-defined]
    assert await stream.code() == grpc.StatusCode.OK
    await asyncio.wait_for(stopping, timeout=5)


async def _until(predicate: Any, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def _gauge(app: Any, name: str) -> float:
    value = app.telemetry.registry.get_sample_value(name)
    return float(value) if value is not None else 0.0
