"""OCI 429 handling through real gRPC, the real SDK and the emulator's fault injection, on a hand-moved clock.

A 429 opens a back-off for that queue alone: no GetStats until it ends (OCI's ``retry-after`` when sent, else
``--throttle-backoff`` doubled per 429 in a row), the cached value served meanwhile while it is younger than
``--max-staleness``, and never a second attempt inside the RPC (the emulator counts exactly one GetStats per 429).
At t=0 the queue holds 5 and the scaler reads it; then 3 more arrive and GetStats is throttled. Every step polls
like KEDA and records the answer and the GetStats count so far.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.support.queue_world import queue_ref, start_world

GET_STATS = frozenset({"GetStats"})
THROTTLED = "GetStats throttled: HTTP 429 TooManyRequests: injected fault for GetStats"

# case -> (fault: 429 count and retry-after, scaler settings, steps: (t, answer, GetStats calls so far))
CASES: dict[str, tuple[dict[str, Any], dict[str, Any], list[tuple[float, float | str, int]]]] = {
    "retry-after is honoured": (
        {"count": 1, "retry_after_seconds": 20},
        {},
        [(2, 5, 2), (10, 5, 2), (21.5, 5, 2), (22, 8, 3)],  # throttled at t=2: nothing before t=22
    ),
    "without a hint the back-off doubles": (
        {"count": 2},
        {"throttle_backoff_seconds": 4.0},
        [(2, 5, 2), (5.5, 5, 2), (6, 5, 3), (13.5, 5, 3), (14, 8, 4)],  # 4 s from t=2, then 8 s from t=6
    ),
    "a hint beyond the maximum is cut to it": (
        {"count": 1, "retry_after_seconds": 3600},
        {"throttle_backoff_max_seconds": 10.0},
        [(2, 5, 2), (11.5, 5, 2), (12, 8, 3)],
    ),
    "past the staleness bound: UNAVAILABLE, then the value after the back-off": (
        {"count": 1, "retry_after_seconds": 20},
        {"max_staleness_seconds": 10.0},
        [
            (2, 5, 2),
            (
                11,
                "last good value is 11.0s old, over the 10s staleness bound; latest error: "
                f"{THROTTLED} (retry-after 20s); throttled, not asking again for 11.0s",
                2,
            ),
            (22, 8, 3),
        ],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_throttling_backs_off_serving_the_cached_value(
    case: str, start_emulator: Any, start_scaler: Any, channel_for: Any, tmp_path: Path
) -> None:
    fault, settings, steps = CASES[case]
    world = await start_world(
        start_emulator=start_emulator,
        start_scaler=start_scaler,
        channel_for=channel_for,
        tmp_path=tmp_path,
        **settings,
    )
    queue = world.emulator.create_queue("throttled")
    ref = queue_ref("consumer", queueId=queue)
    name = await world.metric_name(ref)
    world.put(queue, 5)
    assert (await world.poll(ref)).value == 5
    assert world.get_stats_calls() == 1
    world.emulator.faults.inject(429, operations=GET_STATS, **fault)
    world.put(queue, 3)
    seen: list[tuple[float, float | str, int]] = []
    now = 0.0
    for at, expected, _ in steps:
        fresh = expected == 8  # the step's read succeeds (the others serve the cached 5, or UNAVAILABLE)
        world.advance(at - now)
        now = at
        answer = await world.poll(ref, fresh=fresh)
        if answer.code == grpc.StatusCode.OK:
            assert answer.value is not None
            seen.append((at, answer.value, world.get_stats_calls()))
        else:
            assert answer.code == grpc.StatusCode.UNAVAILABLE
            assert answer.details.startswith(f"{name}: ")
            seen.append((at, answer.details.removeprefix(f"{name}: "), world.get_stats_calls()))
    assert seen == steps
    assert (
        world.app.telemetry.registry.get_sample_value(
            "burst_scaler_upstream_reads_total", {"source": "oci-queue", "outcome": "throttled"}
        )
        == fault["count"]
    )
