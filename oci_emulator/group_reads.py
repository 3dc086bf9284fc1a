"""Reading a stream as a consumer group: group cursors, GetMessages, commits, heartbeats, GetGroup and UpdateGroup.

The scaler's Streaming lag is "messages after the group's committed offset", so what a commit records is the part
of the emulator it depends on most (see ``groups`` for ``committedOffset`` and reservations):

- ConsumerCommit commits, for every partition the cursor's instance still holds, the offset before the cursor's
  next read position, for positions the cursor's lineage delivered from (or started from a committed offset).
- With ``commitOnGet`` a GetMessages commits the positions of the cursor it was given, i.e. what the *previous*
  GetMessages delivered, so a lag reader overstates lag by up to one batch.
- A group GetMessages delivers from one partition per call: the first of the instance's partitions, in rotation
  after the one served last, that has messages.
- A group GetMessages counts against every partition its instance reserves in the read throttle (it polls them all),
  and is refused with 429 when any of them is at the limit. Throttled requests change nothing.
- Groups unused for the stream's retention period disappear; a stream holds at most ``max_groups_per_stream``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from .cursors import GroupCursor, Position
from .errors import InvalidParameter, NotAuthorizedOrNotFound
from .groups import ConsumerGroup
from .partitions import Record
from .plain_reads import CursorTokens, start_offset, throttled, to_message
from .stream_registry import StreamRecord, StreamRegistry
from .stream_settings import StreamLimits
from .stream_values import GROUP_CURSOR_TYPES, Batch, CursorType, GroupInfo
from .throttle import GetThrottle

logger = logging.getLogger(__name__)


class GroupReads:
    """The consumer-group operations over the registry's streams, serialised on the registry's lock."""

    def __init__(
        self, registry: StreamRegistry, *, tokens: CursorTokens, throttle: GetThrottle, limits: StreamLimits
    ) -> None:
        self._registry = registry
        self._tokens = tokens
        self._throttle = throttle
        self._limits = limits
        self._generations = 0

    def create_group_cursor(
        self,
        stream_id: str,
        group_name: str,
        kind: CursorType,
        *,
        at: datetime | None,
        instance_name: str | None,
        timeout_ms: int | None,
        commit_on_get: bool,
    ) -> str:
        """CreateGroupCursor: join (or create) ``group_name`` as ``instance_name`` (a fresh UUID when None)."""
        _check_group_type(kind)
        with self._registry.lock:
            now = self._registry.now()
            stream = self._registry.active(stream_id, now)
            group = stream.group(group_name, now)
            if group is None:
                if len(stream.groups) >= self._limits.max_groups_per_stream:
                    raise InvalidParameter(
                        f"stream {stream_id} already has {len(stream.groups)} consumer groups, the most it may have"
                    )
                starts = self._starts(stream, kind, at)
                group = ConsumerGroup(group_name, starts=starts, generation=self._next(), now=now)
                stream.groups[group_name] = group
                logger.debug("created consumer group %s on stream %s at %s", group_name, stream_id, kind.value)
            instance = instance_name or str(uuid.uuid4())
            timeout = timeout_ms if timeout_ms is not None else self._limits.default_timeout_in_ms
            group.join(instance, timeout_seconds=timeout / 1000.0, now=now)
            group.last_used = now
            cursor = GroupCursor(
                stream_id=stream_id,
                group_name=group_name,
                instance_name=instance,
                generation=group.generation,
                timeout_ms=timeout,
                commit_on_get=commit_on_get,
                positions=tuple(_group_position(group, p) for p in group.reserved_by(instance)),
                last_partition=None,
                issued_at=now,
            )
            return self._tokens.encode(cursor)

    def get_group(self, stream_id: str, group_name: str) -> GroupInfo:
        with self._registry.lock:
            now = self._registry.now()
            group = _existing(self._registry.active(stream_id, now), group_name, now)
            return GroupInfo(stream_id, group_name, group.reservations())

    def update_group(self, stream_id: str, group_name: str, kind: CursorType, *, at: datetime | None) -> None:
        """UpdateGroup: move the whole group to TRIM_HORIZON, LATEST or a time; outstanding cursors start over."""
        _check_group_type(kind)
        with self._registry.lock:
            now = self._registry.now()
            stream = self._registry.active(stream_id, now)
            group = _existing(stream, group_name, now)
            group.reset(self._starts(stream, kind, at), self._next())
            group.last_used = now

    def consumer_commit(self, stream_id: str, token: str) -> str:
        """ConsumerCommit: commit what the cursor's lineage consumed; renews the instance; returns a fresh cursor."""
        with self._registry.lock:
            now = self._registry.now()
            cursor, group = self._group_cursor(stream_id, token, now)
            group.renew(cursor.instance_name, timeout_seconds=cursor.timeout_ms / 1000.0, now=now)
            positions = _resolve(group, cursor)
            _commit(group, positions)
            return self._reissue(cursor, group, positions, now)

    def consumer_heartbeat(self, stream_id: str, token: str) -> str:
        """ConsumerHeartbeat: renew the instance's reservations; returns a fresh cursor."""
        with self._registry.lock:
            now = self._registry.now()
            cursor, group = self._group_cursor(stream_id, token, now)
            group.renew(cursor.instance_name, timeout_seconds=cursor.timeout_ms / 1000.0, now=now)
            return self._reissue(cursor, group, _resolve(group, cursor), now)

    def read(self, stream: StreamRecord, cursor: GroupCursor, limit: int, now: float) -> Batch:
        """GetMessages with a group cursor (the caller holds the registry's lock and decoded the cursor)."""
        group = _existing(stream, cursor.group_name, now)
        timeout = cursor.timeout_ms / 1000.0
        if not group.has_instance(cursor.instance_name):
            group.join(cursor.instance_name, timeout_seconds=timeout, now=now)  # its reservations had lapsed
        owned = group.reserved_by(cursor.instance_name)
        blocked = self._throttle.admit([(stream.stream_id, partition, group.name) for partition in owned], now)
        if blocked is not None:
            raise throttled(stream, blocked[1], group.name, self._throttle.requests_per_second)
        group.renew(cursor.instance_name, timeout_seconds=timeout, now=now)
        group.last_used = now
        positions = _resolve(group, cursor)
        if cursor.commit_on_get:
            _commit(group, positions)
        chosen: int | None = None
        records: list[Record] = []
        for position in _rotation(positions, cursor.last_partition):
            records = stream.logs[position.partition].read(position.offset, limit)
            if records:
                chosen = position.partition
                break
        updated = tuple(
            replace(position, offset=records[-1].offset + 1, committable=True)
            if position.partition == chosen
            else position
            for position in positions
        )
        last_partition = chosen if chosen is not None else cursor.last_partition
        next_cursor = replace(
            cursor, generation=group.generation, positions=updated, last_partition=last_partition, issued_at=now
        )
        messages = [to_message(stream, chosen, record) for record in records] if chosen is not None else []
        return Batch(messages, self._tokens.encode(next_cursor))

    def _group_cursor(self, stream_id: str, token: str, now: float) -> tuple[GroupCursor, ConsumerGroup]:
        stream = self._registry.active(stream_id, now)
        cursor = self._tokens.decode(stream_id, token, now)
        if not isinstance(cursor, GroupCursor):
            raise InvalidParameter("the cursor is not a group cursor; commits and heartbeats need CreateGroupCursor")
        group = _existing(stream, cursor.group_name, now)
        group.last_used = now
        return cursor, group

    def _reissue(self, cursor: GroupCursor, group: ConsumerGroup, positions: tuple[Position, ...], now: float) -> str:
        """A fresh token for the same lineage, with positions for the partitions its instance holds now."""
        return self._tokens.encode(replace(cursor, generation=group.generation, positions=positions, issued_at=now))

    def _starts(self, stream: StreamRecord, kind: CursorType, at: datetime | None) -> list[int]:
        return [start_offset(log, kind, at, self._registry.instant) for log in stream.logs]

    def _next(self) -> int:
        """A new group generation: cursors of an older one read from the group's positions again."""
        self._generations += 1
        return self._generations


def _check_group_type(kind: CursorType) -> None:
    if kind not in GROUP_CURSOR_TYPES:
        raise InvalidParameter(f"type must be one of {', '.join(k.value for k in GROUP_CURSOR_TYPES)}")


def _existing(stream: StreamRecord, name: str, now: float) -> ConsumerGroup:
    group = stream.group(name, now)
    if group is None:
        raise NotAuthorizedOrNotFound(f"consumer group {name} not found on stream {stream.stream_id}")
    return group


def _resolve(group: ConsumerGroup, cursor: GroupCursor) -> tuple[Position, ...]:
    """The cursor's positions for the partitions its instance holds now; stale ones come from the group."""
    positions = []
    for partition in group.reserved_by(cursor.instance_name):
        held = cursor.position(partition) if cursor.generation == group.generation else None
        if held is None or held.epoch != group.epoch(partition):
            held = _group_position(group, partition)
        positions.append(held)
    return tuple(positions)


def _group_position(group: ConsumerGroup, partition: int) -> Position:
    return Position(
        partition=partition,
        offset=group.next_offset(partition),
        epoch=group.epoch(partition),
        committable=group.committed(partition) is not None,
    )


def _commit(group: ConsumerGroup, positions: Sequence[Position]) -> None:
    for position in positions:
        if position.committable:
            group.commit(position.partition, position.offset - 1)


def _rotation(positions: Sequence[Position], last: int | None) -> list[Position]:
    """``positions`` in partition order, starting after partition ``last``."""
    ordered = sorted(positions, key=lambda position: position.partition)
    if last is None:
        return ordered
    later = [position for position in ordered if position.partition > last]
    return later + [position for position in ordered if position.partition <= last]
