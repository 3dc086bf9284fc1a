"""Producer and reference consumer against the OCI emulator's Queue API, through the real SDK.

Correctness with generous timing bounds: the planned count exactly, the schedule kept (never early, and the run
within 2 % of its planned length), 429s retried and counted, every sequence id consumed, nothing lost on a stop.
"""

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
from load.consume_queue import QueueConsumer
from load.messages import Envelope
from load.produce import Mix, QueueProducer, SizeDistribution
from load.profiles import ConstantProfile, SpikeProfile, planned_count, schedule
from oci_emulator import Emulator

FAST_WORK = WorkModel(seconds={"heavy": 0.01, "light": 0.001})


async def eventually(predicate: Callable[[], object], within: float) -> None:
    """Poll ``predicate`` until it holds or ``within`` seconds pass (the asserts after it say what was due)."""
    deadline = time.monotonic() + within
    while True:
        if predicate() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.02)


@pytest.fixture
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="test-sdk") as pool:
        yield pool


def client_for(emu: Emulator) -> Any:
    return oci.queue.QueueClient(
        emu.oci_config,
        service_endpoint=emu.url,
        circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
    )


def stats(client: Any, queue_id: str) -> tuple[int, int]:
    data = client.get_stats(queue_id).data.queue
    return data.visible_messages, data.in_flight_messages


def put_envelopes(client: Any, queue_id: str, classes: list[str]) -> None:
    models = oci.queue.models
    now = time.time()
    entries = [
        models.PutMessagesDetailsEntry(content=Envelope(seq, now, cls).encode()) for seq, cls in enumerate(classes)
    ]
    for first in range(0, len(entries), 20):
        client.put_messages(queue_id, models.PutMessagesDetails(messages=entries[first : first + 20]))


async def drain(
    client: Any, queue_id: str, executor: concurrent.futures.Executor, *, expected: int, consumers: int, **kwargs: Any
) -> tuple[Counter[int], list[Any]]:
    consumed: Counter[int] = Counter()
    stops = [asyncio.Event() for _ in range(consumers)]

    def record(message: Processed) -> None:
        consumed[message.seq] += 1

    workers = [
        QueueConsumer(client=client, queue_id=queue_id, executor=executor, on_processed=record, **kwargs) for _ in stops
    ]
    tasks = [asyncio.create_task(w.run(stop)) for w, stop in zip(workers, stops, strict=True)]
    await eventually(lambda: len(consumed) >= expected, within=20)
    for stop in stops:
        stop.set()
    return consumed, await asyncio.gather(*tasks)


async def test_spike_is_sent_on_schedule_and_drained_without_loss(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    queue_id = emulator.create_queue("orders")
    client = client_for(emulator)
    profile = SpikeProfile(baseline=10, peak=250, start=0.5, length=1.0, duration=2.5)
    plan = list(schedule(profile))
    sent: dict[int, float] = {}
    producer = QueueProducer(
        client=client,
        queue_id=queue_id,
        profile=profile,
        mix=Mix(heavy_fraction=0.25),
        sizes=SizeDistribution(median=300, sigma=0.5, seed=1),
        executor=executor,
        on_sent=lambda envelope: sent.__setitem__(envelope.seq, envelope.sent_at),
    )
    wall_start = time.time()
    report = await producer.run()

    assert report.planned == planned_count(profile) == len(plan) == 10 * 1.5 + 250 * 1.0
    assert report.sent == report.planned
    assert sorted(sent) == list(range(report.planned))
    assert (report.failed, report.throttled, report.unsent, report.abandoned) == (0, 0, 0, 0)
    # the run lasts its planned duration (±2 %), and the last message goes out within 2 % of its planned time
    assert abs(report.duration - profile.duration) <= 0.02 * profile.duration
    assert abs(report.last_sent_offset - plan[-1]) <= 0.02 * profile.duration
    assert report.planned_rate == pytest.approx(report.achieved_rate, rel=0.02)
    # open loop: no message leaves before its planned time; generous bound on lateness (a busy CI machine)
    for seq, sent_at in sent.items():
        assert sent_at - (wall_start + plan[seq]) >= -0.01, seq
    assert report.lateness_p99 < 0.5
    visible, _ = stats(client, queue_id)
    assert visible == report.planned
    channels = client.list_channels(queue_id).data.items
    assert sorted(channels) == ["heavy", "light"]

    consumed, reports = await drain(client, queue_id, executor, expected=report.planned, consumers=4, work=FAST_WORK)
    assert set(consumed) == set(sent)  # every sequence id consumed, none lost
    assert sum(r.processed for r in reports) == sum(consumed.values())
    assert stats(client, queue_id) == (0, 0)
    assert all(r.latency_p50 > 0 for r in reports if r.processed)


async def test_throttling_is_retried_counted_and_loses_nothing(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    queue_id = emulator.create_queue("orders")
    client = client_for(emulator)
    sent: list[int] = []
    emulator.faults.inject(429, operations=frozenset({"PutMessages"}), count=4)
    producer = QueueProducer(
        client=client,
        queue_id=queue_id,
        profile=ConstantProfile(level=40, duration=1.0),
        executor=executor,
        on_sent=lambda e: sent.append(e.seq),
    )
    report = await producer.run()
    assert (report.throttled, report.errors, report.failed) == (4, 0, 0)
    assert report.sent == report.planned == 40
    assert sorted(sent) == list(range(40))
    assert stats(client, queue_id) == (40, 0)
    assert emulator.counters.get("PutMessages") == report.calls + 4

    emulator.faults.inject(503, operations=frozenset({"PutMessages"}), count=2)
    producer = QueueProducer(
        client=client, queue_id=queue_id, profile=ConstantProfile(level=20, duration=0.5), executor=executor
    )
    report = await producer.run()
    assert (report.throttled, report.errors, report.failed, report.sent) == (0, 2, 0, 10)
    assert stats(client, queue_id) == (50, 0)


async def test_a_refused_batch_is_counted_failed_and_the_run_goes_on(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    queue_id = emulator.create_queue("orders")
    client = client_for(emulator)
    emulator.faults.inject(400, operations=frozenset({"PutMessages"}), count=1)
    producer = QueueProducer(
        client=client, queue_id=queue_id, profile=ConstantProfile(level=20, duration=0.5), executor=executor
    )
    report = await producer.run()
    assert report.failed == 1  # the first batch (one message at this rate)
    assert report.sent == report.planned - 1
    assert stats(client, queue_id) == (report.sent, 0)


async def test_stop_reports_unsent_and_returns_promptly(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    queue_id = emulator.create_queue("orders")
    producer = QueueProducer(
        client=client_for(emulator),
        queue_id=queue_id,
        profile=ConstantProfile(level=50, duration=30),
        executor=executor,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(producer.run(stop))
    await asyncio.sleep(0.5)
    stop.set()
    report = await asyncio.wait_for(task, timeout=5)
    assert report.stopped
    assert report.planned == 1500
    assert report.sent + report.unsent + report.abandoned + report.failed == report.planned
    assert 10 <= report.sent <= 40


async def test_long_work_keeps_messages_invisible(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    queue_id = emulator.create_queue("orders", visibility_in_seconds=1)
    client = client_for(emulator)
    put_envelopes(client, queue_id, ["heavy", "heavy"])
    consumed, reports = await drain(
        client,
        queue_id,
        executor,
        expected=2,
        consumers=2,
        batch=1,
        visibility_seconds=1,
        work=WorkModel(seconds={"heavy": 1.6}),
    )
    assert consumed == Counter({0: 1, 1: 1})  # work outlasted the visibility timeout, yet no second delivery
    assert sum(r.extended for r in reports) >= 2
    assert sum(r.redelivered for r in reports) == 0
    assert stats(client, queue_id) == (0, 0)


async def test_stop_finishes_the_message_in_hand_and_releases_the_rest(
    emulator: Emulator, executor: concurrent.futures.ThreadPoolExecutor
) -> None:
    queue_id = emulator.create_queue("orders", visibility_in_seconds=60)
    client = client_for(emulator)
    put_envelopes(client, queue_id, ["heavy"] * 8)
    done: list[Processed] = []
    consumer = QueueConsumer(
        client=client,
        queue_id=queue_id,
        batch=8,
        executor=executor,
        on_processed=done.append,
        work=WorkModel(seconds={"heavy": 0.6}),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await eventually(lambda: stats(client, queue_id)[1] >= 8, within=5)
    stop.set()
    started = time.monotonic()
    report = await asyncio.wait_for(task, timeout=5)
    assert time.monotonic() - started < 1.5  # one message's work, not the batch's 4.8 s
    assert (report.processed, report.released) == (1, 7)
    assert [m.seq for m in done] == [0]
    assert stats(client, queue_id) == (7, 0)  # handed back at once, not after the 60 s visibility timeout


async def test_many_consumers_share_one_small_pool(emulator: Emulator) -> None:
    queue_id = emulator.create_queue("orders")
    client = client_for(emulator)
    put_envelopes(client, queue_id, ["heavy" if i % 4 == 0 else "light" for i in range(200)])
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        consumed, reports = await drain(client, queue_id, pool, expected=200, consumers=24, work=FAST_WORK)
    assert set(consumed) == set(range(200))
    assert stats(client, queue_id) == (0, 0)
    assert sum(r.processed for r in reports) == sum(consumed.values())
