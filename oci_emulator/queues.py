"""The emulator's queue registry: lifecycle, work requests and thread-safe access to each queue's messages.

The HTTP server runs one thread per connection and GetMessages long-polls, so every queue operation happens under one
lock, and a Condition on that lock wakes long polls as soon as a message arrives. Lifecycle transitions (CREATING to
ACTIVE, DELETING to DELETED) and work-request progress are computed lazily from the injected clock, so tests can
observe intermediate states deterministically and nothing needs a timer thread.

Long polls wait in real time (the HTTP request is real), but re-check the queue at least every
``max_wait_slice_seconds`` so that an injected clock advanced by a test, or ``close()``, is noticed promptly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from .errors import ApiError, IncorrectState, InvalidParameter, NotAuthorizedOrNotFound
from .messages import Delivery, MessageStore, NewMessage, PurgeType, QueueStats, StoredMessage, VisibilityChange
from .ocids import new_ocid
from .settings import QueueSettings

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class LifecycleState(Enum):
    CREATING = "CREATING"
    UPDATING = "UPDATING"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"
    DELETED = "DELETED"
    FAILED = "FAILED"
    INACTIVE = "INACTIVE"


class OperationType(Enum):
    CREATE_QUEUE = "CREATE_QUEUE"
    UPDATE_QUEUE = "UPDATE_QUEUE"
    DELETE_QUEUE = "DELETE_QUEUE"
    PURGE_QUEUE = "PURGE_QUEUE"


class WorkRequestStatus(Enum):
    ACCEPTED = "ACCEPTED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"


_ACTION_TYPES = {
    OperationType.CREATE_QUEUE: "CREATED",
    OperationType.UPDATE_QUEUE: "UPDATED",
    OperationType.DELETE_QUEUE: "DELETED",
    OperationType.PURGE_QUEUE: "UPDATED",
}


@dataclass(frozen=True)
class QueueInfo:
    """A snapshot of one queue's control-plane record. Times are on the store's clock; see ``wall_time``."""

    queue_id: str
    display_name: str
    compartment_id: str
    lifecycle_state: LifecycleState
    settings: QueueSettings
    created_at: float
    updated_at: float
    freeform_tags: Mapping[str, str]
    defined_tags: Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class WorkRequestInfo:
    """A snapshot of one work request, with status derived from the clock."""

    work_request_id: str
    operation_type: OperationType
    status: WorkRequestStatus
    compartment_id: str
    queue_id: str
    action_type: str
    percent_complete: float
    accepted_at: float
    finished_at: float | None


@dataclass(frozen=True)
class QueueUpdate:
    """UpdateQueue: fields left None keep their value."""

    display_name: str | None = None
    settings: QueueSettings | None = None
    freeform_tags: Mapping[str, str] | None = None
    defined_tags: Mapping[str, Mapping[str, object]] | None = None


@dataclass(slots=True)
class _Queue:
    queue_id: str
    display_name: str
    compartment_id: str
    created_at: float
    updated_at: float
    messages: MessageStore
    freeform_tags: Mapping[str, str]
    defined_tags: Mapping[str, Mapping[str, object]]
    state: LifecycleState
    pending: tuple[float, LifecycleState] | None = None


@dataclass(frozen=True)
class _WorkRequest:
    work_request_id: str
    operation_type: OperationType
    compartment_id: str
    queue_id: str
    accepted_at: float
    done_at: float


@dataclass(frozen=True)
class _Options:
    clock: Clock
    create_delay_seconds: float
    max_wait_slice_seconds: float
    max_long_poll_seconds: float
    region_key: str
    wall_offset: float


class QueueStore:
    """Every queue of the emulator. All public methods are thread-safe."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        create_delay_seconds: float = 0.0,
        max_long_poll_seconds: float = 30.0,
        max_wait_slice_seconds: float = 0.25,
        region_key: str = "iad",
    ) -> None:
        if create_delay_seconds < 0:
            raise ValueError(f"create_delay_seconds must be >= 0, got {create_delay_seconds}")
        self._options = _Options(
            clock=clock,
            create_delay_seconds=create_delay_seconds,
            max_long_poll_seconds=max_long_poll_seconds,
            max_wait_slice_seconds=max_wait_slice_seconds,
            region_key=region_key,
            wall_offset=time.time() - clock(),
        )
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queues: dict[str, _Queue] = {}
        self._work_requests: dict[str, _WorkRequest] = {}
        self._closed = False

    def now(self) -> float:
        return self._options.clock()

    def wall_time(self, instant: float) -> datetime:
        """The UTC wall-clock time of an instant on the store's clock."""
        return datetime.fromtimestamp(self._options.wall_offset + instant, tz=UTC)

    def close(self) -> None:
        """Wake every long poll (they return what they have) and refuse to wait from now on."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    # ------------------------------------------------------------------------------------------- control plane

    def create_queue(
        self,
        *,
        display_name: str,
        compartment_id: str,
        settings: QueueSettings,
        freeform_tags: Mapping[str, str] | None = None,
        defined_tags: Mapping[str, Mapping[str, object]] | None = None,
        queue_id: str | None = None,
        immediate: bool = False,
    ) -> tuple[QueueInfo, str]:
        """Create a queue; it is CREATING until ``create_delay_seconds`` pass unless ``immediate``.

        Returns the queue and the id of its CREATE_QUEUE work request.
        """
        with self._lock:
            now = self.now()
            if queue_id is None:
                queue_id = new_ocid("queue", region_key=self._options.region_key)
            elif queue_id in self._queues:
                raise InvalidParameter(f"a queue with id {queue_id} already exists")
            delay = 0.0 if immediate else self._options.create_delay_seconds
            queue = _Queue(
                queue_id=queue_id,
                display_name=display_name,
                compartment_id=compartment_id,
                created_at=now,
                updated_at=now,
                messages=MessageStore(settings),
                freeform_tags=dict(freeform_tags or {}),
                defined_tags=dict(defined_tags or {}),
                state=LifecycleState.ACTIVE if delay == 0 else LifecycleState.CREATING,
                pending=None if delay == 0 else (now + delay, LifecycleState.ACTIVE),
            )
            self._queues[queue_id] = queue
            work_request_id = self._new_work_request(OperationType.CREATE_QUEUE, queue, now, delay)
            logger.debug("created queue %s (%s)", queue_id, display_name)
            return self._info(queue), work_request_id

    def get_queue(self, queue_id: str) -> QueueInfo:
        with self._lock:
            return self._info(self._find(queue_id, self.now()))

    def list_queues(
        self,
        *,
        compartment_id: str | None = None,
        display_name: str | None = None,
        lifecycle_state: LifecycleState | None = None,
        queue_id: str | None = None,
    ) -> list[QueueInfo]:
        """Matching queues, oldest first. DELETED queues are listed only when asked for by state."""
        with self._lock:
            now = self.now()
            found = []
            for queue in self._queues.values():
                self._settle(queue, now)
                if compartment_id is not None and queue.compartment_id != compartment_id:
                    continue
                if display_name is not None and queue.display_name != display_name:
                    continue
                if queue_id is not None and queue.queue_id != queue_id:
                    continue
                if lifecycle_state is None and queue.state is LifecycleState.DELETED:
                    continue
                if lifecycle_state is not None and queue.state is not lifecycle_state:
                    continue
                found.append(self._info(queue))
            return found

    def update_queue(self, queue_id: str, update: QueueUpdate) -> str:
        """Apply an UpdateQueue at once; returns the (already succeeded) UPDATE_QUEUE work request id."""
        with self._lock:
            now = self.now()
            queue = self._active(queue_id, now, "updates")
            if update.display_name is not None:
                queue.display_name = update.display_name
            if update.settings is not None:
                queue.messages.settings = update.settings
            if update.freeform_tags is not None:
                queue.freeform_tags = dict(update.freeform_tags)
            if update.defined_tags is not None:
                queue.defined_tags = dict(update.defined_tags)
            queue.updated_at = now
            return self._new_work_request(OperationType.UPDATE_QUEUE, queue, now, 0.0)

    def delete_queue(self, queue_id: str) -> str:
        """Start deleting a queue: its messages go at once; DELETING turns DELETED after the create delay."""
        with self._changed:
            now = self.now()
            queue = self._find(queue_id, now)
            if queue.state is LifecycleState.DELETED:
                raise NotAuthorizedOrNotFound(f"queue {queue_id} was deleted")
            if queue.state is LifecycleState.DELETING:
                raise IncorrectState(f"queue {queue_id} is already being deleted")
            delay = self._options.create_delay_seconds
            queue.messages.purge(PurgeType.BOTH)
            queue.state = LifecycleState.DELETED if delay == 0 else LifecycleState.DELETING
            queue.pending = None if delay == 0 else (now + delay, LifecycleState.DELETED)
            queue.updated_at = now
            self._changed.notify_all()
            return self._new_work_request(OperationType.DELETE_QUEUE, queue, now, delay)

    def purge_queue(self, queue_id: str, purge_type: PurgeType, channel_ids: Sequence[str] | None = None) -> str:
        with self._lock:
            now = self.now()
            queue = self._active(queue_id, now, "purges")
            queue.messages.purge(purge_type, channel_ids)
            return self._new_work_request(OperationType.PURGE_QUEUE, queue, now, 0.0)

    def get_work_request(self, work_request_id: str) -> WorkRequestInfo:
        with self._lock:
            request = self._work_requests.get(work_request_id)
            if request is None:
                raise NotAuthorizedOrNotFound(f"work request {work_request_id} not found")
            return self._work_request_info(request, self.now())

    # ------------------------------------------------------------------------------------------- data plane

    def put_messages(self, queue_id: str, messages: Iterable[NewMessage]) -> list[StoredMessage]:
        with self._changed:
            now = self.now()
            stored = self._active(queue_id, now).messages.put(messages, now)
            self._changed.notify_all()
            return stored

    def get_messages(
        self,
        queue_id: str,
        *,
        limit: int,
        visibility_in_seconds: int | None = None,
        timeout_in_seconds: float | None = None,
        channel_filter: str | None = None,
    ) -> list[Delivery]:
        """GetMessages; ``None`` visibility or timeout use the queue's defaults, timeout 0 short-polls.

        A long poll returns as soon as at least one message is delivered, after at most ``max_long_poll_seconds``.
        """
        deadline: float | None = None
        with self._changed:
            while True:
                now = self.now()
                queue = self._active(queue_id, now)
                settings = queue.messages.settings
                visibility = settings.visibility_in_seconds if visibility_in_seconds is None else visibility_in_seconds
                deliveries = queue.messages.get(
                    limit=limit, visibility_in_seconds=visibility, channel_filter=channel_filter, now=now
                )
                if deliveries or self._closed:
                    return deliveries
                if deadline is None:
                    timeout = settings.timeout_in_seconds if timeout_in_seconds is None else timeout_in_seconds
                    timeout = min(timeout, self._options.max_long_poll_seconds)
                    deadline = time.monotonic() + timeout
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                wait = min(remaining, self._options.max_wait_slice_seconds)
                next_change = queue.messages.next_change()
                if next_change is not None:
                    wait = min(wait, max(next_change - now, 0.001))
                self._changed.wait(wait)

    def delete_message(self, queue_id: str, receipt: str) -> None:
        with self._lock:
            now = self.now()
            self._active(queue_id, now).messages.delete(receipt, now)

    def delete_messages(self, queue_id: str, receipts: Sequence[str]) -> list[ApiError | None]:
        """DeleteMessages: one outcome per receipt, in order (None = deleted)."""
        with self._lock:
            now = self.now()
            messages = self._active(queue_id, now).messages
            outcomes: list[ApiError | None] = []
            for receipt in receipts:
                try:
                    messages.delete(receipt, now)
                except ApiError as error:
                    outcomes.append(error)
                else:
                    outcomes.append(None)
            return outcomes

    def update_message(self, queue_id: str, receipt: str, visibility_in_seconds: int) -> VisibilityChange:
        with self._changed:
            now = self.now()
            change = self._active(queue_id, now).messages.change_visibility(receipt, visibility_in_seconds, now)
            self._changed.notify_all()
            return change

    def update_messages(self, queue_id: str, entries: Sequence[tuple[str, int]]) -> list[VisibilityChange | ApiError]:
        """UpdateMessages: one outcome per (receipt, visibility) entry, in order."""
        with self._changed:
            now = self.now()
            messages = self._active(queue_id, now).messages
            outcomes: list[VisibilityChange | ApiError] = []
            for receipt, visibility in entries:
                try:
                    outcomes.append(messages.change_visibility(receipt, visibility, now))
                except ApiError as error:
                    outcomes.append(error)
            self._changed.notify_all()
            return outcomes

    def stats(self, queue_id: str, channel_id: str | None = None) -> QueueStats:
        with self._lock:
            now = self.now()
            return self._active(queue_id, now).messages.stats(channel_id, now)

    def channels(self, queue_id: str) -> list[str]:
        with self._lock:
            now = self.now()
            return self._active(queue_id, now).messages.channels(now)

    # ------------------------------------------------------------------------------------------- internals

    def _find(self, queue_id: str, now: float) -> _Queue:
        queue = self._queues.get(queue_id)
        if queue is None:
            raise NotAuthorizedOrNotFound(f"queue {queue_id} not found, or not authorized")
        self._settle(queue, now)
        return queue

    def _active(self, queue_id: str, now: float, purpose: str = "message operations") -> _Queue:
        queue = self._find(queue_id, now)
        if queue.state is LifecycleState.DELETED:
            raise NotAuthorizedOrNotFound(f"queue {queue_id} was deleted")
        if queue.state is not LifecycleState.ACTIVE:
            raise IncorrectState(
                f"queue {queue_id} is {queue.state.value}; {purpose} need an ACTIVE queue, "
                "wait for its work request to succeed"
            )
        return queue

    @staticmethod
    def _settle(queue: _Queue, now: float) -> None:
        if queue.pending is not None and now >= queue.pending[0]:
            at, state = queue.pending
            queue.state = state
            queue.updated_at = at
            queue.pending = None

    def _new_work_request(self, operation: OperationType, queue: _Queue, now: float, delay: float) -> str:
        request = _WorkRequest(
            work_request_id=new_ocid("queueworkrequest", region_key=self._options.region_key),
            operation_type=operation,
            compartment_id=queue.compartment_id,
            queue_id=queue.queue_id,
            accepted_at=now,
            done_at=now + delay,
        )
        self._work_requests[request.work_request_id] = request
        return request.work_request_id

    @staticmethod
    def _work_request_info(request: _WorkRequest, now: float) -> WorkRequestInfo:
        if now >= request.done_at:
            status, percent, finished = WorkRequestStatus.SUCCEEDED, 100.0, request.done_at
        elif now <= request.accepted_at:
            status, percent, finished = WorkRequestStatus.ACCEPTED, 0.0, None
        else:
            elapsed = (now - request.accepted_at) / (request.done_at - request.accepted_at)
            status, percent, finished = WorkRequestStatus.IN_PROGRESS, round(100.0 * elapsed, 1), None
        return WorkRequestInfo(
            work_request_id=request.work_request_id,
            operation_type=request.operation_type,
            status=status,
            compartment_id=request.compartment_id,
            queue_id=request.queue_id,
            action_type=_ACTION_TYPES[request.operation_type] if finished is not None else "IN_PROGRESS",
            percent_complete=percent,
            accepted_at=request.accepted_at,
            finished_at=finished,
        )

    @staticmethod
    def _info(queue: _Queue) -> QueueInfo:
        return QueueInfo(
            queue_id=queue.queue_id,
            display_name=queue.display_name,
            compartment_id=queue.compartment_id,
            lifecycle_state=queue.state,
            settings=queue.messages.settings,
            created_at=queue.created_at,
            updated_at=queue.updated_at,
            freeform_tags=dict(queue.freeform_tags),
            defined_tags=dict(queue.defined_tags),
        )
