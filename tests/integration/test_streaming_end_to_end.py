"""OCI Streaming consumer-group lag through the scaler, on the real `oci` SDK against the emulator over HTTP.

A real group consumer (group cursor, GetMessages, ConsumerCommit) moves the committed offsets; the scaler counts
the lag with its own plain cursors and answers KEDA over gRPC. The emulator counts every upstream call. Retention
trims, restarts, new groups and the other cases of issue 13 are in ``test_streaming_lag_table``; what reads cost is
in ``test_streaming_read_costs``.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
import oci
import pytest

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from scaler.settings import OciSettings
from tests.conftest import stub_for
from tests.integration.conftest import StartEmulator

GROUP = "billing"


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> Emulator:
    # OCI's 5 GET/s per partition throttle is off here: these tests drive consumers as fast as they can. The
    # scaler's behaviour under 429s is tested with injected faults below.
    return start_emulator(stream_throttle=False)


@pytest.fixture
def sdk(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    config_path = emulator.write_config(tmp_path / "config")
    config = oci.config.from_file(str(config_path))
    quiet = {"retry_strategy": oci.retry.NoneRetryStrategy()}
    return {
        "config_path": config_path,
        "stream": oci.streaming.StreamClient(config, service_endpoint=emulator.url, **quiet),
    }


def so(stream_id: str, name: str = "billing-consumer", **metadata: str) -> pb.ScaledObjectRef:
    meta = {"source": "oci-streaming", "streamId": stream_id, "groupName": GROUP, "targetBacklogPerReplica": "10"}
    meta.update(metadata)
    return pb.ScaledObjectRef(name=name, namespace="team", scalerMetadata=meta)


async def metric(stub: Any, ref: pb.ScaledObjectRef) -> tuple[float, float]:
    spec = (await stub.GetMetricSpec(ref)).metricSpecs[0]
    response = await stub.GetMetrics(pb.GetMetricsRequest(scaledObjectRef=ref, metricName=spec.metricName))
    (value,) = response.metricValues
    return value.metricValueFloat, spec.targetSizeFloat


def hpa(value: float, target_size: float) -> int:
    return -(-round(value * 1000) // round(target_size * 1000))


def produce(sdk: dict[str, Any], stream_id: str, count: int) -> Counter[str]:
    """Put keyed messages; return how many landed in each partition (from the per-entry results)."""
    per_partition: Counter[str] = Counter()
    models = oci.streaming.models
    for first in range(0, count, 100):
        entries = [
            models.PutMessagesDetailsEntry(
                key=base64.b64encode(f"customer-{i % 37}".encode()).decode(),
                value=base64.b64encode(f"invoice {i}".encode()).decode(),
            )
            for i in range(first, min(first + 100, count))
        ]
        result = sdk["stream"].put_messages(stream_id, models.PutMessagesDetails(messages=entries)).data
        assert result.failures == 0
        per_partition.update(entry.partition for entry in result.entries)
    return per_partition


async def start(start_scaler: Any, sdk: dict[str, Any], emulator: Emulator, **overrides: Any) -> Any:
    settings = OciSettings(config_file=sdk["config_path"], endpoint=emulator.url, max_attempts=1)
    return await start_scaler(queue_source=None, stream_source=None, oci=settings, **overrides)


async def test_lag_is_the_exact_uncommitted_count_per_partition_and_in_total(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    stream_id = emulator.create_stream("invoices", partitions=4)
    produced = await asyncio.to_thread(produce, sdk, stream_id, 1000)
    assert sum(produced.values()) == 1000
    assert len(produced) == 4

    app = await start(start_scaler, sdk, emulator, cache_ttl_seconds=0.01)
    stub = stub_for(channel_for(app))
    ref = so(stream_id, uncommittedOffset="earliest", allowIdleConsumers="true", maxReplicas="500")
    value, _ = await metric(stub, ref)
    assert value == 1000  # never-committed group, earliest: everything retained is owed

    group = await asyncio.to_thread(_group_consumer_commits_some, sdk, stream_id)
    await asyncio.sleep(0.05)
    value, _ = await metric(stub, ref)
    committed = {p: c for p, c in group.items() if c is not None}
    expected = {p: produced[p] - (committed[p] + 1 if p in committed else 0) for p in produced}
    assert value == sum(expected.values())
    spec_name = (await stub.GetMetricSpec(ref)).metricSpecs[0].metricName
    for partition, lag in expected.items():
        sample = app.telemetry.registry.get_sample_value(
            "burst_scaler_partition_lag_messages",
            {"namespace": "team", "scaledobject": "billing-consumer", "metric": spec_name, "partition": partition},
        )
        assert sample == lag, partition
    labels = {"namespace": "team", "scaledobject": "billing-consumer", "metric": spec_name}
    assert app.telemetry.registry.get_sample_value("burst_scaler_dlq_messages", labels) is None  # no DLQ: no series

    await asyncio.to_thread(_drain_everything, sdk, stream_id)
    await asyncio.sleep(0.05)
    assert (await metric(stub, ref))[0] == 0
    assert (await stub.IsActive(ref)).result is False


def _group_consumer_commits_some(sdk: dict[str, Any], stream_id: str) -> dict[str, int | None]:
    """Consume and commit part of the stream with a real group cursor; return GetGroup's committed offsets."""
    client = sdk["stream"]
    models = oci.streaming.models
    details = models.CreateGroupCursorDetails(
        group_name=GROUP, type="TRIM_HORIZON", instance_name="worker-1", commit_on_get=False
    )
    cursor = client.create_group_cursor(stream_id, details).data.value
    for _ in range(2):  # the emulator serves one partition per group GetMessages, rotating: two partitions
        response = client.get_messages(stream_id, cursor, limit=40)
        assert response.data
        cursor = response.headers["opc-next-cursor"]
        client.consumer_commit(stream_id, cursor)
    reservations = client.get_group(stream_id, GROUP).data.reservations
    committed = {r.partition: r.committed_offset for r in reservations}
    assert sum(1 for c in committed.values() if c is not None) == 2
    return committed


def _drain_everything(sdk: dict[str, Any], stream_id: str) -> None:
    client = sdk["stream"]
    models = oci.streaming.models
    details = models.CreateGroupCursorDetails(group_name=GROUP, type="TRIM_HORIZON", instance_name="worker-1")
    cursor = client.create_group_cursor(stream_id, details).data.value
    empty = 0
    for _ in range(400):  # bounded; the group cursor walks the instance's partitions
        response = client.get_messages(stream_id, cursor, limit=500)
        cursor = response.headers["opc-next-cursor"]
        client.consumer_commit(stream_id, cursor)
        empty = empty + 1 if not response.data else 0
        if empty >= 8:
            return
    raise AssertionError("could not drain the stream")


async def test_uncommitted_offset_and_the_partition_cap(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    stream_id = emulator.create_stream("orders", partitions=4)
    await asyncio.to_thread(produce, sdk, stream_id, 400)
    app = await start(start_scaler, sdk, emulator)
    stub = stub_for(channel_for(app))
    latest = so(stream_id, name="fresh-latest")
    assert (await metric(stub, latest))[0] == 0  # a brand-new group starts at the head
    assert (await stub.IsActive(latest)).result is False

    earliest = so(stream_id, name="fresh-earliest", uncommittedOffset="earliest")
    value, target_size = await metric(stub, earliest)
    assert hpa(value, target_size) == 4  # 400 messages want 40 replicas; 4 partitions cap it at 4 exactly
    assert (await stub.IsActive(earliest)).result is True

    idle = so(stream_id, name="idle-ok", uncommittedOffset="earliest", allowIdleConsumers="true", maxReplicas="25")
    value, target_size = await metric(stub, idle)
    assert hpa(value, target_size) == 25


async def test_a_huge_backlog_costs_a_bounded_number_of_reads(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    stream_id = emulator.create_stream("firehose", partitions=2)
    await asyncio.to_thread(produce, sdk, stream_id, 3000)
    app = await start(start_scaler, sdk, emulator)
    stub = stub_for(channel_for(app))
    ref = so(stream_id, uncommittedOffset="earliest", maxReplicas="5", targetBacklogPerReplica="10")
    emulator.counters.reset()
    value, target_size = await metric(stub, ref)
    assert hpa(value, target_size) == 2  # partition cap (2) below maxReplicas (5)
    reads = emulator.counters.get("GetStreamMessages")
    # read cap = 10 x 5 + 1 = 51 per partition: one page each reaches it; nowhere near 3000 messages' worth
    assert 1 <= reads <= 2 * 2, reads


async def test_throttling_serves_last_good_then_unavailable(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    stream_id = emulator.create_stream("throttled", partitions=1)
    await asyncio.to_thread(produce, sdk, stream_id, 25)
    staleness = 1.0
    app = await start(start_scaler, sdk, emulator, cache_ttl_seconds=0.05, max_staleness_seconds=staleness)
    stub = stub_for(channel_for(app))
    ref = so(stream_id, uncommittedOffset="earliest", allowIdleConsumers="true")
    assert (await metric(stub, ref))[0] == 25
    good_at = time.monotonic()
    emulator.faults.inject(429, operations=frozenset({"GetStreamMessages"}))
    outcomes: set[float | str] = set()
    while time.monotonic() - good_at < staleness + 0.8:  # bounded
        try:
            outcomes.add((await metric(stub, ref))[0])
        except grpc.aio.AioRpcError as exc:
            outcomes.add(exc.code().name)
        await asyncio.sleep(0.05)
    assert outcomes == {25.0, "UNAVAILABLE"}  # the last good value, then UNAVAILABLE; never 0


async def test_partition_limitation_and_persistent_lag(
    emulator: Emulator, sdk: dict[str, Any], start_scaler: Any, channel_for: Any
) -> None:
    stream_id = emulator.create_stream("stuck", partitions=4)
    produced = await asyncio.to_thread(produce, sdk, stream_id, 400)
    app = await start(start_scaler, sdk, emulator, cache_ttl_seconds=0.01)
    stub = stub_for(channel_for(app))
    only = so(stream_id, name="two", uncommittedOffset="earliest", allowIdleConsumers="true", partitionLimitation="1,3")
    assert (await metric(stub, only))[0] == produced["1"] + produced["3"]

    committed = await asyncio.to_thread(_group_consumer_commits_some, sdk, stream_id)
    stuck = so(
        stream_id, name="stuck", uncommittedOffset="earliest", allowIdleConsumers="true", excludePersistentLag="true"
    )
    first = (await metric(stub, stuck))[0]
    assert first == 400 - sum(c + 1 for c in committed.values() if c is not None)
    # Nothing moved since the previous read: partitions with a committed offset and lag are now "persistent"
    # (a stuck consumer) and excluded; never-committed partitions have no consumer to be stuck and still count.
    # A loaded machine may serve the first value again while the next read runs, so the next read is awaited.
    never_committed = sum(produced[p] for p, c in committed.items() if c is None)
    seen = [first]
    for _ in range(40):  # bounded: 2 s
        await asyncio.sleep(0.05)
        seen.append((await metric(stub, stuck))[0])
        if seen[-1] != first:
            break
    assert set(seen) == {first, never_committed}
