"""The remembered (incremental) Streaming lag equals a full count, case by case, through gRPC and the real SDK.

Each scenario drives a stream and a consumer group through the official SDK against the emulator (puts, a real
group consumer committing, retention trims, scaler restarts) and after every step asks a real scaler over gRPC for
four triggers on the same group: `latest`, `earliest`, `partitionLimitation` and `excludePersistentLag`. Each value,
and each partition's lag gauge, must equal the full count (``tests.support.streams.full_count``: every message read
again from the committed offset, as the scaler did before it remembered offsets), and no partition may be marked
capped. The scaler's refresh cache and its Streaming source share a manual clock; each read is one minute after the
previous one, so retention checks are due at every step (as they are once a minute in production).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from scaler.metadata import StreamRef, parse_metadata
from tests.integration.conftest import StartEmulator
from tests.support.streams import (
    Scaler,
    committed,
    consume,
    full_count,
    produce,
    scaled_object,
    sdk_client,
    start_scaler_on_clock,
)

GROUP = "billing"


@dataclass
class World:
    emulator: Emulator
    client: Any
    stream_id: str
    partitions: list[str]


Step = Callable[[World], object]
RESTART = "restart"


def put(count: int) -> Step:
    return lambda w: produce(w.client, w.stream_id, count)


def commit(reads: int, limit: int, group: str = GROUP) -> Step:
    return lambda w: consume(w.client, w.stream_id, group, reads=reads, limit=limit)


def trim(partition: str, offset: int) -> Step:
    return lambda w: w.emulator.streams.trim_before(w.stream_id, partition, offset=offset)


SCENARIOS: dict[str, tuple[int, list[Step | str]]] = {
    "commits": (4, [put(400), commit(reads=2, limit=40), put(100), commit(reads=4, limit=25), commit(8, 500)]),
    "trims": (
        2,
        [
            put(120),
            commit(reads=2, limit=30),
            trim("0", 20),  # below the committed offset: nothing counted changes
            trim("1", 45),  # past the committed offset: the count starts at the oldest retained message
            put(40),
            trim("0", 90),
            trim("1", 10_000),  # everything gone
            put(30),
        ],
    ),
    "restart": (3, [put(300), commit(reads=3, limit=20), RESTART, put(50), commit(reads=3, limit=30), RESTART]),
    "new group": (
        2,
        [put(80), put(20), commit(reads=1, limit=15, group="other"), commit(reads=2, limit=10), put(5)],
    ),
    "steady": (4, [put(200), commit(reads=2, limit=30), lambda w: None, lambda w: None, put(1)]),
}


@dataclass
class Oracle:
    """What each trigger must report: the full count, minus persistent partitions for the excluding trigger.

    A partition is persistent when its committed offset equals the one of the previous read of the same *source*
    (triggers that differ only in ``excludePersistentLag`` share one read, and so one history of polls).
    """

    world: World
    previous: dict[StreamRef, dict[str, int | None]] = field(default_factory=dict)

    def expect(self, ref: pb.ScaledObjectRef) -> tuple[dict[str, int], int]:
        meta = dict(ref.scalerMetadata)
        key = parse_metadata(meta).config.ref
        assert isinstance(key, StreamRef)
        limited = meta.get("partitionLimitation")
        wanted = [p for p in self.world.partitions if limited is None or p in limited.split(",")]
        earliest = meta.get("uncommittedOffset") == "earliest"
        counts = full_count(self.world.client, self.world.stream_id, GROUP, wanted, earliest=earliest)
        offsets = committed(self.world.client, self.world.stream_id, GROUP)
        before = self.previous.get(key)
        self.previous[key] = {p: offsets.get(p) for p in wanted}
        total = sum(counts.values())
        if meta.get("excludePersistentLag") == "true" and before is not None:
            stuck = [p for p in wanted if offsets.get(p) is not None and before.get(p) == offsets.get(p)]
            total -= sum(counts[p] for p in stuck)
        return counts, total


@pytest.fixture
def world(start_emulator: StartEmulator, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    emulator = start_emulator(stream_throttle=False)  # the oracle's own full reads share the plain-cursor budget
    client = sdk_client(emulator.write_config(tmp_path / "config"), emulator.url)
    partitions = SCENARIOS[request.param][0]
    stream_id = emulator.create_stream(request.param.replace(" ", "-"), partitions=partitions)
    yield World(emulator, client, stream_id, [str(p) for p in range(partitions)])
    client.base_client.session.close()


@pytest.mark.parametrize("world", list(SCENARIOS), indirect=True)
async def test_lag_equals_a_full_count_after_every_step(
    world: World, start_scaler: Any, channel_for: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config_path = tmp_path / "config"

    async def restart() -> Scaler:
        return await start_scaler_on_clock(
            start_scaler, channel_for, config_path=config_path, endpoint=world.emulator.url
        )

    triggers = [
        scaled_object("latest", world.stream_id, GROUP, uncommittedOffset="latest"),
        scaled_object("earliest", world.stream_id, GROUP, uncommittedOffset="earliest"),
        scaled_object("limited", world.stream_id, GROUP, uncommittedOffset="earliest", partitionLimitation="1,3"),
        scaled_object("exclude", world.stream_id, GROUP, uncommittedOffset="earliest", excludePersistentLag="true"),
    ]
    scaler = await restart()
    oracle = Oracle(world)
    steps = SCENARIOS[request.node.callspec.params["world"]][1]
    for number, step in enumerate(steps, 1):
        if step == RESTART:
            await scaler.app.stop()
            scaler, oracle = await restart(), Oracle(world)  # a new replica: no memory of offsets or of polls
        else:
            assert callable(step)
            await asyncio.to_thread(step, world)
        for ref in triggers:
            value = await scaler.value(ref)
            counts, total = await asyncio.to_thread(oracle.expect, ref)
            assert value == total, (number, ref.name, counts)
            for partition, lag in counts.items():
                assert scaler.gauge(ref, partition) == lag, (number, ref.name, partition)
                assert scaler.gauge(ref, partition, "burst_scaler_partition_lag_capped") == 0
