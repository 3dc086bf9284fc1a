"""Fair to consumers: the scaler's own reads stay below OCI's per-partition limits, and a 429 rests one partition only.

Through real gRPC and the real SDK against the emulator. The first test runs the production composition (real
clock, default reading settings) against the emulator's OCI throttle (5 GetMessages per second per partition for
plain cursors) and hammers the scaler; the second drives a 429 on one partition on a manual clock and watches that
partition rest while the others are read, with the value never below what is known.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from scaler.errors import UpstreamError
from scaler.metadata import StreamRef, parse_metadata
from scaler.settings import OciSettings
from scaler.sources.oci_auth import load_credentials
from scaler.sources.oci_streaming import OciStreamingSource
from scaler.sources.stream_budget import StreamReadSettings
from scaler.values import PartitionLag
from tests.conftest import stub_for
from tests.integration.conftest import StartEmulator
from tests.support.fakes import ManualClock
from tests.support.streams import full_count, produce, scaled_object, sdk_client, start_scaler_on_clock

GROUP = "billing"
READS = "GetStreamMessages"


@pytest.fixture
def client(emulator: Emulator, tmp_path: Path) -> Iterator[Any]:
    made = sdk_client(emulator.write_config(tmp_path / "config"), emulator.url)
    yield made
    made.base_client.session.close()


async def test_hammering_the_scaler_never_makes_oci_throttle_its_reads(
    emulator: Emulator, client: Any, tmp_path: Path, start_scaler: Any, channel_for: Any, caplog: Any
) -> None:
    assert emulator.streams.throttle.enabled  # OCI's 5 GetMessages per second per partition, 429 beyond
    stream_id = emulator.create_stream("hammered", partitions=2)
    await asyncio.to_thread(produce, client, stream_id, 3000, size=1024)  # ~1.5 MB per partition: a paced cold read
    settings = OciSettings(config_file=tmp_path / "config", endpoint=emulator.url, max_attempts=1)
    app = await start_scaler(queue_source=None, stream_source=None, oci=settings, cache_ttl_seconds=0.001)
    stub = stub_for(channel_for(app))
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest")
    name = (await stub.GetMetricSpec(ref)).metricSpecs[0].metricName
    request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=name)
    emulator.counters.reset()
    caplog.set_level(logging.WARNING)

    started = time.monotonic()
    values = []
    while time.monotonic() - started < 3.0:  # bounded: as fast as one client can ask, for 3 s
        try:
            values.append((await stub.GetMetrics(request)).metricValues[0].metricValueFloat)
        except grpc.aio.AioRpcError as exc:  # only while the very first read (a paced cold read) is under way
            if exc.code() != grpc.StatusCode.UNAVAILABLE or values:
                raise
            continue
        if len(values) % 20 == 0:
            await asyncio.to_thread(produce, client, stream_id, 10, size=1024, first=3000 + len(values))
    elapsed = time.monotonic() - started

    assert len(values) > 100
    assert not [r for r in caplog.records if "throttled" in r.getMessage()]  # OCI never answered 429
    budget = StreamReadSettings()
    assert emulator.counters.get(READS) <= 2 * (budget.get_burst + budget.gets_per_second * (elapsed + 0.5))
    payload = emulator.counters.served(READS).payload
    assert payload <= 2 * (budget.byte_burst + budget.bytes_per_second * (elapsed + 0.5)) + 2 * 1100
    assert values == sorted(values)  # the paced cold read only ever adds; never a false drop, never 0
    assert values[0] > 0


@pytest.fixture
def quiet_emulator(start_emulator: StartEmulator) -> Emulator:
    return start_emulator(stream_throttle=False)


async def test_a_429_rests_that_partition_only_and_reads_it_again_after_the_back_off(
    quiet_emulator: Emulator, tmp_path: Path, start_scaler: Any, channel_for: Any
) -> None:
    emulator = quiet_emulator
    sdk = sdk_client(emulator.write_config(tmp_path / "config"), emulator.url)
    stream_id = emulator.create_stream("throttled", partitions=4)
    await asyncio.to_thread(produce, sdk, stream_id, 400)
    scaler = await start_scaler_on_clock(
        start_scaler, channel_for, config_path=tmp_path / "config", endpoint=emulator.url, cache_ttl_seconds=0.5
    )
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest")
    assert await scaler.value(ref, step=1.0) == 400
    capped = "burst_scaler_partition_lag_capped"

    emulator.faults.inject(429, operations=frozenset({READS}), count=1)  # OCI throttles the next read only
    await asyncio.to_thread(produce, sdk, stream_id, 40, first=400)
    before = emulator.counters.get(READS)
    value = await scaler.value(ref, step=1.0)
    assert emulator.counters.get(READS) - before == 4  # the throttled GET, and one for each other partition
    (resting,) = [p for p in "0123" if scaler.gauge(ref, p, capped) == 1]
    counts = await asyncio.to_thread(full_count, sdk, stream_id, GROUP, "0123", earliest=True)
    known_before = scaler.gauge(ref, resting)
    assert value == sum(counts.values()) - (counts[resting] - known_before)  # the others counted afresh

    before = emulator.counters.get(READS)
    assert await scaler.value(ref, step=0.6) == value  # 0.6 s later: still resting (1 s), not read
    assert emulator.counters.get(READS) - before == 3
    assert scaler.gauge(ref, resting, capped) == 1

    before = emulator.counters.get(READS)
    assert await scaler.value(ref, step=0.6) == 440  # 1.2 s after the 429: read again, and exact
    assert emulator.counters.get(READS) - before == 4
    assert [scaler.gauge(ref, p, capped) for p in "0123"] == [0, 0, 0, 0]
    sdk.base_client.session.close()


async def test_a_429_with_retry_after_rests_the_partition_as_long_as_oci_asked(
    quiet_emulator: Emulator, tmp_path: Path, start_scaler: Any, channel_for: Any
) -> None:
    emulator = quiet_emulator
    sdk = sdk_client(emulator.write_config(tmp_path / "config"), emulator.url)
    stream_id = emulator.create_stream("hinted", partitions=2)
    await asyncio.to_thread(produce, sdk, stream_id, 100)
    scaler = await start_scaler_on_clock(
        start_scaler, channel_for, config_path=tmp_path / "config", endpoint=emulator.url, cache_ttl_seconds=0.5
    )
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest")
    assert await scaler.value(ref, step=1.0) == 100
    emulator.faults.inject(429, operations=frozenset({READS}), count=1, retry_after_seconds=2.5)
    reads = []
    for step in (1.2, 1.2, 1.4):  # the 429; 1.2 s later (past the default 1 s rest); 2.6 s later (past the hint)
        before = emulator.counters.get(READS)
        assert await scaler.value(ref, step=step) == 100
        reads.append(emulator.counters.get(READS) - before)
    assert reads == [2, 1, 2]  # the throttled GET and the other partition; then the other only; then both again
    sdk.base_client.session.close()


def test_a_partition_throttled_for_too_long_fails_the_read_instead_of_serving_an_old_count(
    quiet_emulator: Emulator, tmp_path: Path
) -> None:
    emulator = quiet_emulator
    config_path = emulator.write_config(tmp_path / "config")
    sdk = sdk_client(config_path, emulator.url)
    stream_id = emulator.create_stream("blocked", partitions=1)
    produce(sdk, stream_id, 30)
    clock = ManualClock()
    settings = OciSettings(config_file=config_path, endpoint=emulator.url, max_attempts=1)
    source = OciStreamingSource(settings=settings, credentials=load_credentials(settings), clock=clock)
    meta = {"source": "oci-streaming", "streamId": stream_id, "groupName": GROUP, "uncommittedOffset": "earliest"}
    ref = parse_metadata(meta).config.ref
    assert isinstance(ref, StreamRef)
    assert source.read(ref).partitions[0] == PartitionLag("0", 30, None, False, False)

    emulator.faults.inject(429, operations=frozenset({READS}))  # from now on, every read is throttled
    for _ in range(3):  # 429 at +3 s (rest 1 s), +6 s (rest 2 s), +9 s (rest 4 s): the last count, marked capped
        clock.advance(3.0)
        assert source.read(ref).partitions[0] == PartitionLag("0", 30, None, True, False)
    clock.advance(3.0)  # still resting, and the last successful read is 12 s old (> max_unread_seconds, 10 s)
    with pytest.raises(UpstreamError, match=r"could not be read \(throttled by OCI, resting\)"):
        source.read(ref)
    assert emulator.counters.get(READS) == 1 + 3  # the cold read (one short page), then one GET per back-off
    sdk.base_client.session.close()
