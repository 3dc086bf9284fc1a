"""One emulator and one scaler on a shared hand-moved clock, asked over real gRPC the way KEDA asks.

The window features (keep-alive, poison guard, throttle back-off) are about time. Both sides read one
``oci_emulator.ManualClock``: the emulator's visibility timeouts and dead-lettering, and the scaler's cache TTL,
staleness, back-off and keep-alive window, so a test reads as a timeline of ``advance`` calls and asserts exact
values. The scaler still reads through the real ``oci`` SDK over HTTP (signed requests, counted by the emulator),
and its waits for upstream still run on the event loop, bounded by its RPC deadline. The test's producer and
consumer act on the emulator directly: they are the world the scaler observes, not the code under test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from oci_emulator import Emulator, ManualClock
from oci_emulator.messages import NewMessage
from scaler._proto import externalscaler_pb2 as pb
from scaler.app import ScalerApp
from scaler.settings import OciSettings
from tests.conftest import stub_for

NAMESPACE = "team"


@dataclass(frozen=True)
class Answer:
    """What KEDA's poll of one ScaledObject got: the metric value and IsActive, or the refusal."""

    value: float | None
    active: bool | None
    code: grpc.StatusCode = grpc.StatusCode.OK
    details: str = ""
    metric: str = ""


@dataclass
class QueueWorld:
    emulator: Emulator
    clock: ManualClock
    app: ScalerApp
    stub: Any

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def put(self, queue_id: str, count: int, channel: str | None = None) -> None:
        if count:
            messages = [NewMessage(content=f"m{i}", channel_id=channel) for i in range(count)]
            self.emulator.queues.put_messages(queue_id, messages)

    def take(self, queue_id: str, count: int, *, visibility: int) -> list[str]:
        """Receive ``count`` messages (now in flight for ``visibility`` seconds); their receipts."""
        got = self.emulator.queues.get_messages(
            queue_id, limit=count, visibility_in_seconds=visibility, timeout_in_seconds=0
        )
        assert len(got) == count, f"wanted {count} messages, the queue gave {len(got)}"
        return [delivery.receipt for delivery in got]

    def delete(self, queue_id: str, receipts: list[str]) -> None:
        for receipt in receipts:
            self.emulator.queues.delete_message(queue_id, receipt)

    def get_stats_calls(self) -> int:
        return self.emulator.counters.get("GetStats")

    async def poll(self, ref: pb.ScaledObjectRef, *, fresh: bool = True) -> Answer:
        """KEDA's cycle for one ScaledObject: GetMetricSpec, GetMetrics, IsActive.

        With ``fresh``, the cycle is repeated (bounded) until it was answered from a read made at the clock's current
        moment (the scaler's own ``burst_scaler_value_age_seconds`` is exactly 0 on a clock that does not move):
        on a loaded machine a read may outlast the scaler's patience, and the first answer is then the previous value,
        as it would be for KEDA. Steps that expect the cached value (a back-off) pass ``fresh=False``.
        """
        answer = await self._cycle(ref)
        for _ in range(40):
            if not fresh or answer.code != grpc.StatusCode.OK or self._value_age(ref, answer.metric) == 0.0:
                break
            await asyncio.sleep(0.05)
            answer = await self._cycle(ref)
        return answer

    def _value_age(self, ref: pb.ScaledObjectRef, metric: str) -> float | None:
        labels = {"namespace": ref.namespace, "scaledobject": ref.name, "metric": metric}
        age: float | None = self.app.telemetry.registry.get_sample_value("burst_scaler_value_age_seconds", labels)
        return age

    async def _cycle(self, ref: pb.ScaledObjectRef) -> Answer:
        try:
            spec = (await self.stub.GetMetricSpec(ref)).metricSpecs[0]
            request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName)
            (value,) = (await self.stub.GetMetrics(request)).metricValues
            assert value.metricValue == max(0, round(value.metricValueFloat))
            active = (await self.stub.IsActive(ref)).result
        except grpc.aio.AioRpcError as exc:
            return Answer(None, None, exc.code(), exc.details() or "")
        return Answer(float(value.metricValueFloat), bool(active), metric=str(spec.metricName))

    async def metric_name(self, ref: pb.ScaledObjectRef) -> str:
        return str((await self.stub.GetMetricSpec(ref)).metricSpecs[0].metricName)


def queue_ref(name: str, **metadata: str) -> pb.ScaledObjectRef:
    return pb.ScaledObjectRef(name=name, namespace=NAMESPACE, scalerMetadata={"source": "oci-queue", **metadata})


async def start_world(
    *,
    start_emulator: Callable[..., Emulator],
    start_scaler: Callable[..., Any],
    channel_for: Callable[[ScalerApp], grpc.aio.Channel],
    tmp_path: Path,
    **settings: Any,
) -> QueueWorld:
    """An emulator and a scaler (real OCI sources, ``settings`` overriding the defaults) sharing one ManualClock."""
    clock = ManualClock()
    emulator = start_emulator(clock=clock)
    oci = OciSettings(config_file=emulator.write_config(tmp_path / "oci-config"), endpoint=emulator.url)
    app = await start_scaler(queue_source=None, stream_source=None, oci=oci, clock=clock, **settings)
    return QueueWorld(emulator=emulator, clock=clock, app=app, stub=stub_for(channel_for(app)))
