"""Consumer groups in the stream store (ManualClock, no HTTP): reservations, commits, commit-on-get, UpdateGroup.

``committedOffset`` is the offset of the last message the group consumed; a lag reader reads AFTER_OFFSET of it.
"""

from __future__ import annotations

import pytest

from oci_emulator import ManualClock, StreamLimits
from oci_emulator.errors import InvalidParameter, NotAuthorizedOrNotFound, TooManyRequests
from oci_emulator.groups import ConsumerGroup
from oci_emulator.streams import CursorType, NewStreamMessage, StreamStore

HOUR = 3600.0
TRIM_HORIZON = CursorType.TRIM_HORIZON


def make(
    clock: ManualClock, *, partitions: int, per_partition: int = 0, throttle: bool = False, **limits: int
) -> tuple[StreamStore, str]:
    streams = StreamStore(clock=clock, throttle=throttle, limits=StreamLimits(**limits))
    stream_id = streams.create_stream(
        name="s", compartment_id="c", stream_pool_id="p", partitions=partitions, immediate=True
    ).stream_id
    fill(streams, stream_id, partitions * per_partition)
    return streams, stream_id


def fill(streams: StreamStore, stream_id: str, count: int) -> None:
    """Keyless messages go round-robin, so ``count`` spreads evenly over the partitions."""
    streams.put_messages(stream_id, [NewStreamMessage(f"m{i}".encode()) for i in range(count)])


def committed(streams: StreamStore, stream_id: str, group: str = "g") -> list[int | None]:
    return [r.committed_offset for r in streams.get_group(stream_id, group).reservations]


def owners(streams: StreamStore, stream_id: str, group: str = "g") -> list[str | None]:
    return [r.instance for r in streams.get_group(stream_id, group).reservations]


def read(streams: StreamStore, stream_id: str, cursor: str, limit: int) -> tuple[list[tuple[int, int]], str]:
    batch = streams.get_messages(stream_id, cursor, limit=limit)
    return [(m.partition, m.offset) for m in batch.messages], batch.next_cursor


# ----------------------------------------------------------------------------------------------- reservations


def test_partitions_are_balanced_over_instances_and_extra_instances_get_none() -> None:
    streams, stream_id = make(ManualClock(), partitions=4)

    def join(instance: str) -> None:
        streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name=instance)

    join("a")
    assert owners(streams, stream_id) == ["a", "a", "a", "a"]
    join("b")
    assert owners(streams, stream_id) == ["a", "a", "b", "b"]
    join("c")
    assert owners(streams, stream_id) == ["a", "a", "b", "c"]  # sticky: only one partition moved
    join("d")
    join("e")
    assert owners(streams, stream_id) == ["a", "d", "b", "c"]
    assert sorted(str(owner) for owner in owners(streams, stream_id)) == ["a", "b", "c", "d"]  # "e" holds nothing


def test_reservations_lapse_after_the_timeout_unless_renewed() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock, partitions=2)
    a = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a", timeout_ms=10_000)
    streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="b", timeout_ms=10_000)
    (reservation, _) = streams.get_group(stream_id, "g").reservations
    assert reservation.reserved_until == clock() + 10.0

    clock.advance(6)
    a = streams.consumer_heartbeat(stream_id, a)
    clock.advance(6)
    assert owners(streams, stream_id) == ["a", "a"]  # b lapsed; a was renewed and took over
    clock.advance(4)
    assert owners(streams, stream_id) == [None, None]

    read(streams, stream_id, a, 1)  # a lapsed instance that reads again joins again
    assert owners(streams, stream_id) == ["a", "a"]


def test_get_group_lists_every_partition_and_unknown_groups_are_404() -> None:
    streams, stream_id = make(ManualClock(), partitions=3)

    with pytest.raises(NotAuthorizedOrNotFound, match="consumer group g not found"):
        streams.get_group(stream_id, "g")
    streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a")

    info = streams.get_group(stream_id, "g")
    assert [(r.partition, r.committed_offset, r.instance) for r in info.reservations] == [
        (0, None, "a"),
        (1, None, "a"),
        (2, None, "a"),
    ]
    with pytest.raises(NotAuthorizedOrNotFound):
        streams.update_group(stream_id, "never", CursorType.LATEST)


# ----------------------------------------------------------------------------------------------- commits


def test_commit_records_the_last_delivered_offset_per_partition_of_the_cursor_lineage() -> None:
    streams, stream_id = make(ManualClock(), partitions=2, per_partition=10)
    cursor = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a", commit_on_get=False)

    first, cursor = read(streams, stream_id, cursor, 3)
    second, cursor = read(streams, stream_id, cursor, 4)

    assert first == [(0, 0), (0, 1), (0, 2)]
    assert second == [(1, 0), (1, 1), (1, 2), (1, 3)]  # one partition per call, in rotation
    assert committed(streams, stream_id) == [None, None]  # nothing is committed without commit-on-get
    cursor = streams.consumer_commit(stream_id, cursor)
    assert committed(streams, stream_id) == [2, 3]
    after = streams.create_cursor(stream_id, "0", CursorType.AFTER_OFFSET, offset=2)
    assert [m.offset for m in streams.get_messages(stream_id, after, limit=100).messages] == list(range(3, 10))


def test_commit_on_get_commits_the_previous_batch_so_lag_is_overstated_by_one_batch() -> None:
    streams, stream_id = make(ManualClock(), partitions=1, per_partition=10)
    cursor = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a")  # commitOnGet defaults on

    first, cursor = read(streams, stream_id, cursor, 3)
    assert committed(streams, stream_id) == [None]
    second, cursor = read(streams, stream_id, cursor, 3)

    assert [offset for _, offset in first + second] == [0, 1, 2, 3, 4, 5]
    assert committed(streams, stream_id) == [2]  # offsets 3..5 were delivered but are still counted as lag
    read(streams, stream_id, cursor, 3)
    assert committed(streams, stream_id) == [5]


def test_a_new_group_cursor_resumes_after_the_commits_and_ignores_its_type() -> None:
    streams, stream_id = make(ManualClock(), partitions=2, per_partition=5)
    cursor = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a", commit_on_get=False)
    _, cursor = read(streams, stream_id, cursor, 2)
    streams.consumer_commit(stream_id, cursor)

    again = streams.create_group_cursor(stream_id, "g", CursorType.LATEST, instance_name="a", commit_on_get=False)
    delivered, again = read(streams, stream_id, again, 100)
    more, _ = read(streams, stream_id, again, 100)

    assert delivered == [(0, 2), (0, 3), (0, 4)]
    assert more == [(1, o) for o in range(5)]  # never committed: the group's TRIM_HORIZON start, not LATEST


def test_replaying_a_cursor_reads_the_same_messages_again() -> None:
    streams, stream_id = make(ManualClock(), partitions=1, per_partition=5)
    cursor = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a", commit_on_get=False)

    once, _ = read(streams, stream_id, cursor, 2)
    twice, _ = read(streams, stream_id, cursor, 2)

    assert once == twice == [(0, 0), (0, 1)]


def test_a_partition_moving_to_another_instance_restarts_from_the_committed_offset() -> None:
    streams, stream_id = make(ManualClock(), partitions=2, per_partition=6)
    a = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a", commit_on_get=False)
    _, a = read(streams, stream_id, a, 2)  # partition 0, offsets 0..1
    _, a = read(streams, stream_id, a, 3)  # partition 1, offsets 0..2
    a = streams.consumer_commit(stream_id, a)
    _, a = read(streams, stream_id, a, 2)  # partition 0 again (rotation), offsets 2..3
    _, a = read(streams, stream_id, a, 2)  # partition 1, offsets 3..4; neither read is committed

    b = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="b", commit_on_get=False)
    assert owners(streams, stream_id) == ["a", "b"]
    delivered, b = read(streams, stream_id, b, 100)
    assert delivered == [(1, o) for o in range(3, 6)]  # after a's commit of 2, not after a's uncommitted reads

    streams.consumer_commit(stream_id, a)
    assert committed(streams, stream_id) == [3, 2]  # a's stale position for partition 1 is not committed


def test_update_group_moves_every_partition_and_restarts_outstanding_cursors() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock, partitions=2, per_partition=4)
    cursor = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a", commit_on_get=False)

    streams.update_group(stream_id, "g", CursorType.LATEST)
    assert committed(streams, stream_id) == [3, 3]  # everything published counts as consumed: lag 0
    delivered, cursor = read(streams, stream_id, cursor, 100)
    assert delivered == []
    fill(streams, stream_id, 2)
    delivered, _ = read(streams, stream_id, cursor, 100)
    assert delivered == [(0, 4)]

    streams.update_group(stream_id, "g", TRIM_HORIZON)
    assert committed(streams, stream_id) == [None, None]  # offset 0 is next: nothing before it was consumed
    streams.trim_before(stream_id, "1", offset=2)
    streams.update_group(stream_id, "g", TRIM_HORIZON)
    assert committed(streams, stream_id) == [None, 1]
    streams.update_group(stream_id, "g", CursorType.AT_TIME, at=streams.wall_time(clock() + 1))
    assert committed(streams, stream_id) == [4, 4]


def test_group_cursors_created_at_latest_skip_what_was_published_before() -> None:
    streams, stream_id = make(ManualClock(), partitions=1, per_partition=3)
    cursor = streams.create_group_cursor(stream_id, "g", CursorType.LATEST, instance_name="a")

    fill(streams, stream_id, 2)

    delivered, _ = read(streams, stream_id, cursor, 100)
    assert delivered == [(0, 3), (0, 4)]


def test_commits_and_heartbeats_need_a_group_cursor() -> None:
    streams, stream_id = make(ManualClock(), partitions=1)
    plain = streams.create_cursor(stream_id, "0", CursorType.LATEST)

    with pytest.raises(InvalidParameter, match="not a group cursor"):
        streams.consumer_commit(stream_id, plain)
    with pytest.raises(InvalidParameter, match="not a group cursor"):
        streams.consumer_heartbeat(stream_id, plain)


def test_groups_vanish_after_a_retention_period_unused_and_are_limited_per_stream() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock, partitions=1, max_groups_per_stream=2)
    streams.create_group_cursor(stream_id, "g", TRIM_HORIZON)
    streams.create_group_cursor(stream_id, "h", TRIM_HORIZON)

    with pytest.raises(InvalidParameter, match="already has 2 consumer groups"):
        streams.create_group_cursor(stream_id, "i", TRIM_HORIZON)
    clock.advance(24 * HOUR)
    with pytest.raises(NotAuthorizedOrNotFound):
        streams.get_group(stream_id, "g")
    streams.create_group_cursor(stream_id, "i", TRIM_HORIZON)


def test_group_reads_count_against_every_reserved_partition_and_throttled_reads_change_nothing() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock, partitions=2, per_partition=10, throttle=True)
    cursor = streams.create_group_cursor(stream_id, "g", TRIM_HORIZON, instance_name="a")
    plain = streams.create_cursor(stream_id, "1", TRIM_HORIZON)
    for _ in range(5):
        _, cursor = read(streams, stream_id, cursor, 1)
    assert committed(streams, stream_id) == [1, 1]

    with pytest.raises(TooManyRequests, match=r"partition 0 .* for consumer group g"):
        read(streams, stream_id, cursor, 1)
    assert committed(streams, stream_id) == [1, 1]  # the refused read did not commit-on-get
    read(streams, stream_id, plain, 1)  # a plain cursor is another reader
    clock.advance(1.0)
    read(streams, stream_id, cursor, 1)
    assert committed(streams, stream_id) == [2, 1]


def test_consumer_group_balancing_is_deterministic_for_any_join_order() -> None:
    group = ConsumerGroup("g", starts=[0] * 5, generation=1, now=0.0)
    for name in ("x", "y", "z"):
        group.join(name, timeout_seconds=30, now=0.0)

    assert sorted(len(group.reserved_by(name)) for name in ("x", "y", "z")) == [1, 2, 2]
    assert sorted(p for name in ("x", "y", "z") for p in group.reserved_by(name)) == [0, 1, 2, 3, 4]
