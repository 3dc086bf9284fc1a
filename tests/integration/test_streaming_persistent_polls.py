"""``persistentLagThresholdPolls``: a partition's lag is excluded only after N reads with an unchanged committed offset.

Through real gRPC, the real SDK and the emulator: a group consumer commits on partitions 0 and 1 and never on 2, then
stands still, then moves partition 0 on. Each row gives, per read, which partitions the excluding trigger counts;
the value must be exactly the sum of their full counts. N = 1 is the rule before the key existed. A read that fails
(a GetMessages answers 500, after GetGroup succeeded) is no poll: the count of unchanged reads does not move, and
the last good value is served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from oci_emulator import Emulator
from scaler._proto import externalscaler_pb2 as pb
from tests.integration.conftest import StartEmulator
from tests.support.streams import (
    committed,
    consume,
    full_count,
    produce,
    scaled_object,
    sdk_client,
    start_scaler_on_clock,
)

GROUP = "billing"
ALL = frozenset("012")
STUCK = frozenset("2")  # partitions 0 and 1 stand still, 2 was never committed (no consumer to be stuck)
MOVED = frozenset("02")  # partition 0 moved on; 1 still stands still
FAIL = "fail"

# Per read: the partitions counted, or FAIL (a failed read serving the last good value). Partition 0 moves on
# before the fifth poll.
ROWS: dict[int | str, list[frozenset[str] | str]] = {
    1: [ALL, STUCK, STUCK, STUCK, MOVED, STUCK, STUCK],
    2: [ALL, ALL, STUCK, STUCK, MOVED, MOVED, STUCK],
    3: [ALL, ALL, ALL, STUCK, MOVED, MOVED, MOVED],
    # had the failed read counted as a poll, the read after it would already be STUCK
    "2 with a failed read": [ALL, FAIL, ALL, STUCK, STUCK, MOVED, MOVED, STUCK],
}
MOVE_BEFORE = 5  # 1-based read before which partition 0 moves (a FAIL does not count as a read here)


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> Emulator:
    return start_emulator(stream_throttle=False)


@pytest.fixture
def client(emulator: Emulator, tmp_path: Path) -> Iterator[Any]:
    made = sdk_client(emulator.write_config(tmp_path / "config"), emulator.url)
    yield made
    made.base_client.session.close()


@pytest.mark.parametrize("row", list(ROWS))
async def test_n_poll_exclusion(
    row: int | str, emulator: Emulator, client: Any, tmp_path: Path, start_scaler: Any, channel_for: Any
) -> None:
    threshold = row if isinstance(row, int) else 2
    stream_id = emulator.create_stream("stuck", partitions=3)
    await asyncio.to_thread(produce, client, stream_id, 300)
    await asyncio.to_thread(_commit_on, client, stream_id, {"0", "1"})
    scaler = await start_scaler_on_clock(
        start_scaler, channel_for, config_path=tmp_path / "config", endpoint=emulator.url
    )
    ref = scaled_object(
        "stuck",
        stream_id,
        GROUP,
        uncommittedOffset="earliest",
        excludePersistentLag="true",
        persistentLagThresholdPolls=str(threshold),
    )
    served: list[float] = []
    polls = 0
    for counted in ROWS[row]:
        if polls + 1 == MOVE_BEFORE and counted != FAIL:
            await asyncio.to_thread(consume, client, stream_id, GROUP, reads=1, limit=5)  # a new cursor: partition 0
        if isinstance(counted, str):  # FAIL
            emulator.faults.inject(500, operations=frozenset({"GetStreamMessages"}), count=1)
            scaler.clock.advance(10.0)  # within the staleness bound: the last good value is served
            request = pb.GetMetricsRequest(scaledObjectRef=ref, metricName=await scaler.metric_name(ref))
            (value,) = (await scaler.stub.GetMetrics(request)).metricValues
            assert value.metricValueFloat == served[-1]  # the last good value, never a guess
            continue
        before = emulator.counters.get("GetGroup")
        value = await scaler.value(ref)
        polls += 1
        assert emulator.counters.get("GetGroup") == before + 1  # exactly one read per poll
        lags = await asyncio.to_thread(full_count, client, stream_id, GROUP, "012", earliest=True)
        assert all(lags[p] > 0 for p in "012")
        assert value == sum(lags[p] for p in counted), (polls, counted, lags)
        served.append(value)


def _commit_on(client: Any, stream_id: str, partitions: set[str]) -> None:
    """One group cursor reading twice: the emulator serves partition 0, then 1; each read is committed."""
    consume(client, stream_id, GROUP, reads=2, limit=40)
    offsets = committed(client, stream_id, GROUP)
    assert {p for p, c in offsets.items() if c is not None} == partitions


async def test_the_threshold_is_validated_in_kedas_grammar(
    emulator: Emulator, tmp_path: Path, start_scaler: Any, channel_for: Any
) -> None:
    scaler = await start_scaler_on_clock(
        start_scaler, channel_for, config_path=emulator.write_config(tmp_path / "config"), endpoint=emulator.url
    )
    ref = scaled_object("bad", "ocid1.stream.oc1.iad.x", GROUP, persistentLagThresholdPolls="0")
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await scaler.stub.GetMetricSpec(ref)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'parameter "persistentLagThresholdPolls" value "0" must be >= 1' in (error.value.details() or "")
