"""`burst-scaler demo`: the scaler doing its job on one machine, no cloud account.

It starts the local OCI emulator on 127.0.0.1, creates a queue through the official SDK, starts the real scaler
against it, and talks to the scaler over gRPC exactly as KEDA does (GetMetricSpec, GetMetrics + IsActive, and an
open StreamIsActive). Then it puts a burst, drains it with a consumer, and prints what KEDA would see each second.
Every loop here is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import grpc
import oci

from scaler._proto import externalscaler_pb2 as pb
from scaler._proto import externalscaler_pb2_grpc
from scaler.app import ScalerApp
from scaler.emulator import Emulator
from scaler.settings import OciSettings, Settings

_BATCH = 20
_TARGET_PER_REPLICA = 10
_MAX_SECONDS = 90.0


class _Keda:
    """The subset of KEDA's client behaviour the demo needs: one poll = GetMetricSpec, GetMetrics, IsActive."""

    def __init__(self, channel: grpc.aio.Channel, ref: pb.ScaledObjectRef) -> None:
        self._stub = externalscaler_pb2_grpc.ExternalScalerStub(channel)  # type: ignore[no-untyped-call]
        self._ref = ref

    async def poll(self) -> tuple[float, bool, float]:
        spec = (await self._stub.GetMetricSpec(self._ref)).metricSpecs[0]
        request = pb.GetMetricsRequest(scaledObjectRef=self._ref, metricName=spec.metricName)
        value = (await self._stub.GetMetrics(request)).metricValues[0].metricValueFloat
        active = (await self._stub.IsActive(self._ref)).result
        return value, active, spec.targetSizeFloat

    def stream(self) -> Any:
        return self._stub.StreamIsActive(self._ref)


def _line(out: TextIO, started: float, phase: str, value: float, active: bool, target: float) -> None:
    replicas = -(-int(value) // int(target)) if value else 0
    out.write(
        f"{time.monotonic() - started:6.1f}s  {phase:<9} backlog={value:>5.0f}  active={active!s:<5}  "
        f"HPA replicas={replicas}\n"
    )
    out.flush()


async def run_demo(*, messages: int, out: TextIO) -> int:
    """Run the whole story; returns a process exit code (non-zero if the scaler misbehaved)."""
    messages = max(1, min(messages, 5000))
    with tempfile.TemporaryDirectory(prefix="burst-demo-") as tmp, Emulator(host="127.0.0.1", port=0) as emulator:
        config_path = emulator.write_config(Path(tmp) / "config")
        out.write(f"OCI emulator on {emulator.url}; SDK config written to {config_path}\n")
        config = oci.config.from_file(str(config_path))
        admin = oci.queue.QueueAdminClient(config, service_endpoint=emulator.url)
        details = oci.queue.models.CreateQueueDetails(
            display_name="demo-orders", compartment_id=config.get("tenancy"), visibility_in_seconds=30
        )
        created = await asyncio.to_thread(
            oci.queue.QueueAdminClientCompositeOperations(admin).create_queue_and_wait_for_state,
            details,
            wait_for_states=["SUCCEEDED"],
        )
        queue_id = created.data.resources[0].identifier
        queue = await asyncio.to_thread(lambda: admin.get_queue(queue_id).data)
        data = oci.queue.QueueClient(config, service_endpoint=queue.messages_endpoint)
        out.write(f"queue {queue.display_name} is {queue.lifecycle_state}\n")

        settings = Settings(
            address="127.0.0.1:0",
            metrics_address=None,
            oci=OciSettings(config_file=config_path, endpoint=emulator.url),
            push_interval_seconds=0.5,
            cache_ttl_seconds=0.5,
            grace_seconds=2.0,
        )
        app = ScalerApp(settings=settings)
        await app.start()
        out.write(f"scaler serving externalscaler.ExternalScaler on 127.0.0.1:{app.port}\n\n")
        ref = pb.ScaledObjectRef(
            name="orders-consumer",
            namespace="demo",
            scalerMetadata={
                "scalerAddress": f"127.0.0.1:{app.port}",
                "source": "oci-queue",
                "queueId": queue_id,
                "targetBacklogPerReplica": str(_TARGET_PER_REPLICA),
                "maxReplicas": "20",
            },
        )
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
                return await _story(_Keda(channel, ref), data, queue_id, messages, out)
        finally:
            await app.stop()


async def _story(keda: _Keda, data: Any, queue_id: str, messages: int, out: TextIO) -> int:
    started = time.monotonic()
    value, active, target = await keda.poll()
    _line(out, started, "idle", value, active, target)
    ok = value == 0 and not active

    stream = keda.stream()
    pushed = asyncio.create_task(stream.read())
    put_at = time.monotonic()
    for first in range(0, messages, _BATCH):
        batch = [
            oci.queue.models.PutMessagesDetailsEntry(
                content=f"order {i}",
                metadata=oci.queue.models.MessageMetadata(channel_id="heavy" if i % 4 == 0 else "light"),
            )
            for i in range(first, min(first + _BATCH, messages))
        ]
        await asyncio.to_thread(data.put_messages, queue_id, oci.queue.models.PutMessagesDetails(messages=batch))
    out.write(f"put a burst of {messages} messages (1 in 4 on channel 'heavy')\n")
    message = await asyncio.wait_for(pushed, timeout=10)
    out.write(
        f"StreamIsActive pushed {message.result} {time.monotonic() - put_at:.2f}s after the first put "
        "(KEDA scales from zero now, not at its next poll)\n"
    )
    value, active, target = await keda.poll()
    _line(out, started, "burst", value, active, target)
    ok = ok and value == messages and active

    deadline = time.monotonic() + _MAX_SECONDS
    remaining = messages
    while remaining > 0 and time.monotonic() < deadline:
        got = await asyncio.to_thread(lambda: data.get_messages(queue_id, limit=min(32, _BATCH), timeout_in_seconds=1))
        receipts = [m.receipt for m in got.data.messages]
        if receipts:
            entries = [oci.queue.models.DeleteMessagesDetailsEntry(receipt=r) for r in receipts]
            await asyncio.to_thread(
                data.delete_messages, queue_id, oci.queue.models.DeleteMessagesDetails(entries=entries)
            )
            remaining -= len(receipts)
        await asyncio.sleep(0.6)
        value, active, target = await keda.poll()
        _line(out, started, "draining", value, active, target)

    await asyncio.sleep(0.6)
    value, active, target = await keda.poll()
    _line(out, started, "drained", value, active, target)
    ok = ok and remaining == 0 and value == 0 and not active
    stream.cancel()
    with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
        await stream.read()
    out.write(
        "\n"
        + (
            "demo finished: the metric followed the backlog up and down\n"
            if ok
            else "demo FAILED: the scaler did not report what the queue holds\n"
        )
    )
    return 0 if ok else 1
