"""Producer and consumer-group consumer against the OCI emulator's Streaming API, through the real SDK."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import oci
import pytest

from load.consume import Processed, WorkModel
from load.consume_stream import StreamConsumer
from load.produce import Mix, StreamProducer
from load.profiles import ConstantProfile, SpikeProfile, planned_count, schedule
from oci_emulator import Emulator

FAST_WORK = WorkModel(seconds={"heavy": 0.005, "light": 0.001})


async def eventually(predicate: Callable[[], object], within: float) -> None:
    """Poll ``predicate`` until it holds or ``within`` seconds pass (the asserts after it say what was due)."""
    deadline = time.monotonic() + within
    while True:
        if predicate() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.02)


@pytest.fixture
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=12, thread_name_prefix="test-sdk") as pool:
        yield pool


def client_for(emu: Emulator) -> Any:
    return oci.streaming.StreamClient(
        emu.oci_config,
        service_endpoint=emu.url,
        circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
    )


def committed(client: Any, stream_id: str, group: str) -> dict[str, int | None]:
    group_data = client.get_group(stream_id, group).data
    return {r.partition: r.committed_offset for r in group_data.reservations or []}


async def test_spike_into_partitions_is_consumed_by_a_group_without_loss(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    stream_id = emulator.create_stream("events", partitions=4)
    client = client_for(emulator)
    profile = SpikeProfile(baseline=10, peak=300, start=0.3, length=1.0, duration=1.8)
    plan = list(schedule(profile))
    sent: dict[int, float] = {}
    producer = StreamProducer(
        client=client,
        stream_id=stream_id,
        profile=profile,
        mix=Mix(heavy_fraction=0.2),
        executor=executor,
        on_sent=lambda envelope: sent.__setitem__(envelope.seq, envelope.sent_at),
    )
    wall_start = time.time()
    report = await producer.run()
    assert report.sent == report.planned == planned_count(profile) == len(plan)
    assert sorted(sent) == list(range(report.planned))
    assert abs(report.duration - profile.duration) <= 0.02 * profile.duration
    assert abs(report.last_sent_offset - plan[-1]) <= 0.02 * profile.duration
    assert all(sent_at - (wall_start + plan[seq]) >= -0.01 for seq, sent_at in sent.items())
    offsets = emulator.streams.partition_offsets(stream_id)
    assert sum(p.next_offset for p in offsets) == report.planned
    assert all(p.next_offset > 0 for p in offsets)  # keys spread each class over partitions

    consumed: Counter[int] = Counter()

    def record(message: Processed) -> None:
        consumed[message.seq] += 1

    stops = [asyncio.Event() for _ in range(3)]
    consumers = [
        StreamConsumer(
            client=client,
            stream_id=stream_id,
            group="billing",
            instance=f"pod-{i}",
            work=FAST_WORK,
            batch=50,
            executor=executor,
            on_processed=record,
        )
        for i in range(3)
    ]
    tasks = [asyncio.create_task(c.run(stop)) for c, stop in zip(consumers, stops, strict=True)]
    await eventually(lambda: len(consumed) >= report.planned, within=20)
    for stop in stops:
        stop.set()
    reports = await asyncio.gather(*tasks)
    assert set(consumed) == set(sent)  # every sequence id consumed, none lost
    assert sum(r.processed for r in reports) == sum(consumed.values())
    assert sum(r.commits for r in reports) >= 4
    # everything processed is committed: the group has no lag left
    assert committed(client, stream_id, "billing") == {str(i): p.next_offset - 1 for i, p in enumerate(offsets)}


async def test_stop_commits_the_batch_in_hand_and_the_group_carries_on(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    stream_id = emulator.create_stream("events", partitions=1)
    client = client_for(emulator)
    producer = StreamProducer(
        client=client,
        stream_id=stream_id,
        profile=ConstantProfile(level=200, duration=0.2),
        mix=Mix(heavy_fraction=1.0),
        executor=executor,
    )
    assert (await producer.run()).sent == 40
    seen: list[int] = []
    first = StreamConsumer(
        client=client,
        stream_id=stream_id,
        group="g",
        instance="a",
        batch=10,
        executor=executor,
        reservation_timeout_ms=1000,
        work=WorkModel(seconds={"heavy": 0.05}),
        on_processed=lambda m: seen.append(m.seq),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    await eventually(lambda: first.received, within=5)
    stop.set()  # mid-batch: the batch is finished and committed, nothing further is read
    report = await asyncio.wait_for(task, timeout=5)
    assert report.processed == report.received == 10
    assert committed(client, stream_id, "g") == {"0": 9}

    second = StreamConsumer(
        client=client,
        stream_id=stream_id,
        group="g",
        instance="b",
        batch=100,
        executor=executor,
        work=FAST_WORK,
        on_processed=lambda m: seen.append(m.seq),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))
    await eventually(lambda: len(seen) >= 40, within=15)  # "a" holds the partition until its 1 s reservation lapses
    stop.set()
    await task
    assert sorted(seen) == list(range(40))  # no loss, and no message processed twice
    assert committed(client, stream_id, "g") == {"0": 39}


async def test_put_throttling_is_retried_and_counted(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    stream_id = emulator.create_stream("events", partitions=2)
    client = client_for(emulator)
    emulator.faults.inject(429, operations=frozenset({"PutStreamMessages"}), count=3)
    producer = StreamProducer(
        client=client, stream_id=stream_id, profile=ConstantProfile(level=30, duration=0.5), executor=executor
    )
    report = await producer.run()
    assert (report.throttled, report.failed, report.sent) == (3, 0, 15)
    assert sum(p.next_offset for p in emulator.streams.partition_offsets(stream_id)) == 15
