"""``keepAliveSeconds`` through real gRPC, the real SDK and the emulator, on a hand-moved clock.

Each case is a timeline: at each step the clock moves (past the cache TTL, so every step is a fresh GetStats), the
world changes (messages put, received, deleted), and KEDA's poll must answer exactly the metric and IsActive
given. The window is 10 s; the first case shows an arrival at t=11 carrying activity to t=20, where the first
window (opened at t=2) would have ended at t=12.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.queue_world import QueueWorld, queue_ref, start_world


@dataclass(frozen=True)
class Step:
    at: float
    """Seconds since the start of the case (the clock only moves forward)."""
    do: Callable[[QueueWorld, str, dict[str, list[str]]], None]
    value: float
    active: bool


def put(count: int) -> Callable[[QueueWorld, str, dict[str, list[str]]], None]:
    return lambda world, queue, held: world.put(queue, count)


def take(count: int) -> Callable[[QueueWorld, str, dict[str, list[str]]], None]:
    """A consumer receives ``count`` messages and works on them (in flight for 60 s)."""
    return lambda world, queue, held: held.setdefault("receipts", []).extend(world.take(queue, count, visibility=60))


def finish(world: QueueWorld, queue: str, held: dict[str, list[str]]) -> None:
    """The consumer deletes everything it received."""
    world.delete(queue, held.pop("receipts", []))


def consume(count: int) -> Callable[[QueueWorld, str, dict[str, list[str]]], None]:
    def run(world: QueueWorld, queue: str, held: dict[str, list[str]]) -> None:
        world.delete(queue, world.take(queue, count, visibility=60))

    return run


def idle(world: QueueWorld, queue: str, held: dict[str, list[str]]) -> None:
    return None


@dataclass(frozen=True)
class Case:
    metadata: dict[str, str]
    steps: list[Step] = field(default_factory=list)


CASES = {
    "arrivals extend the window": Case(
        {"keepAliveSeconds": "10"},
        [
            Step(0, idle, 0, False),
            Step(2, put(3), 3, True),  # opens the window at t=2
            Step(4, consume(3), 0, True),  # empty, kept alive
            Step(9, idle, 0, True),  # 7 s after the last message
            Step(11, put(1), 1, True),  # an arrival: the window restarts at t=11
            Step(12, consume(1), 0, True),
            Step(20, idle, 0, True),  # 18 s after t=2, 9 s after t=11: only the arrival keeps it
            Step(21, idle, 0, False),  # 10 s after t=11: the window has closed
        ],
    ),
    "in-flight messages extend it even when not counted": Case(
        {"keepAliveSeconds": "10", "includeInFlight": "false"},
        [
            Step(0, put(2), 2, True),  # opens the window at t=0
            Step(2, take(2), 0, True),  # backlog 0 (in flight not counted), but work is going on
            Step(11, idle, 0, True),  # 11 s after the last visible message: the in-flight reads kept it open
            Step(20, finish, 0, True),  # last in-flight reading was t=11
            Step(21, idle, 0, False),
        ],
    ),
    "below the activation threshold it never opens": Case(
        {"keepAliveSeconds": "10", "activationBacklog": "5"},
        [
            Step(0, put(3), 3, False),  # 3 <= 5: not active, so no window, however busy
            Step(2, put(3), 6, True),  # 6 > 5: active, opens the window at t=2
            Step(4, consume(6), 0, True),
            Step(11, idle, 0, True),
            Step(12, idle, 0, False),
        ],
    ),
    "without keepAliveSeconds an empty queue is inactive at once": Case(
        {},
        [
            Step(0, put(3), 3, True),
            Step(2, consume(3), 0, False),
        ],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_keep_alive_window(
    name: str, start_emulator: Any, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    case = CASES[name]
    world = await start_world(
        start_emulator=start_emulator, start_scaler=start_scaler, channel_for=channel_for, tmp_path=tmp_path
    )
    queue = world.emulator.create_queue("sparse")
    ref = queue_ref("sparse-consumer", queueId=queue, **case.metadata)
    held: dict[str, list[str]] = {}
    now = 0.0
    seen = []
    for step in case.steps:
        world.advance(step.at - now)
        now = step.at
        step.do(world, queue, held)
        answer = await world.poll(ref)
        seen.append((step.at, answer.value, answer.active))
    assert seen == [(s.at, s.value, s.active) for s in case.steps]
