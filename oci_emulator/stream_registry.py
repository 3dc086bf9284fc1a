"""The streams of one emulator by id: their lifecycle, their partition logs, and the lock every stream call holds.

CreateStream and DeleteStream are asynchronous in OCI (CREATING, DELETING), and the scaler's lookups must see those
states; the transitions are computed lazily from the injected clock, so tests observe them deterministically and no
timer thread is needed. Retention is applied the same way: every access of a stream first trims its logs by
``retentionInHours``.

The registry also owns the store's clock and its one lock. The stream store's other collaborators (``stream_logs``,
``plain_reads``, ``group_reads``) take that lock in their public methods and then use ``active`` here, so every
stream operation is serialised exactly as it was when one class held everything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import ApiError, IncorrectState, InvalidParameter, NotAuthorizedOrNotFound
from .groups import ConsumerGroup
from .ocids import new_ocid
from .partitions import PartitionLog, partition_for_key
from .stream_values import Appended, NewStreamMessage, StreamInfo, StreamState
from .throttle import GetThrottle

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass(slots=True)
class StreamRecord:
    """One stream's mutable state: control-plane fields, partition logs and consumer groups."""

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

    def settle(self, now: float) -> None:
        """Complete a pending lifecycle transition whose time has come."""
        if self.pending is not None and now >= self.pending[0]:
            self.state = self.pending[1]
            self.pending = None

    def expire(self, now: float) -> int:
        """Trim every partition by retention; returns how many messages went."""
        cutoff = now - self.retention_in_hours * 3600
        return sum(log.trim_until(cutoff) for log in self.logs)

    def partition(self, partition: str) -> int:
        """The index of a partition named on the wire ("0", "1", ...), or 400 for any other string."""
        count = len(self.logs)
        if not partition.isdigit() or int(partition) >= count or (len(partition) > 1 and partition.startswith("0")):
            raise InvalidParameter(f"partition must be one of 0 to {count - 1}, got '{partition}'")
        return int(partition)

    def append(self, message: NewStreamMessage, *, max_key_bytes: int, now: float) -> Appended | ApiError:
        """Append one message where its key (or the stream's round-robin) puts it; a too-long key fails it alone."""
        if message.key is not None and len(message.key) > max_key_bytes:
            return InvalidParameter(f"the key is {len(message.key)} bytes; keys are limited to {max_key_bytes}")
        if message.key is not None:
            partition = partition_for_key(message.key, len(self.logs))
        else:
            partition = self.round_robin % len(self.logs)
            self.round_robin += 1
        record = self.logs[partition].append(message.key, message.value, now)
        return Appended(partition, record.offset, record.timestamp)

    def group(self, name: str, now: float) -> ConsumerGroup | None:
        """The live group called ``name``; groups unused for the retention period vanish (they are ephemeral)."""
        group = self.groups.get(name)
        if group is not None and now - group.last_used >= self.retention_in_hours * 3600:
            del self.groups[name]
            group = None
        if group is not None:
            group.settle(now)
        return group

    def info(self) -> StreamInfo:
        return StreamInfo(
            stream_id=self.stream_id,
            name=self.name,
            partitions=len(self.logs),
            retention_in_hours=self.retention_in_hours,
            compartment_id=self.compartment_id,
            stream_pool_id=self.stream_pool_id,
            lifecycle_state=self.state,
            created_at=self.created_at,
            freeform_tags=dict(self.freeform_tags),
            defined_tags=dict(self.defined_tags),
        )


class StreamRegistry:
    """Streams by id and their lifecycle. Public methods take ``lock``; ``active`` expects the caller to hold it."""

    def __init__(self, *, clock: Clock, create_delay_seconds: float, region_key: str, throttle: GetThrottle) -> None:
        if create_delay_seconds < 0:
            raise ValueError(f"create_delay_seconds must be >= 0, got {create_delay_seconds}")
        self.lock = threading.Lock()
        self._clock = clock
        self._create_delay = create_delay_seconds
        self._region_key = region_key
        self._throttle = throttle
        self._wall_offset = time.time() - clock()
        self.streams: dict[str, StreamRecord] = {}

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

    def create(
        self,
        *,
        name: str,
        compartment_id: str,
        stream_pool_id: str,
        partitions: int,
        retention_in_hours: int,
        freeform_tags: Mapping[str, str] | None,
        defined_tags: Mapping[str, Mapping[str, object]] | None,
        stream_id: str | None,
        immediate: bool,
    ) -> StreamInfo:
        """Create a stream; it is CREATING until ``create_delay_seconds`` pass unless ``immediate``."""
        with self.lock:
            now = self.now()
            if stream_id is None:
                stream_id = new_ocid("stream", region_key=self._region_key)
            elif stream_id in self.streams:
                raise InvalidParameter(f"a stream with id {stream_id} already exists")
            delay = 0.0 if immediate else self._create_delay
            stream = StreamRecord(
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
            self.streams[stream_id] = stream
            logger.debug("created stream %s (%s, %d partitions)", stream_id, name, partitions)
            return stream.info()

    def get(self, stream_id: str) -> StreamInfo:
        with self.lock:
            return self._find(stream_id, self.now()).info()

    def matching(
        self,
        *,
        compartment_id: str | None,
        stream_pool_id: str | None,
        name: str | None,
        stream_id: str | None,
        lifecycle_state: StreamState | None,
    ) -> list[StreamInfo]:
        """Matching streams, oldest first. DELETED streams are listed only when asked for by state."""
        with self.lock:
            now = self.now()
            found = []
            for stream in self.streams.values():
                stream.settle(now)
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
                found.append(stream.info())
            return found

    def delete(self, stream_id: str) -> None:
        """Start deleting a stream: its messages and groups go at once; DELETING turns DELETED after the delay."""
        with self.lock:
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
            self._throttle.forget(stream_id)

    def active(self, stream_id: str, now: float) -> StreamRecord:
        """The ACTIVE stream ``stream_id``, trimmed by retention at ``now`` (caller holds ``lock``)."""
        stream = self._find(stream_id, now)
        if stream.state in (StreamState.DELETED, StreamState.DELETING):
            raise NotAuthorizedOrNotFound(f"stream {stream_id} was deleted")
        if stream.state is not StreamState.ACTIVE:
            raise IncorrectState(f"stream {stream_id} is {stream.state.value}; wait until it is ACTIVE")
        stream.expire(now)
        return stream

    def _find(self, stream_id: str, now: float) -> StreamRecord:
        stream = self.streams.get(stream_id)
        if stream is None:
            raise NotAuthorizedOrNotFound(f"stream {stream_id} not found, or not authorized")
        stream.settle(now)
        return stream
