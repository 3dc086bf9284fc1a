"""Reading a stream without a consumer group (CreateCursor, GetMessages), and what group reads share with it.

Cursors (see ``cursors``) expire ``cursor_ttl_seconds`` after issue. AT_OFFSET and AFTER_OFFSET need
``oldest <= offset <= latest`` (400 InvalidParameter otherwise, which is how a reader learns that a committed offset
was trimmed); AFTER_OFFSET of the latest offset is valid and reads nothing yet. A plain GetMessages counts against
its partition with group None in the read throttle (see ``throttle``); a throttled request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .cursors import Cursor, CursorCodec, PlainCursor
from .errors import InvalidParameter, TooManyRequests
from .partitions import PartitionLog, Record
from .stream_registry import StreamRecord, StreamRegistry
from .stream_values import Batch, CursorType, StreamMessage
from .throttle import GetThrottle


class CursorTokens:
    """Issues cursor tokens and takes them back, refusing tokens of another stream and expired ones."""

    def __init__(self, codec: CursorCodec, *, ttl_seconds: float) -> None:
        self._codec = codec
        self._ttl = ttl_seconds

    def encode(self, cursor: Cursor) -> str:
        return self._codec.encode(cursor)

    def decode(self, stream_id: str, token: str, now: float) -> Cursor:
        cursor = self._codec.decode(token)
        if cursor.stream_id != stream_id:
            raise InvalidParameter(f"the cursor belongs to another stream, not {stream_id}")
        if now - cursor.issued_at >= self._ttl:
            raise InvalidParameter(
                f"cursor expired: cursors are valid for {self._ttl:g} s after they are issued; create a new one"
            )
        return cursor


def start_offset(log: PartitionLog, kind: CursorType, at: datetime | None, instant: Callable[[datetime], float]) -> int:
    """The next offset to read for TRIM_HORIZON, LATEST or AT_TIME ``at`` (``instant`` maps it to the clock)."""
    if kind is CursorType.TRIM_HORIZON:
        return log.oldest
    if kind is CursorType.LATEST:
        return log.next_offset
    if kind is CursorType.AT_TIME:
        if at is None:
            raise InvalidParameter("time is required for an AT_TIME cursor")
        return log.offset_at_time(instant(at))
    raise InvalidParameter(f"a {kind.value} cursor needs an offset")


def to_message(stream: StreamRecord, partition: int, record: Record) -> StreamMessage:
    return StreamMessage(stream.name, partition, record.key, record.value, record.offset, record.timestamp)


def throttled(stream: StreamRecord, partition: int, group: str | None, limit: int) -> TooManyRequests:
    reader = f"consumer group {group}" if group is not None else "plain cursors"
    return TooManyRequests(
        f"GetMessages throttled: more than {limit} requests per second on partition {partition} of stream "
        f"{stream.stream_id} for {reader}; slow down"
    )


class PlainReads:
    """CreateCursor and plain-cursor GetMessages over the registry's streams."""

    def __init__(self, registry: StreamRegistry, *, tokens: CursorTokens, throttle: GetThrottle) -> None:
        self._registry = registry
        self._tokens = tokens
        self._throttle = throttle

    def create_cursor(
        self, stream_id: str, partition: str, kind: CursorType, *, offset: int | None, at: datetime | None
    ) -> str:
        with self._registry.lock:
            now = self._registry.now()
            stream = self._registry.active(stream_id, now)
            index = stream.partition(partition)
            log = stream.logs[index]
            if kind in (CursorType.AT_OFFSET, CursorType.AFTER_OFFSET):
                if offset is None:
                    raise InvalidParameter(f"offset is required for a {kind.value} cursor")
                if not log.oldest <= offset <= log.latest:
                    raise InvalidParameter(
                        f"offset {offset} is out of range for partition {partition}: it must be between the oldest "
                        f"retained offset {log.oldest} and the latest published offset {log.latest}"
                    )
                start = offset if kind is CursorType.AT_OFFSET else offset + 1
            else:
                start = start_offset(log, kind, at, self._registry.instant)
            return self._tokens.encode(PlainCursor(stream_id, index, start, now))

    def read(self, stream: StreamRecord, cursor: PlainCursor, limit: int, now: float) -> Batch:
        """GetMessages with a plain cursor (the caller holds the registry's lock and decoded the cursor)."""
        blocked = self._throttle.admit([(stream.stream_id, cursor.partition, None)], now)
        if blocked is not None:
            raise throttled(stream, blocked[1], None, self._throttle.requests_per_second)
        log = stream.logs[cursor.partition]
        start = max(cursor.offset, log.oldest)
        records = log.read(start, limit)
        next_cursor = PlainCursor(stream.stream_id, cursor.partition, start + len(records), now)
        messages = [to_message(stream, cursor.partition, record) for record in records]
        return Batch(messages, self._tokens.encode(next_cursor))
