"""Streaming test helpers on the real SDK: produce, consume and commit as a group, and the full count to compare with.

``full_count`` is the lag as the scaler used to count it before it remembered offsets: for every partition a fresh
plain cursor after the committed offset (the oldest retained message when that offset is gone, or for a partition
never committed under ``earliest``), read to the first empty page. It shares no code with the scaler's reader, so it
is the oracle the incremental count must equal. ``Scaler`` runs a real ScalerApp whose Streaming source and refresh
cache share one manual clock, and reads a ScaledObject's value right after exactly one fresh upstream read.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import oci

from scaler._proto import externalscaler_pb2 as pb
from scaler.app import ScalerApp
from scaler.metadata import StreamRef, parse_metadata
from scaler.settings import OciSettings
from scaler.sources.oci_auth import load_credentials
from scaler.sources.oci_streaming import OciStreamingSource
from scaler.sources.stream_budget import StreamReadSettings
from tests.conftest import StartScaler, stub_for
from tests.support.fakes import ManualClock

models = oci.streaming.models


def sdk_client(config_path: Path, endpoint: str) -> Any:
    config = oci.config.from_file(str(config_path))
    quiet = {"retry_strategy": oci.retry.NoneRetryStrategy()}
    return oci.streaming.StreamClient(config, service_endpoint=endpoint, **quiet)


def produce(client: Any, stream_id: str, count: int, *, size: int = 0, first: int = 0) -> Counter[str]:
    """Put ``count`` keyed messages (values padded to ``size`` bytes); how many landed in each partition."""
    landed: Counter[str] = Counter()
    per_request = max(1, min(100, (900 * 1024) // max(size, 1)))
    for low in range(first, first + count, per_request):
        entries = [
            models.PutMessagesDetailsEntry(
                key=base64.b64encode(f"customer-{i % 37}".encode()).decode(),
                value=base64.b64encode(f"event {i}".encode().ljust(size, b".")).decode(),
            )
            for i in range(low, min(low + per_request, first + count))
        ]
        result = client.put_messages(stream_id, models.PutMessagesDetails(messages=entries)).data
        assert result.failures == 0
        landed.update(entry.partition for entry in result.entries)
    return landed


def consume(client: Any, stream_id: str, group: str, *, reads: int, limit: int, instance: str = "worker-1") -> None:
    """A group consumer: ``reads`` GetMessages of at most ``limit``, committing after each (a real group cursor)."""
    details = models.CreateGroupCursorDetails(
        group_name=group, type="TRIM_HORIZON", instance_name=instance, commit_on_get=False
    )
    cursor = client.create_group_cursor(stream_id, details).data.value
    for _ in range(reads):
        response = client.get_messages(stream_id, cursor, limit=limit)
        cursor = response.headers["opc-next-cursor"]
        client.consumer_commit(stream_id, cursor)


def committed(client: Any, stream_id: str, group: str) -> dict[str, int | None]:
    try:
        reservations = client.get_group(stream_id, group).data.reservations or []
    except oci.exceptions.ServiceError as exc:
        if exc.status == 404:
            return {}
        raise
    return {r.partition: r.committed_offset for r in reservations}


def _read_all(client: Any, stream_id: str, cursor: str) -> int:
    count = 0
    for _ in range(1000):  # bounded: far more pages than any test stream holds
        response = client.get_messages(stream_id, cursor, limit=10_000)
        if not response.data:
            return count
        count += len(response.data)
        cursor = response.headers["opc-next-cursor"]
    raise AssertionError("the stream never ended")


def full_count(client: Any, stream_id: str, group: str, partitions: Iterable[str], *, earliest: bool) -> dict[str, int]:
    """Per partition: messages after the group's committed offset, counted by reading them all."""
    offsets = committed(client, stream_id, group)
    counts: dict[str, int] = {}
    for partition in partitions:
        offset = offsets.get(partition)
        if offset is None and not earliest:
            counts[partition] = 0
            continue
        cursor = None
        if offset is not None:
            details = models.CreateCursorDetails(partition=partition, type="AFTER_OFFSET", offset=offset)
            try:
                cursor = client.create_cursor(stream_id, details).data.value
            except oci.exceptions.ServiceError as exc:
                if exc.status != 400:
                    raise
                # trimmed: count from the oldest retained message
        if cursor is None:
            details = models.CreateCursorDetails(partition=partition, type="TRIM_HORIZON")
            cursor = client.create_cursor(stream_id, details).data.value
        counts[partition] = _read_all(client, stream_id, cursor)
    return counts


def scaled_object(name: str, stream_id: str, group: str, **metadata: str) -> pb.ScaledObjectRef:
    """A Streaming trigger whose value is the lag itself (idle consumers allowed, a cap far above any backlog)."""
    meta = {
        "source": "oci-streaming",
        "streamId": stream_id,
        "groupName": group,
        "targetBacklogPerReplica": "10",
        "maxReplicas": "1000",
        "allowIdleConsumers": "true",
        **metadata,
    }
    return pb.ScaledObjectRef(name=name, namespace="team", scalerMetadata=meta)


@dataclass
class Scaler:
    """A real scaler over gRPC whose refresh cache and Streaming source run on one manual clock."""

    app: ScalerApp
    source: OciStreamingSource
    clock: ManualClock
    stub: Any
    specs: dict[str, str] = field(default_factory=dict)

    async def value(self, ref: pb.ScaledObjectRef, *, step: float = 61.0) -> float:
        """Move the clock by ``step``, then the trigger's value after exactly one fresh read of its source."""
        self.clock.advance(step)
        key = parse_metadata(dict(ref.scalerMetadata)).config.ref
        assert isinstance(key, StreamRef)
        name = await self.metric_name(ref)
        request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=name)
        for _ in range(500):  # bounded: a read of a test stream takes milliseconds to a few seconds
            try:
                (value,) = (await self.stub.GetMetrics(request)).metricValues
            except grpc.aio.AioRpcError as exc:  # the first read of a source may outlast one RPC's wait
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                await asyncio.sleep(0.02)
                continue
            history = self.app.cache.history(key)
            if history and history[-1].observed_at == self.clock.now:
                return float(value.metricValueFloat)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no fresh read of {ref.name} at t={self.clock.now}")

    async def metric_name(self, ref: pb.ScaledObjectRef) -> str:
        if ref.name not in self.specs:
            self.specs[ref.name] = (await self.stub.GetMetricSpec(ref)).metricSpecs[0].metricName
        return self.specs[ref.name]

    def gauge(self, ref: pb.ScaledObjectRef, partition: str, name: str = "burst_scaler_partition_lag_messages") -> Any:
        labels = {"namespace": "team", "scaledobject": ref.name, "metric": self.specs[ref.name], "partition": partition}
        return self.app.telemetry.registry.get_sample_value(name, labels)


async def start_scaler_on_clock(
    start_scaler: StartScaler,
    channel_for: Any,
    *,
    config_path: Path,
    endpoint: str,
    reading: StreamReadSettings | None = None,
    clock: ManualClock | None = None,
    **overrides: Any,
) -> Scaler:
    """A scaler with its own Streaming source (a fresh memory of offsets, as after a restart) on a manual clock."""
    clock = clock or ManualClock()
    settings = OciSettings(config_file=config_path, endpoint=endpoint, max_attempts=1)
    source = OciStreamingSource(settings=settings, credentials=load_credentials(settings), reading=reading, clock=clock)
    app = await start_scaler(queue_source=None, stream_source=source, oci=settings, clock=clock, **overrides)
    return Scaler(app=app, source=source, clock=clock, stub=stub_for(channel_for(app)))
