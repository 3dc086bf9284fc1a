"""The queues of one emulator by id, the clock they run on, and the lock and condition every queue call holds.

The HTTP server runs one thread per connection and GetMessages long-polls, so every queue operation happens under one
lock, and a Condition on that lock wakes long polls as soon as a message arrives. Lifecycle transitions (CREATING to
ACTIVE, DELETING to DELETED) are computed lazily from the injected clock, so tests can observe intermediate states
deterministically and nothing needs a timer thread. The queue store's collaborators (``queue_lifecycle``,
``queue_messaging``) take the lock in their public methods and then look queues up here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import IncorrectState, NotAuthorizedOrNotFound
from .messages import MessageStore
from .queue_values import LifecycleState, QueueInfo

Clock = Callable[[], float]


@dataclass(slots=True)
class QueueRecord:
    """One queue's mutable state: control-plane fields and its messages."""

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

    def settle(self, now: float) -> None:
        """Complete a pending lifecycle transition whose time has come."""
        if self.pending is not None and now >= self.pending[0]:
            at, state = self.pending
            self.state = state
            self.updated_at = at
            self.pending = None

    def info(self) -> QueueInfo:
        return QueueInfo(
            queue_id=self.queue_id,
            display_name=self.display_name,
            compartment_id=self.compartment_id,
            lifecycle_state=self.state,
            settings=self.messages.settings,
            created_at=self.created_at,
            updated_at=self.updated_at,
            freeform_tags=dict(self.freeform_tags),
            defined_tags=dict(self.defined_tags),
        )


class QueueRegistry:
    """Queues by id. ``find`` and ``active`` expect the caller to hold ``lock`` (``changed`` is a Condition on it)."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._wall_offset = time.time() - clock()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.queues: dict[str, QueueRecord] = {}
        self.closed = False
        """Set by ``close``: long polls return what they have and nobody waits any more."""

    def now(self) -> float:
        return self._clock()

    def wall_time(self, instant: float) -> datetime:
        """The UTC wall-clock time of an instant on the store's clock."""
        return datetime.fromtimestamp(self._wall_offset + instant, tz=UTC)

    def close(self) -> None:
        """Wake every long poll (they return what they have) and refuse to wait from now on."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def find(self, queue_id: str, now: float) -> QueueRecord:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise NotAuthorizedOrNotFound(f"queue {queue_id} not found, or not authorized")
        queue.settle(now)
        return queue

    def active(self, queue_id: str, now: float, purpose: str = "message operations") -> QueueRecord:
        queue = self.find(queue_id, now)
        if queue.state is LifecycleState.DELETED:
            raise NotAuthorizedOrNotFound(f"queue {queue_id} was deleted")
        if queue.state is not LifecycleState.ACTIVE:
            raise IncorrectState(
                f"queue {queue_id} is {queue.state.value}; {purpose} need an ACTIVE queue, "
                "wait for its work request to succeed"
            )
        return queue
