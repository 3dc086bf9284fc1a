"""``QueueStore``: every queue of the emulator behind one thread-safe object, the one the REST handlers call.

The store only routes each operation to the collaborator that owns it, all of them serialised on one lock:

- ``queue_registry``: queues by id, the clock, the lock and the Condition that wakes long polls;
- ``queue_lifecycle``: create, list, update, delete and purge, with their work requests (``work_requests``);
- ``queue_messaging``: put, long-poll get, delete and hide messages, stats and channels (semantics in ``messages``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from .errors import ApiError
from .message_values import Delivery, NewMessage, PurgeType, QueueStats, StoredMessage, VisibilityChange
from .queue_lifecycle import QueueLifecycle
from .queue_messaging import QueueMessaging
from .queue_registry import QueueRegistry
from .queue_values import LifecycleState, OperationType, QueueInfo, QueueUpdate, WorkRequestInfo, WorkRequestStatus
from .settings import QueueSettings

__all__ = [
    "LifecycleState",
    "OperationType",
    "QueueInfo",
    "QueueStore",
    "QueueUpdate",
    "WorkRequestInfo",
    "WorkRequestStatus",
]


class QueueStore:
    """Every queue of the emulator. All public methods are thread-safe."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        create_delay_seconds: float = 0.0,
        max_long_poll_seconds: float = 30.0,
        max_wait_slice_seconds: float = 0.25,
        region_key: str = "iad",
    ) -> None:
        self._registry = QueueRegistry(clock=clock)
        self._lifecycle = QueueLifecycle(
            self._registry, create_delay_seconds=create_delay_seconds, region_key=region_key
        )
        self._messaging = QueueMessaging(
            self._registry, max_long_poll_seconds=max_long_poll_seconds, max_wait_slice_seconds=max_wait_slice_seconds
        )

    def now(self) -> float:
        return self._registry.now()

    def wall_time(self, instant: float) -> datetime:
        """The UTC wall-clock time of an instant on the store's clock."""
        return self._registry.wall_time(instant)

    def close(self) -> None:
        """Wake every long poll (they return what they have) and refuse to wait from now on."""
        self._registry.close()

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
        """Create a queue; returns it and the id of its CREATE_QUEUE work request."""
        return self._lifecycle.create_queue(
            display_name=display_name,
            compartment_id=compartment_id,
            settings=settings,
            freeform_tags=freeform_tags,
            defined_tags=defined_tags,
            queue_id=queue_id,
            immediate=immediate,
        )

    def get_queue(self, queue_id: str) -> QueueInfo:
        return self._lifecycle.get_queue(queue_id)

    def list_queues(
        self,
        *,
        compartment_id: str | None = None,
        display_name: str | None = None,
        lifecycle_state: LifecycleState | None = None,
        queue_id: str | None = None,
    ) -> list[QueueInfo]:
        return self._lifecycle.list_queues(
            compartment_id=compartment_id, display_name=display_name, lifecycle_state=lifecycle_state, queue_id=queue_id
        )

    def update_queue(self, queue_id: str, update: QueueUpdate) -> str:
        return self._lifecycle.update_queue(queue_id, update)

    def delete_queue(self, queue_id: str) -> str:
        return self._lifecycle.delete_queue(queue_id)

    def purge_queue(self, queue_id: str, purge_type: PurgeType, channel_ids: Sequence[str] | None = None) -> str:
        return self._lifecycle.purge_queue(queue_id, purge_type, channel_ids)

    def get_work_request(self, work_request_id: str) -> WorkRequestInfo:
        return self._lifecycle.get_work_request(work_request_id)

    # ------------------------------------------------------------------------------------------- data plane

    def put_messages(self, queue_id: str, messages: Iterable[NewMessage]) -> list[StoredMessage]:
        return self._messaging.put_messages(queue_id, messages)

    def get_messages(
        self,
        queue_id: str,
        *,
        limit: int,
        visibility_in_seconds: int | None = None,
        timeout_in_seconds: float | None = None,
        channel_filter: str | None = None,
    ) -> list[Delivery]:
        return self._messaging.get_messages(
            queue_id,
            limit=limit,
            visibility_in_seconds=visibility_in_seconds,
            timeout_in_seconds=timeout_in_seconds,
            channel_filter=channel_filter,
        )

    def delete_message(self, queue_id: str, receipt: str) -> None:
        self._messaging.delete_message(queue_id, receipt)

    def delete_messages(self, queue_id: str, receipts: Sequence[str]) -> list[ApiError | None]:
        return self._messaging.delete_messages(queue_id, receipts)

    def update_message(self, queue_id: str, receipt: str, visibility_in_seconds: int) -> VisibilityChange:
        return self._messaging.update_message(queue_id, receipt, visibility_in_seconds)

    def update_messages(self, queue_id: str, entries: Sequence[tuple[str, int]]) -> list[VisibilityChange | ApiError]:
        return self._messaging.update_messages(queue_id, entries)

    def stats(self, queue_id: str, channel_id: str | None = None) -> QueueStats:
        return self._messaging.stats(queue_id, channel_id)

    def channels(self, queue_id: str) -> list[str]:
        return self._messaging.channels(queue_id)
