"""Activation, short version of bench/bench_activation.py: first message put → one `true` on StreamIsActive.

Correctness only (the timing figures are the benchmark's): every stream on a queue that receives a message gets
exactly one `true`, never before the put, within a generous bound; a stream on a queue that stays empty gets
nothing; no `false` is ever pushed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from oci_emulator import Emulator
from oci_emulator.messages import NewMessage
from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import OciSettings
from tests.conftest import stub_for

REFRESH = 0.5
BOUND = REFRESH + 2.0
"""Generous on a shared 2-core machine; bench_activation.py measures the real p50/p95."""


async def test_first_message_pushes_exactly_one_true(
    emulator: Emulator, tmp_path: Path, start_scaler: Any, channel_for: Any
) -> None:
    queue_ids = [emulator.create_queue(f"jobs-{i}") for i in range(6)]
    oci = OciSettings(config_file=emulator.write_config(tmp_path / "config"), endpoint=emulator.url)
    app = await start_scaler(
        queue_source=None, stream_source=None, oci=oci, cache_ttl_seconds=REFRESH, push_interval_seconds=REFRESH
    )
    stub = stub_for(channel_for(app))
    events: dict[int, list[tuple[float, bool]]] = {i: [] for i in range(len(queue_ids))}
    end = time.monotonic() + 1.0 + 5 * 0.2 + BOUND + 0.5

    async def watch(index: int) -> None:
        ref = pb.ScaledObjectRef(
            name=f"worker-{index}",
            namespace="jobs",
            scalerMetadata={"source": "oci-queue", "queueId": queue_ids[index], "scalerAddress": "scaler:6000"},
        )
        call = stub.StreamIsActive(ref, timeout=end - time.monotonic())
        with pytest.raises(grpc.aio.AioRpcError) as info:  # noqa: PT012 - the stream ends on our deadline
            async for response in call:
                events[index].append((time.monotonic(), response.result))
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    watchers = [asyncio.create_task(watch(i)) for i in range(len(queue_ids))]
    await asyncio.sleep(1.0)  # every watcher has seen its empty queue at least once
    put_at: dict[int, float] = {}
    for index in range(5):  # the last queue stays empty
        put_at[index] = time.monotonic()
        await asyncio.to_thread(emulator.queues.put_messages, queue_ids[index], [NewMessage(content="go")])
        await asyncio.sleep(0.2)
    await asyncio.gather(*watchers)

    for index, put in put_at.items():
        assert [result for _, result in events[index]] == [True], events[index]
        pushed = events[index][0][0]
        assert put <= pushed <= put + BOUND, f"queue {index}: `true` {pushed - put:.2f} s after the put"
    assert events[5] == []
