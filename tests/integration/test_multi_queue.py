"""``queueIds`` + ``operation`` through real gRPC, the real SDK and the emulator.

Three queues (one narrowed to a channel) are watched by three single-queue triggers and by three multi-queue
triggers (sum, max, avg) at once. Every trigger's answer is exact; the sum equals the sum of the single triggers'
answers taken in the same refresh; and however many triggers and RPCs name a queue, the emulator counts one
GetStats per queue per refresh.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc

from tests.support.queue_world import Answer, queue_ref, start_world

TTL = 1.0
ROUNDS = 3


async def test_multi_queue_triggers_combine_shared_reads(
    start_emulator: Any, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    world = await start_world(
        start_emulator=start_emulator,
        start_scaler=start_scaler,
        channel_for=channel_for,
        tmp_path=tmp_path,
        cache_ttl_seconds=TTL,
    )
    a, b, c = (world.emulator.create_queue(name) for name in ("orders", "refunds", "audits"))
    world.put(a, 3)
    world.put(b, 5, channel="eu")
    world.put(b, 11)  # other channels of b: not counted by b:eu
    world.put(c, 7)
    both = f"{a}, {b}:eu ,{c}"
    # name -> (metadata, value, active)
    table: dict[str, tuple[dict[str, str], float, bool]] = {
        "a": ({"queueId": a}, 3, True),
        "b-eu": ({"queueId": b, "channelId": "eu"}, 5, True),
        "c": ({"queueId": c}, 7, True),
        "sum": ({"queueIds": both}, 15, True),
        "max": ({"queueIds": both, "operation": "max"}, 7, True),
        "avg": ({"queueIds": both, "operation": "avg", "activationBacklog": "5"}, 5, False),  # 5 is not > 5
    }
    refs = {name: queue_ref(name, **metadata) for name, (metadata, _, _) in table.items()}

    await asyncio.gather(*(world.poll(ref) for ref in refs.values()))  # warm: GetQueue lookups, first reads
    for round_ in range(ROUNDS):
        world.advance(2 * TTL)
        before = world.get_stats_calls()
        answers: list[Answer] = await asyncio.gather(*(world.poll(ref) for ref in refs.values()))
        got = dict(zip(refs, answers, strict=True))
        assert {name: (ans.value, ans.active) for name, ans in got.items()} == {
            name: (float(value), active) for name, (_, value, active) in table.items()
        }, f"round {round_}"
        assert got["sum"].value == sum(got[single].value or 0 for single in ("a", "b-eu", "c"))
        assert world.get_stats_calls() - before == 3, "one GetStats per queue per refresh, for 18 RPCs"


async def test_a_queue_without_a_value_makes_the_whole_set_unavailable(
    start_emulator: Any, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    """A sum missing one of its queues would be a false low: the set answers UNAVAILABLE, naming the queue."""
    world = await start_world(
        start_emulator=start_emulator, start_scaler=start_scaler, channel_for=channel_for, tmp_path=tmp_path
    )
    a = world.emulator.create_queue("present")
    missing = "ocid1.queue.oc1.iad.doesnotexist"
    world.put(a, 4)
    single, ref = queue_ref("single", queueId=a), queue_ref("set", queueIds=f"{a},{missing}")
    for _ in range(20):  # bounded: on a loaded machine a first read may outlast one RPC deadline (it runs on)
        present, answer = await world.poll(single), await world.poll(ref)
        if present.value == 4 and "no answer from upstream" not in answer.details:
            break
        await asyncio.sleep(0.25)
    assert present.value == 4
    assert (answer.value, answer.code) == (None, grpc.StatusCode.UNAVAILABLE)
    name = await world.metric_name(ref)
    assert answer.details == (
        f"{name}: queue {missing}: no value read yet: GetQueue (messages endpoint lookup) failed: "
        f"HTTP 404 NotAuthorizedOrNotFound: queue {missing} not found, or not authorized"
    )
