"""The stream store without HTTP: lifecycle, partitioning, cursors, retention and the read throttle (ManualClock)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from oci_emulator import ManualClock, StreamLimits, partition_for_key
from oci_emulator.errors import (
    IncorrectState,
    InvalidParameter,
    NotAuthorizedOrNotFound,
    TooManyRequests,
)
from oci_emulator.streams import Appended, CursorType, NewStreamMessage, StreamState, StreamStore

HOUR = 3600.0


def make(
    clock: ManualClock, *, partitions: int = 1, throttle: bool = False, limits: StreamLimits | None = None
) -> tuple[StreamStore, str]:
    streams = StreamStore(clock=clock, throttle=throttle, limits=limits)
    info = streams.create_stream(
        name="events", compartment_id="c", stream_pool_id="p", partitions=partitions, immediate=True
    )
    return streams, info.stream_id


def put(streams: StreamStore, stream_id: str, *values: str, key: bytes | None = None) -> list[Appended]:
    outcomes = streams.put_messages(stream_id, [NewStreamMessage(value.encode(), key) for value in values])
    assert all(isinstance(outcome, Appended) for outcome in outcomes)
    return [outcome for outcome in outcomes if isinstance(outcome, Appended)]


def read_all(streams: StreamStore, stream_id: str, cursor: str, limit: int = 10_000) -> list[int]:
    return [message.offset for message in streams.get_messages(stream_id, cursor, limit=limit).messages]


def test_a_stream_is_creating_until_the_delay_passes_and_deleted_streams_answer_404() -> None:
    clock = ManualClock()
    streams = StreamStore(clock=clock, create_delay_seconds=2.0)
    info = streams.create_stream(name="s", compartment_id="c", stream_pool_id="p", partitions=2)

    assert info.lifecycle_state is StreamState.CREATING
    with pytest.raises(IncorrectState, match="CREATING"):
        streams.put_messages(info.stream_id, [NewStreamMessage(b"x")])
    clock.advance(2.0)
    assert streams.get_stream(info.stream_id).lifecycle_state is StreamState.ACTIVE

    streams.delete_stream(info.stream_id)
    assert streams.get_stream(info.stream_id).lifecycle_state is StreamState.DELETING
    with pytest.raises(NotAuthorizedOrNotFound):
        streams.put_messages(info.stream_id, [NewStreamMessage(b"x")])
    clock.advance(2.0)
    assert streams.get_stream(info.stream_id).lifecycle_state is StreamState.DELETED
    assert streams.list_streams() == []
    assert [s.stream_id for s in streams.list_streams(lifecycle_state=StreamState.DELETED)] == [info.stream_id]
    with pytest.raises(NotAuthorizedOrNotFound):
        streams.get_stream("ocid1.stream.oc1..unknown")


def test_keyed_messages_follow_the_hash_and_keyless_ones_go_round_robin() -> None:
    streams, stream_id = make(ManualClock(), partitions=3)
    keys = [f"customer-{i}".encode() for i in range(30)]

    keyed = streams.put_messages(stream_id, [NewStreamMessage(b"v", key) for key in keys])
    keyless = put(streams, stream_id, "a", "b", "c", "d")

    assert [o.partition for o in keyed if isinstance(o, Appended)] == [partition_for_key(k, 3) for k in keys]
    assert [o.partition for o in keyless] == [0, 1, 2, 0]
    counts = [offsets.next_offset for offsets in streams.partition_offsets(stream_id)]
    assert sum(counts) == 34


def test_a_too_long_key_fails_only_its_entry() -> None:
    streams, stream_id = make(ManualClock(), limits=StreamLimits(max_key_bytes=4))

    outcomes = streams.put_messages(
        stream_id, [NewStreamMessage(b"a", b"1234"), NewStreamMessage(b"b", b"12345"), NewStreamMessage(b"c")]
    )

    assert isinstance(outcomes[0], Appended)
    assert isinstance(outcomes[1], InvalidParameter)
    assert "limited to 4" in outcomes[1].message
    assert isinstance(outcomes[2], Appended)
    assert (outcomes[0].offset, outcomes[2].offset) == (0, 1)


def test_cursor_types_start_where_documented() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock)
    put(streams, stream_id, "a", "b")
    clock.advance(10)
    put(streams, stream_id, "c", "d")
    at = streams.wall_time(clock() - 1)

    def start(kind: CursorType, offset: int | None = None, at: datetime | None = None) -> list[int]:
        return read_all(streams, stream_id, streams.create_cursor(stream_id, "0", kind, offset=offset, at=at))

    assert start(CursorType.TRIM_HORIZON) == [0, 1, 2, 3]
    assert start(CursorType.LATEST) == []
    assert start(CursorType.AT_OFFSET, offset=1) == [1, 2, 3]
    assert start(CursorType.AFTER_OFFSET, offset=1) == [2, 3]
    assert start(CursorType.AFTER_OFFSET, offset=3) == []  # after the latest: valid, nothing yet
    assert start(CursorType.AT_TIME, at=at) == [2, 3]
    assert start(CursorType.AT_TIME, at=at + timedelta(hours=1)) == []
    latest = streams.create_cursor(stream_id, "0", CursorType.LATEST)
    put(streams, stream_id, "e")
    assert read_all(streams, stream_id, latest) == [4]


@pytest.mark.parametrize("offset", [-1, 4, 100])
@pytest.mark.parametrize("kind", [CursorType.AT_OFFSET, CursorType.AFTER_OFFSET])
def test_offsets_outside_oldest_to_latest_are_refused(kind: CursorType, offset: int) -> None:
    streams, stream_id = make(ManualClock())
    put(streams, stream_id, "a", "b", "c", "d")

    with pytest.raises(InvalidParameter, match=rf"offset {offset} is out of range .* between .* 0 and .* 3"):
        streams.create_cursor(stream_id, "0", kind, offset=offset)


def test_an_empty_partition_has_no_valid_offset_and_partitions_are_checked() -> None:
    streams, stream_id = make(ManualClock(), partitions=2)

    with pytest.raises(InvalidParameter, match="out of range"):
        streams.create_cursor(stream_id, "1", CursorType.AT_OFFSET, offset=0)
    for partition in ("2", "-1", "01", "x", ""):
        with pytest.raises(InvalidParameter, match="partition must be one of 0 to 1"):
            streams.create_cursor(stream_id, partition, CursorType.LATEST)


def test_get_messages_pages_with_the_next_cursor_and_respects_the_limit() -> None:
    streams, stream_id = make(ManualClock())
    put(streams, stream_id, *"abcde")
    cursor = streams.create_cursor(stream_id, "0", CursorType.TRIM_HORIZON)

    pages = []
    for _ in range(4):
        batch = streams.get_messages(stream_id, cursor, limit=2)
        pages.append([(m.offset, m.value, m.stream_name, m.partition) for m in batch.messages])
        cursor = batch.next_cursor

    assert pages == [
        [(0, b"a", "events", 0), (1, b"b", "events", 0)],
        [(2, b"c", "events", 0), (3, b"d", "events", 0)],
        [(4, b"e", "events", 0)],
        [],
    ]


def test_cursors_expire_after_five_minutes_and_belong_to_one_stream() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock)
    other = streams.create_stream(name="other", compartment_id="c", stream_pool_id="p", partitions=1, immediate=True)
    cursor = streams.create_cursor(stream_id, "0", CursorType.TRIM_HORIZON)

    with pytest.raises(InvalidParameter, match="another stream"):
        streams.get_messages(other.stream_id, cursor, limit=1)
    clock.advance(299.9)
    fresh = streams.get_messages(stream_id, cursor, limit=1).next_cursor
    clock.advance(0.1)
    with pytest.raises(InvalidParameter, match="cursor expired"):
        streams.get_messages(stream_id, cursor, limit=1)
    assert streams.get_messages(stream_id, fresh, limit=1).messages == []  # a next cursor is a fresh cursor


def test_retention_trims_by_the_clock_and_moves_the_oldest_offset() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock)
    put(streams, stream_id, "old-1", "old-2")
    clock.advance(12 * HOUR)
    put(streams, stream_id, "new-1")
    old_cursor = streams.create_cursor(stream_id, "0", CursorType.AT_OFFSET, offset=0)
    clock.advance(12 * HOUR - 1)
    assert streams.apply_retention() == 0

    clock.advance(1)
    assert streams.apply_retention() == 2

    (offsets,) = streams.partition_offsets(stream_id)
    assert (offsets.oldest, offsets.next_offset) == (2, 3)
    with pytest.raises(InvalidParameter, match="out of range"):
        streams.create_cursor(stream_id, "0", CursorType.AFTER_OFFSET, offset=1)
    assert read_all(streams, stream_id, streams.create_cursor(stream_id, "0", CursorType.TRIM_HORIZON)) == [2]
    with pytest.raises(InvalidParameter, match="cursor expired"):
        read_all(streams, stream_id, old_cursor)


def test_a_cursor_on_trimmed_messages_continues_at_the_oldest() -> None:
    streams, stream_id = make(ManualClock())
    put(streams, stream_id, *"abcdef")
    cursor = streams.create_cursor(stream_id, "0", CursorType.AT_OFFSET, offset=1)

    assert streams.trim_before(stream_id, "0", offset=4) == 4

    assert read_all(streams, stream_id, cursor) == [4, 5]


def test_plain_reads_are_throttled_per_partition_per_second() -> None:
    clock = ManualClock()
    streams, stream_id = make(clock, partitions=2, throttle=True)
    put(streams, stream_id, "a")
    cursor = streams.create_cursor(stream_id, "0", CursorType.TRIM_HORIZON)
    other_partition = streams.create_cursor(stream_id, "1", CursorType.TRIM_HORIZON)

    for _ in range(5):
        streams.get_messages(stream_id, cursor, limit=1)
    with pytest.raises(TooManyRequests, match="more than 5 requests per second on partition 0"):
        streams.get_messages(stream_id, cursor, limit=1)
    streams.get_messages(stream_id, other_partition, limit=1)
    clock.advance(1.0)
    streams.get_messages(stream_id, cursor, limit=1)

    streams.throttle.set_enabled(False)
    for _ in range(20):
        streams.get_messages(stream_id, cursor, limit=1)
