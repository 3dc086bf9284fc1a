"""What counting Streaming lag costs, in calls and bytes, counted by the emulator: one extra reader, never the backlog.

Every test runs the real scaler over gRPC against the emulator through the official SDK, on a manual clock shared by
the refresh cache and the Streaming source (one read per step, budgets refilled by the time that passes), with the
default reading settings. The emulator counts every call and the message payload (decoded keys and values) each
GetMessages served. The figures against backlog size and arrival rate are in bench/bench_stream_reads.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oci_emulator import Emulator
from tests.integration.conftest import StartEmulator
from tests.support.streams import (
    Scaler,
    consume,
    full_count,
    produce,
    scaled_object,
    sdk_client,
    start_scaler_on_clock,
)

GROUP = "billing"
READS = "GetStreamMessages"


@dataclass
class Env:
    emulator: Emulator
    client: Any
    config_path: Path

    def payload(self, operation: str = READS) -> int:
        return self.emulator.counters.served(operation).payload

    def calls(self) -> dict[str, int]:
        return self.emulator.counters.snapshot()

    def reset(self) -> None:
        self.emulator.counters.reset()


@pytest.fixture
def env(start_emulator: StartEmulator, tmp_path: Path) -> Iterator[Env]:
    emulator = start_emulator(stream_throttle=False)  # the tests' own full counts read with plain cursors too
    config_path = emulator.write_config(tmp_path / "config")
    client = sdk_client(config_path, emulator.url)
    yield Env(emulator, client, config_path)
    client.base_client.session.close()


async def scaler_for(env: Env, start_scaler: Any, channel_for: Any) -> Scaler:
    url = env.emulator.url
    return await start_scaler_on_clock(start_scaler, channel_for, config_path=env.config_path, endpoint=url)


async def test_the_issue_set_up_reads_up_to_the_cap_once_then_nothing(
    env: Env, start_scaler: Any, channel_for: Any
) -> None:
    # The issue's set-up: 4 partitions x 1,000 messages of 4 KB, a group that committed nothing, `earliest`,
    # target 100, maxReplicas 20, idle consumers allowed, one refresh per second. It used to read the whole 16 MB
    # on every refresh (98.8 MB in 10 s).
    stream_id = env.emulator.create_stream("issue-13", partitions=4)
    await asyncio.to_thread(produce, env.client, stream_id, 4000, size=4096)
    largest = 4096 + len("customer-36")
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest", targetBacklogPerReplica="100")
    ref.scalerMetadata["maxReplicas"] = "20"
    scaler = await scaler_for(env, start_scaler, channel_for)
    env.reset()

    values = [await scaler.value(ref, step=1.0) for _ in range(10)]
    # 2,001 messages (target x maxReplicas + 1) decide the cap; the 1 MiB/s per-partition budget spreads them over
    # the first refreshes, during which the value only grows. Then nothing is read: what is known is enough.
    assert values == sorted(values)
    assert values[-1] == (20 - 0.5) * 100  # at the cap (the value that makes the HPA land on 20 exactly)
    assert env.payload() <= 2001 * largest
    env.reset()
    for _ in range(5):
        assert await scaler.value(ref, step=1.0) == (20 - 0.5) * 100
    assert env.payload() == 0
    assert env.calls() == {"GetGroup": 5}


async def test_steady_state_reads_no_payload_one_empty_get_per_partition_plus_get_group(
    env: Env, start_scaler: Any, channel_for: Any
) -> None:
    stream_id = env.emulator.create_stream("steady", partitions=4)
    await asyncio.to_thread(produce, env.client, stream_id, 4000, size=1024)
    await asyncio.to_thread(consume, env.client, stream_id, GROUP, reads=2, limit=300)
    backlog_bytes = env.payload("PutStreamMessages")
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest")  # cap 10,001: the whole lag counts
    scaler = await scaler_for(env, start_scaler, channel_for)
    expected = await asyncio.to_thread(full_count, env.client, stream_id, GROUP, "0123", earliest=True)
    env.reset()

    values = [await scaler.value(ref, step=1.0) for _ in range(5)]
    assert values[-1] == sum(expected.values())
    assert env.payload() < backlog_bytes  # the cold read: each uncommitted message once, committed ones never
    for partition in "0123":
        assert scaler.gauge(ref, partition) == expected[partition]
        assert scaler.gauge(ref, partition, "burst_scaler_partition_lag_capped") == 0

    env.reset()
    for _ in range(5):
        assert await scaler.value(ref, step=1.0) == sum(expected.values())
    assert env.payload() == 0
    assert env.calls() == {"GetGroup": 5, READS: 5 * 4}  # no CreateCursor: the last read's cursor is reused

    env.reset()
    assert await scaler.value(ref, step=60.0) == sum(expected.values())  # a minute on: retention check, no payload
    assert env.payload() == 0
    assert env.calls() == {"GetGroup": 1, "CreateCursor": 4, READS: 4}


async def test_arrivals_cost_their_own_bytes_whatever_the_backlog(
    env: Env, start_scaler: Any, channel_for: Any
) -> None:
    stream_id = env.emulator.create_stream("arrivals", partitions=2)
    await asyncio.to_thread(produce, env.client, stream_id, 2000, size=2048)
    await asyncio.to_thread(consume, env.client, stream_id, GROUP, reads=2, limit=100)
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest")
    scaler = await scaler_for(env, start_scaler, channel_for)
    for _ in range(6):  # the cold read of the 4 MB backlog, at 1 MiB/s per partition
        await scaler.value(ref, step=1.0)

    read = arrived = 0
    first = 2000
    for second in range(20):  # 40 messages of 2 KB arrive per second while the consumer commits a little
        before = env.payload("PutStreamMessages")
        await asyncio.to_thread(produce, env.client, stream_id, 40, size=2048, first=first)
        first += 40
        arrived += env.payload("PutStreamMessages") - before
        if second % 5 == 0:
            await asyncio.to_thread(consume, env.client, stream_id, GROUP, reads=1, limit=10)
        before = env.payload()
        value = await scaler.value(ref, step=1.0)
        read += env.payload() - before
        expected = await asyncio.to_thread(full_count, env.client, stream_id, GROUP, "01", earliest=True)
        assert value == sum(expected.values())
    assert 0 < read <= 1.2 * arrived
    assert read == arrived  # each arrival is read once, by the one extra reader


async def test_counting_stops_at_the_cap_across_the_whole_source(env: Env, start_scaler: Any, channel_for: Any) -> None:
    stream_id = env.emulator.create_stream("deep", partitions=4)
    await asyncio.to_thread(produce, env.client, stream_id, 800, size=100)
    # target 10 x maxReplicas 5: the read cap is 51 messages for the whole stream, not per partition
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest", maxReplicas="5")
    ref.scalerMetadata["allowIdleConsumers"] = "false"
    scaler = await scaler_for(env, start_scaler, channel_for)
    env.reset()

    value = await scaler.value(ref)
    assert -(-round(value * 1000) // 10_000) == 4  # at the cap: as many replicas as partitions (HPA's ceil)
    assert env.calls()[READS] == 1  # one partition read, up to the cap; the other three not at all
    lags = {p: scaler.gauge(ref, p) for p in "0123"}
    capped = {p: scaler.gauge(ref, p, "burst_scaler_partition_lag_capped") for p in "0123"}
    assert sorted(lags.values()) == [0, 0, 0, 51]
    assert capped == dict.fromkeys("0123", 1)  # a lower bound everywhere: read to the cap, or not read
    read_bytes = env.payload()
    assert 51 * 100 <= read_bytes <= 51 * 120

    env.reset()
    for _ in range(3):  # nothing moves: what is known already reaches the cap, so nothing is read at all
        await scaler.value(ref, step=1.0)
    assert env.payload() == 0
    assert env.calls() == {"GetGroup": 3}


@pytest.mark.parametrize(("max_replicas", "expect_read"), [("1000", 300), ("5", 51)])
async def test_a_restart_costs_one_bounded_cold_read_then_only_arrivals(
    env: Env, start_scaler: Any, channel_for: Any, max_replicas: str, expect_read: int
) -> None:
    stream_id = env.emulator.create_stream("restart", partitions=3)
    await asyncio.to_thread(produce, env.client, stream_id, 300, size=500)
    message = env.payload("PutStreamMessages") / 300
    ref = scaled_object("s", stream_id, GROUP, uncommittedOffset="earliest", maxReplicas=max_replicas)
    first = await scaler_for(env, start_scaler, channel_for)
    await first.value(ref)
    await first.app.stop()

    env.reset()
    second = await scaler_for(env, start_scaler, channel_for)  # a new replica: its memory of offsets is empty
    await second.value(ref)
    assert env.payload() == pytest.approx(expect_read * message, rel=0.05)  # the cold read, bounded by the cap
    env.reset()
    await asyncio.to_thread(produce, env.client, stream_id, 30, size=500, first=300)
    value = await second.value(ref)
    if expect_read == 300:
        assert value == 330
        assert env.payload() == env.payload("PutStreamMessages")  # then only the arrivals
    else:
        assert env.payload() == 0  # at the cap: arrivals change nothing, so they are not even read


async def test_a_trimmed_cursor_falls_back_to_a_bounded_cold_read(
    env: Env, start_scaler: Any, channel_for: Any
) -> None:
    stream_id = env.emulator.create_stream("expiring", partitions=1)
    await asyncio.to_thread(produce, env.client, stream_id, 100, size=200)
    small = scaled_object("small", stream_id, GROUP, uncommittedOffset="earliest", maxReplicas="5")  # cap 51
    scaler = await scaler_for(env, start_scaler, channel_for)
    assert await scaler.value(small) == pytest.approx(45)  # capped: (5 - 1/2) x 10
    # Five minutes pass: the kept cursor has expired, and retention removed everything the scaler had seen.
    env.emulator.streams.trim_before(stream_id, "0", offset=100)
    await asyncio.to_thread(produce, env.client, stream_id, 300, size=200, first=100)
    env.reset()
    assert await scaler.value(small, step=300.0) == pytest.approx(45)
    assert env.payload() <= 51 * 220  # bounded by the cap, not the 300 retained messages
    assert env.calls()["CreateCursor"] >= 1

    exact = scaled_object("exact", stream_id, GROUP, uncommittedOffset="earliest")
    assert await scaler.value(exact) == 300
    assert scaler.gauge(exact, "0", "burst_scaler_partition_lag_capped") == 0
