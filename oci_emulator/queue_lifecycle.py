"""The Queue control plane's state changes: create, list, update, delete and purge queues, each with a work request.

CreateQueue and DeleteQueue take ``create_delay_seconds`` to complete (CREATING, DELETING), as OCI's do, so the
scaler's lookups and the SDK's wait helpers see the intermediate states; UpdateQueue and PurgeQueue complete at
once. Deleting a queue drops its messages immediately and wakes its long polls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from .errors import IncorrectState, InvalidParameter, NotAuthorizedOrNotFound
from .message_values import PurgeType
from .messages import MessageStore
from .ocids import new_ocid
from .queue_registry import QueueRecord, QueueRegistry
from .queue_values import LifecycleState, OperationType, QueueInfo, QueueUpdate, WorkRequestInfo
from .settings import QueueSettings
from .work_requests import WorkRequests

logger = logging.getLogger(__name__)


class QueueLifecycle:
    """Control-plane operations over the registry's queues, serialised on the registry's lock."""

    def __init__(self, registry: QueueRegistry, *, create_delay_seconds: float, region_key: str) -> None:
        if create_delay_seconds < 0:
            raise ValueError(f"create_delay_seconds must be >= 0, got {create_delay_seconds}")
        self._registry = registry
        self._create_delay = create_delay_seconds
        self._region_key = region_key
        self._work_requests = WorkRequests(region_key=region_key)

    def create_queue(
        self,
        *,
        display_name: str,
        compartment_id: str,
        settings: QueueSettings,
        freeform_tags: Mapping[str, str] | None,
        defined_tags: Mapping[str, Mapping[str, object]] | None,
        queue_id: str | None,
        immediate: bool,
    ) -> tuple[QueueInfo, str]:
        """Create a queue; it is CREATING until ``create_delay_seconds`` pass unless ``immediate``.

        Returns the queue and the id of its CREATE_QUEUE work request.
        """
        registry = self._registry
        with registry.lock:
            now = registry.now()
            if queue_id is None:
                queue_id = new_ocid("queue", region_key=self._region_key)
            elif queue_id in registry.queues:
                raise InvalidParameter(f"a queue with id {queue_id} already exists")
            delay = 0.0 if immediate else self._create_delay
            queue = QueueRecord(
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
            registry.queues[queue_id] = queue
            work_request_id = self._work_request(OperationType.CREATE_QUEUE, queue, now, delay)
            logger.debug("created queue %s (%s)", queue_id, display_name)
            return queue.info(), work_request_id

    def get_queue(self, queue_id: str) -> QueueInfo:
        with self._registry.lock:
            return self._registry.find(queue_id, self._registry.now()).info()

    def list_queues(
        self,
        *,
        compartment_id: str | None,
        display_name: str | None,
        lifecycle_state: LifecycleState | None,
        queue_id: str | None,
    ) -> list[QueueInfo]:
        """Matching queues, oldest first. DELETED queues are listed only when asked for by state."""
        with self._registry.lock:
            now = self._registry.now()
            found = []
            for queue in self._registry.queues.values():
                queue.settle(now)
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
                found.append(queue.info())
            return found

    def update_queue(self, queue_id: str, update: QueueUpdate) -> str:
        """Apply an UpdateQueue at once; returns the (already succeeded) UPDATE_QUEUE work request id."""
        with self._registry.lock:
            now = self._registry.now()
            queue = self._registry.active(queue_id, now, "updates")
            if update.display_name is not None:
                queue.display_name = update.display_name
            if update.settings is not None:
                queue.messages.settings = update.settings
            if update.freeform_tags is not None:
                queue.freeform_tags = dict(update.freeform_tags)
            if update.defined_tags is not None:
                queue.defined_tags = dict(update.defined_tags)
            queue.updated_at = now
            return self._work_request(OperationType.UPDATE_QUEUE, queue, now, 0.0)

    def delete_queue(self, queue_id: str) -> str:
        """Start deleting a queue: its messages go at once; DELETING turns DELETED after the create delay."""
        with self._registry.changed:
            now = self._registry.now()
            queue = self._registry.find(queue_id, now)
            if queue.state is LifecycleState.DELETED:
                raise NotAuthorizedOrNotFound(f"queue {queue_id} was deleted")
            if queue.state is LifecycleState.DELETING:
                raise IncorrectState(f"queue {queue_id} is already being deleted")
            delay = self._create_delay
            queue.messages.purge(PurgeType.BOTH)
            queue.state = LifecycleState.DELETED if delay == 0 else LifecycleState.DELETING
            queue.pending = None if delay == 0 else (now + delay, LifecycleState.DELETED)
            queue.updated_at = now
            self._registry.changed.notify_all()
            return self._work_request(OperationType.DELETE_QUEUE, queue, now, delay)

    def purge_queue(self, queue_id: str, purge_type: PurgeType, channel_ids: Sequence[str] | None) -> str:
        with self._registry.lock:
            now = self._registry.now()
            queue = self._registry.active(queue_id, now, "purges")
            queue.messages.purge(purge_type, channel_ids)
            return self._work_request(OperationType.PURGE_QUEUE, queue, now, 0.0)

    def get_work_request(self, work_request_id: str) -> WorkRequestInfo:
        with self._registry.lock:
            return self._work_requests.info(work_request_id, self._registry.now())

    def _work_request(self, operation: OperationType, queue: QueueRecord, now: float, delay: float) -> str:
        return self._work_requests.new(
            operation, compartment_id=queue.compartment_id, queue_id=queue.queue_id, now=now, delay=delay
        )
