"""Upstream economy, short version of bench/bench_upstream.py: one read per distinct source per refresh.

240 ScaledObjects on 10 queues and 2 streams are polled like KEDA (GetMetricSpec + GetMetrics + IsActive in a loop)
while a StreamIsActive per source watches too; the emulator counts what reaches OCI. A read is a GetStats (queue) or
a GetGroup (stream, which also costs CreateCursor + GetMessages per partition).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
import pytest

from oci_emulator import Emulator
from oci_emulator.messages import NewMessage
from oci_emulator.streams import NewStreamMessage
from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import OciSettings
from tests.conftest import stub_for

TTL = 1.0
WINDOW = 3.0
QUEUES, STREAMS, PARTITIONS, OBJECTS = 10, 2, 2, 240


def fleet(queue_ids: list[str], stream_ids: list[str]) -> list[tuple[pb.ScaledObjectRef, float]]:
    """Distinct ScaledObjects (own names, own targets on queues) with the backlog each must report."""
    objects = []
    for i in range(OBJECTS):
        slot = i % (QUEUES + STREAMS)
        if slot < QUEUES:
            meta = {"source": "oci-queue", "queueId": queue_ids[slot], "targetBacklogPerReplica": str(5 + i % 9)}
            expect = float(3 + slot)
        else:
            meta = {
                "source": "oci-streaming",
                "streamId": stream_ids[slot - QUEUES],
                "groupName": "billing",
                "uncommittedOffset": "earliest",
                "allowIdleConsumers": "true",
            }
            expect = 40.0
        ref = pb.ScaledObjectRef(name=f"consumer-{i}", namespace=f"ns-{i % 5}", scalerMetadata=meta)
        objects.append((ref, expect))
    return objects


async def test_one_read_per_distinct_source_per_refresh(
    emulator: Emulator, tmp_path: Path, start_scaler: Any, channel_for: Any
) -> None:
    queue_ids = [emulator.create_queue(f"orders-{q}") for q in range(QUEUES)]
    for q, queue_id in enumerate(queue_ids):
        emulator.queues.put_messages(queue_id, [NewMessage(content=f"m{n}") for n in range(3 + q)])
    stream_ids = [emulator.create_stream(f"events-{s}", partitions=PARTITIONS) for s in range(STREAMS)]
    for stream_id in stream_ids:
        emulator.streams.put_messages(stream_id, [NewStreamMessage(value=b"e", key=b"k%d" % n) for n in range(40)])
    oci = OciSettings(config_file=emulator.write_config(tmp_path / "config"), endpoint=emulator.url)
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=oci, cache_ttl_seconds=TTL, push_interval_seconds=TTL
    )
    stub = stub_for(channel_for(app))
    objects = fleet(queue_ids, stream_ids)
    answered: Counter[str] = Counter()
    wrong: list[str] = []

    async def cycle(ref: pb.ScaledObjectRef, expect: float) -> None:
        spec = (await stub.GetMetricSpec(ref)).metricSpecs[0]
        request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName)
        value = (await stub.GetMetrics(request)).metricValues[0].metricValueFloat
        active = (await stub.IsActive(ref)).result
        answered["value RPCs"] += 2
        if value != expect or not active:
            wrong.append(f"{ref.name}: {value} (active {active}), expected {expect}")

    async def poll(ref: pb.ScaledObjectRef, expect: float, until: float) -> None:
        while time.monotonic() < until:
            await cycle(ref, expect)
            await asyncio.sleep(0.2)

    async def watch(ref: pb.ScaledObjectRef, pushed: list[bool]) -> None:
        with pytest.raises(grpc.aio.AioRpcError) as info:  # noqa: PT012 - the stream ends on our deadline
            async for response in stub.StreamIsActive(ref, timeout=WINDOW + 2.0):
                pushed.append(response.result)
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    async def warm(ref: pb.ScaledObjectRef, expect: float) -> None:
        """Lookups (GetQueue, GetStream) and the first read; in-process, a cold first read may outlast 1 s."""
        codes = []
        for _ in range(10):
            try:
                return await cycle(ref, expect)
            except grpc.aio.AioRpcError as exc:
                codes.append(exc.code())
                await asyncio.sleep(0.2)
        raise AssertionError(f"{ref.name}: no value after 10 tries: {codes}")

    await asyncio.gather(*(warm(ref, expect) for ref, expect in objects[: QUEUES + STREAMS]))
    pushes: list[list[bool]] = [[] for _ in range(QUEUES + STREAMS)]
    watchers = [asyncio.create_task(watch(ref, pushes[i])) for i, (ref, _) in enumerate(objects[: QUEUES + STREAMS])]
    emulator.counters.reset()
    started = time.monotonic()
    await asyncio.gather(*(poll(ref, expect, started + WINDOW) for ref, expect in objects))
    elapsed = time.monotonic() - started
    counts = emulator.counters.snapshot()
    await asyncio.gather(*watchers)

    assert not wrong, wrong[:5]
    intervals = elapsed / TTL
    reads = counts.get("GetStats", 0) + counts.get("GetGroup", 0)
    assert reads <= (QUEUES + STREAMS) * (intervals + 1), counts
    assert counts.get("GetStats", 0) <= QUEUES * (intervals + 1)
    assert counts.get("GetGroup", 0) <= STREAMS * (intervals + 1)
    assert counts.get("GetQueue", 0) == counts.get("GetStream", 0) == 0  # endpoints looked up once, before
    assert answered["value RPCs"] >= 10 * reads  # the naive one-read-per-RPC count, for scale
    assert all(p == [True] for p in pushes), pushes  # every source non-empty: one `true` each, no repeats
