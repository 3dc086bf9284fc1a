"""The emulator's stream registry: lifecycle, partition logs, cursors, consumer groups and read throttling.

Everything the Streaming REST handlers do happens here, under one lock, with time read from the injected clock, so
the behaviour the scaler depends on can be unit-tested step by step and is identical over HTTP:

- **Offsets** are contiguous per partition from 0; retention (``retentionInHours`` by the injected clock) trims
  from the head, lazily on every access of the stream (``apply_retention`` forces it; ``trim_before`` trims to an
  offset, for tests that need a trimmed head without moving the clock).
- **Partitioning**: keyed messages go where ``partition_for_key`` says; messages without a key go round-robin per
  stream (OCI generates a key for them; where it lands is unspecified). A key longer than the limit fails that
  message's entry (``error`` "400"), other entries of the request are still appended.
- **Cursors** (see ``cursors``) expire ``cursor_ttl_seconds`` after issue. AT_OFFSET and AFTER_OFFSET need
  ``oldest <= offset <= latest`` (400 InvalidParameter otherwise, which is how a reader learns that a committed
  offset was trimmed); AFTER_OFFSET of the latest offset is valid and reads nothing yet.
- **Groups** (see ``groups``): ``committedOffset`` is the offset of the last message consumed. ConsumerCommit
  commits, for every partition the cursor's instance still holds, the offset before the cursor's next read position,
  for positions the cursor's lineage delivered from (or started from a committed offset). With ``commitOnGet`` a
  GetMessages commits the positions of the cursor it was given, i.e. what the *previous* GetMessages delivered, so
  a lag reader overstates lag by up to one batch. A group GetMessages delivers from one partition per call: the
  first of the instance's partitions, in rotation after the one served last, that has messages.
- **Throttling** (see ``throttle``): a plain GetMessages counts against its partition with group None; a group
  GetMessages counts against every partition its instance reserves (it polls them all), and is refused with 429
  when any of them is at the limit. Throttled requests change nothing.
- Groups unused for the stream's retention period disappear; a stream holds at most ``max_groups_per_stream``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum

from .cursors import Cursor, CursorCodec, GroupCursor, PlainCursor, Position
from .errors import ApiError, IncorrectState, InvalidParameter, NotAuthorizedOrNotFound, TooManyRequests
from .groups import ConsumerGroup, Reservation
from .ocids import new_ocid
from .partitions import PartitionLog, Record, partition_for_key
from .stream_settings import StreamLimits
from .throttle import GetThrottle

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class StreamState(Enum):
    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"
    DELETED = "DELETED"
    FAILED = "FAILED"
    UPDATING = "UPDATING"


class CursorType(Enum):
    AFTER_OFFSET = "AFTER_OFFSET"
    AT_OFFSET = "AT_OFFSET"
    AT_TIME = "AT_TIME"
    LATEST = "LATEST"
    TRIM_HORIZON = "TRIM_HORIZON"


GROUP_CURSOR_TYPES = (CursorType.AT_TIME, CursorType.LATEST, CursorType.TRIM_HORIZON)


@dataclass(frozen=True)
class StreamInfo:
    """A snapshot of one stream's control-plane record. Times are on the store's clock; see ``wall_time``."""

    stream_id: str
    name: str
    partitions: int
    retention_in_hours: int
    compartment_id: str
    stream_pool_id: str
    lifecycle_state: StreamState
    created_at: float
    freeform_tags: Mapping[str, str]
    defined_tags: Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class NewStreamMessage:
    """A message as a producer submits it (already base64-decoded)."""

    value: bytes
    key: bytes | None = None


@dataclass(frozen=True)
class Appended:
    """The acknowledgement of one appended message."""

    partition: int
    offset: int
    timestamp: float


@dataclass(frozen=True)
class StreamMessage:
    """One message as GetMessages returns it."""

    stream_name: str
    partition: int
    key: bytes | None
    value: bytes
    offset: int
    timestamp: float


@dataclass(frozen=True)
class Batch:
    """A GetMessages result: the messages and the cursor for the next call."""

    messages: list[StreamMessage]
    next_cursor: str


@dataclass(frozen=True)
class GroupInfo:
    stream_id: str
    group_name: str
    reservations: list[Reservation]


@dataclass(frozen=True)
class PartitionOffsets:
    """What a partition retains: offsets ``oldest`` to ``next_offset - 1``."""

    oldest: int
    next_offset: int


@dataclass(slots=True)
class _Stream:
    stream_id: str
    name: str
    compartment_id: str
    stream_pool_id: str
    retention_in_hours: int
    created_at: float
    freeform_tags: Mapping[str, str]
    defined_tags: Mapping[str, Mapping[str, object]]
    logs: list[PartitionLog]
    state: StreamState
    pending: tuple[float, StreamState] | None = None
    round_robin: int = 0
    groups: dict[str, ConsumerGroup] = field(default_factory=dict)


class StreamStore:
    """Every stream of the emulator. All public methods are thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        create_delay_seconds: float = 0.0,
        limits: StreamLimits | None = None,
        throttle: bool = True,
        region_key: str = "iad",
        cursor_secret: bytes | None = None,
    ) -> None:
        if create_delay_seconds < 0:
            raise ValueError(f"create_delay_seconds must be >= 0, got {create_delay_seconds}")
        self._clock = clock
        self._create_delay = create_delay_seconds
        self.limits = limits or StreamLimits()
        self.throttle = GetThrottle(requests_per_second=self.limits.get_requests_per_second, enabled=throttle)
        self._region_key = region_key
        self._wall_offset = time.time() - clock()
        self._codec = CursorCodec(cursor_secret)
        self._lock = threading.Lock()
        self._streams: dict[str, _Stream] = {}
        self._generations = 0

    def now(self) -> float:
        return self._clock()

    def wall_time(self, instant: float) -> datetime:
        """The UTC wall-clock time of an instant on the store's clock."""
        return datetime.fromtimestamp(self._wall_offset + instant, tz=UTC)

    def instant(self, moment: datetime) -> float:
        """The store-clock instant of a wall-clock time (naive times are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp() - self._wall_offset

    # ------------------------------------------------------------------------------------------- control plane

    def create_stream(
        self,
        *,
        name: str,
        compartment_id: str,
        stream_pool_id: str,
        partitions: int,
        retention_in_hours: int = 24,
        freeform_tags: Mapping[str, str] | None = None,
        defined_tags: Mapping[str, Mapping[str, object]] | None = None,
        stream_id: str | None = None,
        immediate: bool = False,
    ) -> StreamInfo:
        """Create a stream; it is CREATING until ``create_delay_seconds`` pass unless ``immediate``."""
        with self._lock:
            now = self.now()
            if stream_id is None:
                stream_id = new_ocid("stream", region_key=self._region_key)
            elif stream_id in self._streams:
                raise InvalidParameter(f"a stream with id {stream_id} already exists")
            delay = 0.0 if immediate else self._create_delay
            stream = _Stream(
                stream_id=stream_id,
                name=name,
                compartment_id=compartment_id,
                stream_pool_id=stream_pool_id,
                retention_in_hours=retention_in_hours,
                created_at=now,
                freeform_tags=dict(freeform_tags or {}),
                defined_tags=dict(defined_tags or {}),
                logs=[PartitionLog() for _ in range(partitions)],
                state=StreamState.ACTIVE if delay == 0 else StreamState.CREATING,
                pending=None if delay == 0 else (now + delay, StreamState.ACTIVE),
            )
            self._streams[stream_id] = stream
            logger.debug("created stream %s (%s, %d partitions)", stream_id, name, partitions)
            return self._info(stream)

    def get_stream(self, stream_id: str) -> StreamInfo:
        with self._lock:
            return self._info(self._find(stream_id, self.now()))

    def list_streams(
        self,
        *,
        compartment_id: str | None = None,
        stream_pool_id: str | None = None,
        name: str | None = None,
        stream_id: str | None = None,
        lifecycle_state: StreamState | None = None,
    ) -> list[StreamInfo]:
        """Matching streams, oldest first. DELETED streams are listed only when asked for by state."""
        with self._lock:
            now = self.now()
            found = []
            for stream in self._streams.values():
                self._settle(stream, now)
                if compartment_id is not None and stream.compartment_id != compartment_id:
                    continue
                if stream_pool_id is not None and stream.stream_pool_id != stream_pool_id:
                    continue
                if name is not None and stream.name != name:
                    continue
                if stream_id is not None and stream.stream_id != stream_id:
                    continue
                if lifecycle_state is None and stream.state is StreamState.DELETED:
                    continue
                if lifecycle_state is not None and stream.state is not lifecycle_state:
                    continue
                found.append(self._info(stream))
            return found

    def delete_stream(self, stream_id: str) -> None:
        """Start deleting a stream: its messages and groups go at once; DELETING turns DELETED after the delay."""
        with self._lock:
            now = self.now()
            stream = self._find(stream_id, now)
            if stream.state is StreamState.DELETED:
                raise NotAuthorizedOrNotFound(f"stream {stream_id} was deleted")
            if stream.state is StreamState.DELETING:
                raise IncorrectState(f"stream {stream_id} is already being deleted")
            stream.logs = [PartitionLog() for _ in stream.logs]
            stream.groups = {}
            delay = self._create_delay
            stream.state = StreamState.DELETED if delay == 0 else StreamState.DELETING
            stream.pending = None if delay == 0 else (now + delay, StreamState.DELETED)
            self.throttle.forget(stream_id)

    # ------------------------------------------------------------------------------------------- producers

    def put_messages(self, stream_id: str, messages: Iterable[NewStreamMessage]) -> list[Appended | ApiError]:
        """Append messages in order; one outcome per message (an ApiError for a message that was refused)."""
        with self._lock:
            now = self.now()
            stream = self._active(stream_id, now)
            outcomes: list[Appended | ApiError] = []
            for message in messages:
                if message.key is not None and len(message.key) > self.limits.max_key_bytes:
                    outcomes.append(
                        InvalidParameter(
                            f"the key is {len(message.key)} bytes; keys are limited to {self.limits.max_key_bytes}"
                        )
                    )
                    continue
                if message.key is not None:
                    partition = partition_for_key(message.key, len(stream.logs))
                else:
                    partition = stream.round_robin % len(stream.logs)
                    stream.round_robin += 1
                record = stream.logs[partition].append(message.key, message.value, now)
                outcomes.append(Appended(partition, record.offset, record.timestamp))
            return outcomes

    # ------------------------------------------------------------------------------------------- plain cursors

    def create_cursor(
        self,
        stream_id: str,
        partition: str,
        kind: CursorType,
        *,
        offset: int | None = None,
        at: datetime | None = None,
    ) -> str:
        """CreateCursor: a plain cursor on one partition."""
        with self._lock:
            now = self.now()
            stream = self._active(stream_id, now)
            index = _partition_index(partition, len(stream.logs))
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
                start = self._location(log, kind, at)
            return self._codec.encode(PlainCursor(stream_id, index, start, now))

    # ------------------------------------------------------------------------------------------- group cursors

    def create_group_cursor(
        self,
        stream_id: str,
        group_name: str,
        kind: CursorType,
        *,
        at: datetime | None = None,
        instance_name: str | None = None,
        timeout_ms: int | None = None,
        commit_on_get: bool = True,
    ) -> str:
        """CreateGroupCursor: join (or create) ``group_name`` as ``instance_name`` (a fresh UUID when None)."""
        if kind not in GROUP_CURSOR_TYPES:
            raise InvalidParameter(f"type must be one of {', '.join(k.value for k in GROUP_CURSOR_TYPES)}")
        with self._lock:
            now = self.now()
            stream = self._active(stream_id, now)
            groups = stream.groups
            group = self._group(stream, group_name, now, missing_ok=True)
            if group is None:
                if len(groups) >= self.limits.max_groups_per_stream:
                    raise InvalidParameter(
                        f"stream {stream_id} already has {len(groups)} consumer groups, the most it may have"
                    )
                locations = [self._location(log, kind, at) for log in stream.logs]
                group = ConsumerGroup(group_name, starts=locations, generation=self._next_generation(), now=now)
                groups[group_name] = group
                logger.debug("created consumer group %s on stream %s at %s", group_name, stream_id, kind.value)
            instance = instance_name or str(uuid.uuid4())
            timeout = timeout_ms if timeout_ms is not None else self.limits.default_timeout_in_ms
            group.join(instance, timeout_seconds=timeout / 1000.0, now=now)
            group.last_used = now
            cursor = GroupCursor(
                stream_id=stream_id,
                group_name=group_name,
                instance_name=instance,
                generation=group.generation,
                timeout_ms=timeout,
                commit_on_get=commit_on_get,
                positions=tuple(self._group_position(group, p) for p in group.reserved_by(instance)),
                last_partition=None,
                issued_at=now,
            )
            return self._codec.encode(cursor)

    def get_group(self, stream_id: str, group_name: str) -> GroupInfo:
        with self._lock:
            now = self.now()
            stream = self._active(stream_id, now)
            group = self._group(stream, group_name, now)
            assert group is not None
            return GroupInfo(stream_id, group_name, group.reservations())

    def update_group(self, stream_id: str, group_name: str, kind: CursorType, *, at: datetime | None = None) -> None:
        """UpdateGroup: move the whole group to TRIM_HORIZON, LATEST or a time; outstanding cursors start over."""
        if kind not in GROUP_CURSOR_TYPES:
            raise InvalidParameter(f"type must be one of {', '.join(k.value for k in GROUP_CURSOR_TYPES)}")
        with self._lock:
            now = self.now()
            stream = self._active(stream_id, now)
            group = self._group(stream, group_name, now)
            assert group is not None
            group.reset([self._location(log, kind, at) for log in stream.logs], self._next_generation())
            group.last_used = now

    def consumer_commit(self, stream_id: str, token: str) -> str:
        """ConsumerCommit: commit what the cursor's lineage consumed; renews the instance; returns a fresh cursor."""
        with self._lock:
            now = self.now()
            cursor, group = self._group_cursor(stream_id, token, now)
            group.renew(cursor.instance_name, timeout_seconds=cursor.timeout_ms / 1000.0, now=now)
            positions = self._resolve(group, cursor)
            self._commit(group, positions)
            return self._reissue(cursor, group, positions, now)

    def consumer_heartbeat(self, stream_id: str, token: str) -> str:
        """ConsumerHeartbeat: renew the instance's reservations; returns a fresh cursor."""
        with self._lock:
            now = self.now()
            cursor, group = self._group_cursor(stream_id, token, now)
            group.renew(cursor.instance_name, timeout_seconds=cursor.timeout_ms / 1000.0, now=now)
            return self._reissue(cursor, group, self._resolve(group, cursor), now)

    # ------------------------------------------------------------------------------------------- consumers

    def get_messages(self, stream_id: str, token: str, *, limit: int) -> Batch:
        """GetMessages with a plain or group cursor (see the module docstring)."""
        with self._lock:
            now = self.now()
            stream = self._active(stream_id, now)
            cursor = self._decode(stream_id, token, now)
            if isinstance(cursor, PlainCursor):
                return self._get_plain(stream, cursor, limit, now)
            group = self._group(stream, cursor.group_name, now)
            assert group is not None
            return self._get_group(stream, group, cursor, limit, now)

    # ------------------------------------------------------------------------------------------- test helpers

    def trim_before(self, stream_id: str, partition: str, *, offset: int) -> int:
        """Drop the messages of one partition below ``offset``, as retention would; returns how many went."""
        with self._lock:
            stream = self._active(stream_id, self.now())
            return stream.logs[_partition_index(partition, len(stream.logs))].trim_before(offset)

    def apply_retention(self) -> int:
        """Trim every stream by its retention at the clock's current time; returns how many messages went."""
        with self._lock:
            now = self.now()
            return sum(self._expire(stream, now) for stream in self._streams.values())

    def partition_offsets(self, stream_id: str) -> list[PartitionOffsets]:
        """Retained offsets of every partition, for tests and diagnostics."""
        with self._lock:
            stream = self._active(stream_id, self.now())
            return [PartitionOffsets(log.oldest, log.next_offset) for log in stream.logs]

    # ------------------------------------------------------------------------------------------- internals

    def _get_plain(self, stream: _Stream, cursor: PlainCursor, limit: int, now: float) -> Batch:
        blocked = self.throttle.admit([(stream.stream_id, cursor.partition, None)], now)
        if blocked is not None:
            raise _throttled(stream, blocked[1], None, self.throttle.requests_per_second)
        log = stream.logs[cursor.partition]
        start = max(cursor.offset, log.oldest)
        records = log.read(start, limit)
        next_cursor = PlainCursor(stream.stream_id, cursor.partition, start + len(records), now)
        messages = [_message(stream, cursor.partition, record) for record in records]
        return Batch(messages, self._codec.encode(next_cursor))

    def _get_group(self, stream: _Stream, group: ConsumerGroup, cursor: GroupCursor, limit: int, now: float) -> Batch:
        timeout = cursor.timeout_ms / 1000.0
        if not group.has_instance(cursor.instance_name):
            group.join(cursor.instance_name, timeout_seconds=timeout, now=now)  # its reservations had lapsed
        owned = group.reserved_by(cursor.instance_name)
        blocked = self.throttle.admit([(stream.stream_id, partition, group.name) for partition in owned], now)
        if blocked is not None:
            raise _throttled(stream, blocked[1], group.name, self.throttle.requests_per_second)
        group.renew(cursor.instance_name, timeout_seconds=timeout, now=now)
        group.last_used = now
        positions = self._resolve(group, cursor)
        if cursor.commit_on_get:
            self._commit(group, positions)
        chosen: int | None = None
        records: list[Record] = []
        for position in _rotation(positions, cursor.last_partition):
            log = stream.logs[position.partition]
            records = log.read(position.offset, limit)
            if records:
                chosen = position.partition
                break
        updated = []
        for position in positions:
            if position.partition == chosen:
                position = replace(position, offset=records[-1].offset + 1, committable=True)
            updated.append(position)
        next_cursor = replace(
            cursor,
            generation=group.generation,
            positions=tuple(updated),
            last_partition=chosen if chosen is not None else cursor.last_partition,
            issued_at=now,
        )
        messages = [_message(stream, chosen, record) for record in records] if chosen is not None else []
        return Batch(messages, self._codec.encode(next_cursor))

    def _resolve(self, group: ConsumerGroup, cursor: GroupCursor) -> tuple[Position, ...]:
        """The cursor's positions for the partitions its instance holds now; stale ones come from the group."""
        positions = []
        for partition in group.reserved_by(cursor.instance_name):
            held = cursor.position(partition) if cursor.generation == group.generation else None
            if held is None or held.epoch != group.epoch(partition):
                held = self._group_position(group, partition)
            positions.append(held)
        return tuple(positions)

    def _reissue(self, cursor: GroupCursor, group: ConsumerGroup, positions: tuple[Position, ...], now: float) -> str:
        """A fresh token for the same lineage, with positions for the partitions its instance holds now."""
        return self._codec.encode(replace(cursor, generation=group.generation, positions=positions, issued_at=now))

    @staticmethod
    def _group_position(group: ConsumerGroup, partition: int) -> Position:
        return Position(
            partition=partition,
            offset=group.next_offset(partition),
            epoch=group.epoch(partition),
            committable=group.committed(partition) is not None,
        )

    @staticmethod
    def _commit(group: ConsumerGroup, positions: Sequence[Position]) -> None:
        for position in positions:
            if position.committable:
                group.commit(position.partition, position.offset - 1)

    def _group_cursor(self, stream_id: str, token: str, now: float) -> tuple[GroupCursor, ConsumerGroup]:
        stream = self._active(stream_id, now)
        cursor = self._decode(stream_id, token, now)
        if not isinstance(cursor, GroupCursor):
            raise InvalidParameter("the cursor is not a group cursor; commits and heartbeats need CreateGroupCursor")
        group = self._group(stream, cursor.group_name, now)
        assert group is not None
        group.last_used = now
        return cursor, group

    def _decode(self, stream_id: str, token: str, now: float) -> Cursor:
        cursor = self._codec.decode(token)
        if cursor.stream_id != stream_id:
            raise InvalidParameter(f"the cursor belongs to another stream, not {stream_id}")
        if now - cursor.issued_at >= self.limits.cursor_ttl_seconds:
            raise InvalidParameter(
                f"cursor expired: cursors are valid for {self.limits.cursor_ttl_seconds:g} s after they are issued; "
                "create a new one"
            )
        return cursor

    def _group(self, stream: _Stream, name: str, now: float, *, missing_ok: bool = False) -> ConsumerGroup | None:
        groups = stream.groups
        group = groups.get(name)
        if group is not None and now - group.last_used >= stream.retention_in_hours * 3600:
            del groups[name]  # groups are ephemeral: unused for the retention period, they vanish
            group = None
        if group is None:
            if missing_ok:
                return None
            raise NotAuthorizedOrNotFound(f"consumer group {name} not found on stream {stream.stream_id}")
        group.settle(now)
        return group

    def _location(self, log: PartitionLog, kind: CursorType, at: datetime | None) -> int:
        """The next offset to read for TRIM_HORIZON, LATEST or AT_TIME ``at``."""
        if kind is CursorType.TRIM_HORIZON:
            return log.oldest
        if kind is CursorType.LATEST:
            return log.next_offset
        if kind is CursorType.AT_TIME:
            if at is None:
                raise InvalidParameter("time is required for an AT_TIME cursor")
            return log.offset_at_time(self.instant(at))
        raise InvalidParameter(f"a {kind.value} cursor needs an offset")

    def _next_generation(self) -> int:
        self._generations += 1
        return self._generations

    def _find(self, stream_id: str, now: float) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise NotAuthorizedOrNotFound(f"stream {stream_id} not found, or not authorized")
        self._settle(stream, now)
        return stream

    def _active(self, stream_id: str, now: float) -> _Stream:
        stream = self._find(stream_id, now)
        if stream.state in (StreamState.DELETED, StreamState.DELETING):
            raise NotAuthorizedOrNotFound(f"stream {stream_id} was deleted")
        if stream.state is not StreamState.ACTIVE:
            raise IncorrectState(f"stream {stream_id} is {stream.state.value}; wait until it is ACTIVE")
        self._expire(stream, now)
        return stream

    @staticmethod
    def _settle(stream: _Stream, now: float) -> None:
        if stream.pending is not None and now >= stream.pending[0]:
            stream.state = stream.pending[1]
            stream.pending = None

    @staticmethod
    def _expire(stream: _Stream, now: float) -> int:
        cutoff = now - stream.retention_in_hours * 3600
        return sum(log.trim_until(cutoff) for log in stream.logs)

    @staticmethod
    def _info(stream: _Stream) -> StreamInfo:
        return StreamInfo(
            stream_id=stream.stream_id,
            name=stream.name,
            partitions=len(stream.logs),
            retention_in_hours=stream.retention_in_hours,
            compartment_id=stream.compartment_id,
            stream_pool_id=stream.stream_pool_id,
            lifecycle_state=stream.state,
            created_at=stream.created_at,
            freeform_tags=dict(stream.freeform_tags),
            defined_tags=dict(stream.defined_tags),
        )


def _partition_index(partition: str, count: int) -> int:
    if not partition.isdigit() or int(partition) >= count or (len(partition) > 1 and partition.startswith("0")):
        raise InvalidParameter(f"partition must be one of 0 to {count - 1}, got '{partition}'")
    return int(partition)


def _rotation(positions: Sequence[Position], last: int | None) -> list[Position]:
    """``positions`` in partition order, starting after partition ``last``."""
    ordered = sorted(positions, key=lambda position: position.partition)
    if last is None:
        return ordered
    later = [position for position in ordered if position.partition > last]
    return later + [position for position in ordered if position.partition <= last]


def _message(stream: _Stream, partition: int, record: Record) -> StreamMessage:
    return StreamMessage(stream.name, partition, record.key, record.value, record.offset, record.timestamp)


def _throttled(stream: _Stream, partition: int, group: str | None, limit: int) -> TooManyRequests:
    reader = f"consumer group {group}" if group is not None else "plain cursors"
    return TooManyRequests(
        f"GetMessages throttled: more than {limit} requests per second on partition {partition} of stream "
        f"{stream.stream_id} for {reader}; slow down"
    )
