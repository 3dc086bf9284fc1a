"""``StreamStore``: every stream of the emulator behind one thread-safe object, the one the REST handlers call.

Everything the Streaming REST handlers do happens through this object, under one lock, with time read from the
injected clock, so the behaviour the scaler depends on can be unit-tested step by step and is identical over HTTP.
The store itself only routes each operation to the collaborator that owns it:

- ``stream_registry``: streams by id, their lifecycle (CREATING, ACTIVE, DELETING, DELETED), the clock and the lock;
- ``stream_logs``: PutMessages, retention and offset diagnostics over the partition logs (see ``partitions``);
- ``plain_reads``: CreateCursor and GetMessages without a group, and the cursor tokens (see ``cursors``);
- ``group_reads``: consumer groups: group cursors, commits, heartbeats, reservations (see ``groups``);
- ``throttle``: the GetMessages rate limit both kinds of read count against.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from .cursors import CursorCodec, PlainCursor
from .errors import ApiError
from .group_reads import GroupReads
from .plain_reads import CursorTokens, PlainReads
from .stream_logs import StreamLogs
from .stream_registry import StreamRegistry
from .stream_settings import StreamLimits
from .stream_values import (
    GROUP_CURSOR_TYPES,
    Appended,
    Batch,
    CursorType,
    GroupInfo,
    NewStreamMessage,
    PartitionOffsets,
    StreamInfo,
    StreamMessage,
    StreamState,
)
from .throttle import GetThrottle

__all__ = [
    "GROUP_CURSOR_TYPES",
    "Appended",
    "Batch",
    "CursorType",
    "GroupInfo",
    "NewStreamMessage",
    "PartitionOffsets",
    "StreamInfo",
    "StreamMessage",
    "StreamState",
    "StreamStore",
]


class StreamStore:
    """Every stream of the emulator. All public methods are thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        create_delay_seconds: float = 0.0,
        limits: StreamLimits | None = None,
        throttle: bool = True,
        region_key: str = "iad",
        cursor_secret: bytes | None = None,
    ) -> None:
        self.limits = limits or StreamLimits()
        self.throttle = GetThrottle(requests_per_second=self.limits.get_requests_per_second, enabled=throttle)
        self._registry = StreamRegistry(
            clock=clock, create_delay_seconds=create_delay_seconds, region_key=region_key, throttle=self.throttle
        )
        self._logs = StreamLogs(self._registry, limits=self.limits)
        self._tokens = CursorTokens(CursorCodec(cursor_secret), ttl_seconds=self.limits.cursor_ttl_seconds)
        self._plain = PlainReads(self._registry, tokens=self._tokens, throttle=self.throttle)
        self._groups = GroupReads(self._registry, tokens=self._tokens, throttle=self.throttle, limits=self.limits)

    def now(self) -> float:
        return self._registry.now()

    def wall_time(self, instant: float) -> datetime:
        """The UTC wall-clock time of an instant on the store's clock."""
        return self._registry.wall_time(instant)

    def instant(self, moment: datetime) -> float:
        """The store-clock instant of a wall-clock time (naive times are taken as UTC)."""
        return self._registry.instant(moment)

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
        return self._registry.create(
            name=name,
            compartment_id=compartment_id,
            stream_pool_id=stream_pool_id,
            partitions=partitions,
            retention_in_hours=retention_in_hours,
            freeform_tags=freeform_tags,
            defined_tags=defined_tags,
            stream_id=stream_id,
            immediate=immediate,
        )

    def get_stream(self, stream_id: str) -> StreamInfo:
        return self._registry.get(stream_id)

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
        return self._registry.matching(
            compartment_id=compartment_id,
            stream_pool_id=stream_pool_id,
            name=name,
            stream_id=stream_id,
            lifecycle_state=lifecycle_state,
        )

    def delete_stream(self, stream_id: str) -> None:
        self._registry.delete(stream_id)

    # ------------------------------------------------------------------------------------------- data plane

    def put_messages(self, stream_id: str, messages: Iterable[NewStreamMessage]) -> list[Appended | ApiError]:
        return self._logs.put_messages(stream_id, messages)

    def create_cursor(
        self, stream_id: str, partition: str, kind: CursorType, *, offset: int | None = None, at: datetime | None = None
    ) -> str:
        return self._plain.create_cursor(stream_id, partition, kind, offset=offset, at=at)

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
        return self._groups.create_group_cursor(
            stream_id,
            group_name,
            kind,
            at=at,
            instance_name=instance_name,
            timeout_ms=timeout_ms,
            commit_on_get=commit_on_get,
        )

    def get_group(self, stream_id: str, group_name: str) -> GroupInfo:
        return self._groups.get_group(stream_id, group_name)

    def update_group(self, stream_id: str, group_name: str, kind: CursorType, *, at: datetime | None = None) -> None:
        self._groups.update_group(stream_id, group_name, kind, at=at)

    def consumer_commit(self, stream_id: str, token: str) -> str:
        return self._groups.consumer_commit(stream_id, token)

    def consumer_heartbeat(self, stream_id: str, token: str) -> str:
        return self._groups.consumer_heartbeat(stream_id, token)

    def get_messages(self, stream_id: str, token: str, *, limit: int) -> Batch:
        """GetMessages with either kind of cursor: the one operation both readers serve."""
        with self._registry.lock:
            now = self._registry.now()
            stream = self._registry.active(stream_id, now)
            cursor = self._tokens.decode(stream_id, token, now)
            if isinstance(cursor, PlainCursor):
                return self._plain.read(stream, cursor, limit, now)
            return self._groups.read(stream, cursor, limit, now)

    # ------------------------------------------------------------------------------------------- test helpers

    def trim_before(self, stream_id: str, partition: str, *, offset: int) -> int:
        return self._logs.trim_before(stream_id, partition, offset=offset)

    def apply_retention(self) -> int:
        return self._logs.apply_retention()

    def partition_offsets(self, stream_id: str) -> list[PartitionOffsets]:
        return self._logs.partition_offsets(stream_id)
