"""The harness's KEDA/HPA loop against a real scaler over gRPC: push activation, HPA sizing, cooldown, fallback,
and what KEDA does when the scaler errs or is down."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc

from onebox.harness.hpa import Behavior, ScalingPolicy
from onebox.harness.keda import KedaLoop
from onebox.harness.scaledobject import Fallback, ScaledObjectSpec
from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc
from tests.support.fakes import FakeQueueSource


class Target:
    def __init__(self) -> None:
        self.replicas = 0

    def scale(self, replicas: int) -> None:
        self.replicas = replicas


async def until(predicate: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def spec(**overrides: Any) -> ScaledObjectSpec:
    fields: dict[str, Any] = {
        "name": "orders",
        "namespace": "demo",
        "metadata": {"source": "oci-queue", "queueId": "ocid1.queue.oc1..q", "targetBacklogPerReplica": "10"},
        "polling_interval": 0.2,
        "cooldown_period": 0.6,
        "hpa_sync_period": 0.1,
        "max_replicas": 20,
        # HPA defaults with the 15 s policy periods compressed, so the test runs in seconds
        "behavior": Behavior(
            scale_down_stabilization_seconds=0.3,
            scale_up_policies=(ScalingPolicy("Percent", 100, 0.1), ScalingPolicy("Pods", 4, 0.1)),
            scale_down_policies=(ScalingPolicy("Percent", 100, 0.1),),
        ),
    }
    fields.update(overrides)
    return ScaledObjectSpec(**fields)


async def test_push_activates_hpa_sizes_and_cooldown_returns_to_zero(start_scaler: Any) -> None:
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, push_interval_seconds=0.05, cache_ttl_seconds=0.05)
    target = Target()
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        loop = KedaLoop(channel=channel, spec=spec(polling_interval=30.0), target=target)
        task = asyncio.create_task(loop.run(stop))
        await asyncio.sleep(0.3)
        assert target.replicas == 0
        source.set(75)
        await until(lambda: target.replicas >= 1)
        assert loop.stats.pushes == 1  # scaled from zero by the push, long before the 30 s poll
        await until(lambda: target.replicas == 8)  # HPA: ceil(75 / 10)
        assert [r for _, r, _ in loop.stats.scale_events] == [1, 5, 8]  # rate policy: +4 pods, then the rest
        stop.set()
        await task
        assert loop.stats.surprises == []


async def test_cooldown_then_zero_and_fallback_holds_replicas_on_errors(start_scaler: Any) -> None:
    source = FakeQueueSource(visible=40)
    app = await start_scaler(
        queue_source=source, cache_ttl_seconds=0.05, max_staleness_seconds=0.2, push_interval_seconds=0.05
    )
    target = Target()
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        loop = KedaLoop(
            channel=channel, spec=spec(push=False, fallback=Fallback(failure_threshold=1, replicas=3)), target=target
        )
        task = asyncio.create_task(loop.run(stop))
        await until(lambda: target.replicas == 4)
        source.fail = "HTTP 503"  # the scaler goes UNAVAILABLE after its staleness bound
        await until(lambda: loop.stats.fallback_active)
        await until(lambda: target.replicas == 3)  # fallback replicas, never zero while erroring
        await asyncio.sleep(1.0)
        assert target.replicas == 3
        source.fail = None
        source.set(0)
        await until(lambda: target.replicas == 0)  # recovered, inactive, cooldown elapsed
        stop.set()
        await task
        assert loop.stats.surprises == []


async def test_an_hpa_sync_racing_the_scale_to_zero_does_not_undo_it(start_scaler: Any) -> None:
    """KEDA's executor scales to zero while an HPA sync is reading metrics: the HPA's stale write must not land.

    With equal polling and sync periods the two loops meet on every tick, so an HPA that wrote back from its stale
    read would put 1 replica back every time KEDA removed it, and the tier would never rest at zero.
    """
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=5.0)
    target = Target()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        loop = KedaLoop(channel=channel, spec=spec(push=False), target=target)
        await loop.poll_once()  # KEDA has read the metric spec once
        target.scale(1)
        sync = asyncio.create_task(loop.hpa_once())
        await asyncio.sleep(0)  # the sync has read replicas = 1 and is waiting for the scaler
        target.scale(0)  # the executor: inactive, cooldown elapsed
        await sync
        assert target.replicas == 0
        assert loop.stats.scale_events == []
        await loop.hpa_once()  # at zero the HPA is disabled
        assert target.replicas == 0


async def test_a_scaler_that_is_down_gets_no_fallback_and_keeps_its_replicas(start_scaler: Any) -> None:
    """KEDA issue 8056: GetMetricSpec fails before fallback is consulted, and an erroring inactive object is not
    scaled in (scale_scaledobjects.go RequestScale): the scale stays where it was, not fallback.replicas, not 0."""
    source = FakeQueueSource(visible=40)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=0.05)
    target = Target()
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        loop = KedaLoop(
            channel=channel, spec=spec(push=False, fallback=Fallback(failure_threshold=1, replicas=3)), target=target
        )
        task = asyncio.create_task(loop.run(stop))
        await until(lambda: target.replicas == 4)
        await app.stop()
        await until(lambda: loop.stats.errors >= 6)
        await asyncio.sleep(1.0)  # well past the 0.6 s cooldown
        assert target.replicas == 4
        assert loop.stats.fallback_reads == 0
        assert not loop.stats.fallback_active
        assert loop.stats.rebuilds >= loop.stats.errors  # every failure came after a rebuild and one retry
        stop.set()
        await task
        assert loop.stats.surprises == []


async def test_metric_errors_without_fallback_hold_replicas_past_the_cooldown(start_scaler: Any) -> None:
    source = FakeQueueSource(visible=40)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=0.05, max_staleness_seconds=0.2)
    target = Target()
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        loop = KedaLoop(channel=channel, spec=spec(push=False), target=target)
        task = asyncio.create_task(loop.run(stop))
        await until(lambda: target.replicas == 4)
        source.fail = "HTTP 503"
        await until(lambda: loop.stats.errors >= 6)
        await asyncio.sleep(1.0)
        assert target.replicas == 4  # the model used to scale to zero here, after the cooldown
        stop.set()
        await task


async def test_while_fallback_is_active_the_object_counts_as_active(start_scaler: Any) -> None:
    """scale_handler.go getScalerState (>= 2.19): isActiveOrFallback, so lastActiveTime keeps moving."""
    source = FakeQueueSource(visible=40)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=0.05, max_staleness_seconds=0.2)
    target = Target()
    stop = asyncio.Event()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        loop = KedaLoop(
            channel=channel, spec=spec(push=False, fallback=Fallback(failure_threshold=1, replicas=3)), target=target
        )
        task = asyncio.create_task(loop.run(stop))
        await until(lambda: target.replicas == 4)
        source.fail = "HTTP 503"
        await until(lambda: loop.stats.fallback_active)
        first = loop.stats.last_active_at
        assert first is not None
        await until(lambda: (loop.stats.last_active_at or 0) > first + 0.3)
        stop.set()
        await task


async def test_keda_does_not_cut_to_min_replicas_the_hpa_scales_in(start_scaler: Any) -> None:
    """RequestScale scales in only to 0 (minReplicaCount 0) or to idleReplicaCount; above that it is the HPA's."""
    source = FakeQueueSource(visible=0)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=0.05)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        target = Target()
        target.scale(6)
        loop = KedaLoop(channel=channel, spec=spec(push=False, min_replicas=2), target=target)
        await loop.poll_once()  # inactive, never active: the cooldown has long passed
        assert target.replicas == 6
        target.scale(1)
        await loop.poll_once()
        assert target.replicas == 2  # below minReplicaCount, KEDA does set it
        idle = Target()
        idle.scale(6)
        loop = KedaLoop(channel=channel, spec=spec(push=False, min_replicas=2, idle_replicas=0), target=idle)
        await loop.poll_once()
        assert idle.replicas == 0


class FlakyScaler(externalscaler_pb2_grpc.ExternalScalerServicer):
    """Fails the first call of each unary RPC, like a scaler whose connection KEDA must rebuild."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def _once(self, name: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if self.calls[name] == 1:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "first call fails")

    async def GetMetricSpec(self, request: Any, context: Any) -> pb.GetMetricSpecResponse:
        await self._once("GetMetricSpec", context)
        return pb.GetMetricSpecResponse(metricSpecs=[pb.MetricSpec(metricName="q", targetSize=10, targetSizeFloat=10)])

    async def GetMetrics(self, request: Any, context: Any) -> pb.GetMetricsResponse:
        await self._once("GetMetrics", context)
        return pb.GetMetricsResponse(metricValues=[pb.MetricValue(metricName="q", metricValue=30, metricValueFloat=30)])

    async def IsActive(self, request: Any, context: Any) -> pb.IsActiveResponse:
        return pb.IsActiveResponse(result=True)


async def test_one_retry_after_rebuilding_the_scaler_hides_a_single_failure() -> None:
    """scalers_cache.go: a failed GetMetricSpec or GetMetrics is retried once on a rebuilt scaler."""
    server = grpc.aio.server()
    externalscaler_pb2_grpc.add_ExternalScalerServicer_to_server(FlakyScaler(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            target = Target()
            loop = KedaLoop(channel=channel, spec=spec(push=False), target=target)
            await loop.poll_once()
            assert loop.stats.errors == 0
            assert loop.stats.rebuilds == 2
            assert target.replicas == 1
    finally:
        await server.stop(None)
