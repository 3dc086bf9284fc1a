"""Thousands of StreamIsActive streams opened at once on one connection, as KEDA does after a scaler restart.

KEDA's operator holds one stream per ``external-push`` trigger on one shared connection and re-opens all of them
together when the scaler comes back. gRPC core sheds calls that arrive faster than the server accepts them (1000
pending by default); the scaler raises that limit, so every stream must open and get its ``true``, none CANCELLED.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import grpc

from scaler._proto import externalscaler_pb2 as pb
from tests.conftest import stub_for
from tests.support.fakes import FakeQueueSource

STREAMS = 2500


async def test_thousands_of_streams_opened_at_once_all_get_their_true(start_scaler: Any, channel_for: Any) -> None:
    source = FakeQueueSource(visible=5)
    app = await start_scaler(queue_source=source, cache_ttl_seconds=5.0, push_interval_seconds=5.0)
    stub = stub_for(channel_for(app))
    outcomes: Counter[str] = Counter()

    async def watch(index: int) -> None:
        ref = pb.ScaledObjectRef(
            name=f"worker-{index}",
            namespace="jobs",
            scalerMetadata={"source": "oci-queue", "queueId": f"ocid1.queue.oc1..q{index % 10}"},
        )
        call = stub.StreamIsActive(ref, timeout=60.0)
        try:
            first = await call.read()
            outcomes["true" if isinstance(first, pb.IsActiveResponse) and first.result else repr(first)] += 1
        except grpc.aio.AioRpcError as exc:
            outcomes[f"{exc.code().name}: {exc.details()}"] += 1
        finally:
            call.cancel()

    await asyncio.wait_for(asyncio.gather(*(watch(i) for i in range(STREAMS))), timeout=90.0)
    assert outcomes == Counter({"true": STREAMS})
