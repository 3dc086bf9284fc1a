"""The Queue data plane's state changes: put, long-poll get, delete and hide messages; stats and channels.

Long polls wait in real time (the HTTP request is real), but re-check the queue at least every
``max_wait_slice_seconds`` so that an injected clock advanced by a test, or ``close()``, is noticed promptly. Every
change that can make a message visible notifies the registry's condition, so a waiting poll returns at once.
Message semantics themselves live in ``messages``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from .errors import ApiError
from .message_values import Delivery, NewMessage, QueueStats, StoredMessage, VisibilityChange
from .queue_registry import QueueRegistry


class QueueMessaging:
    """Data-plane operations over the registry's queues, serialised on the registry's lock."""

    def __init__(self, registry: QueueRegistry, *, max_long_poll_seconds: float, max_wait_slice_seconds: float) -> None:
        self._registry = registry
        self._max_long_poll = max_long_poll_seconds
        self._max_wait_slice = max_wait_slice_seconds

    def put_messages(self, queue_id: str, messages: Iterable[NewMessage]) -> list[StoredMessage]:
        with self._registry.changed:
            now = self._registry.now()
            stored = self._registry.active(queue_id, now).messages.put(messages, now)
            self._registry.changed.notify_all()
            return stored

    def get_messages(
        self,
        queue_id: str,
        *,
        limit: int,
        visibility_in_seconds: int | None,
        timeout_in_seconds: float | None,
        channel_filter: str | None,
    ) -> list[Delivery]:
        """GetMessages; ``None`` visibility or timeout use the queue's defaults, timeout 0 short-polls.

        A long poll returns as soon as at least one message is delivered, after at most ``max_long_poll_seconds``.
        """
        registry = self._registry
        deadline: float | None = None
        with registry.changed:
            while True:
                now = registry.now()
                queue = registry.active(queue_id, now)
                settings = queue.messages.settings
                visibility = settings.visibility_in_seconds if visibility_in_seconds is None else visibility_in_seconds
                deliveries = queue.messages.get(
                    limit=limit, visibility_in_seconds=visibility, channel_filter=channel_filter, now=now
                )
                if deliveries or registry.closed:
                    return deliveries
                if deadline is None:
                    timeout = settings.timeout_in_seconds if timeout_in_seconds is None else timeout_in_seconds
                    timeout = min(timeout, self._max_long_poll)
                    deadline = time.monotonic() + timeout
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                wait = min(remaining, self._max_wait_slice)
                next_change = queue.messages.next_change()
                if next_change is not None:
                    wait = min(wait, max(next_change - now, 0.001))
                registry.changed.wait(wait)

    def delete_messages(self, queue_id: str, receipts: Sequence[str]) -> list[ApiError | None]:
        """DeleteMessages: one outcome per receipt, in order (None = deleted)."""
        with self._registry.lock:
            now = self._registry.now()
            messages = self._registry.active(queue_id, now).messages
            outcomes: list[ApiError | None] = []
            for receipt in receipts:
                try:
                    messages.delete(receipt, now)
                except ApiError as error:
                    outcomes.append(error)
                else:
                    outcomes.append(None)
            return outcomes

    def delete_message(self, queue_id: str, receipt: str) -> None:
        with self._registry.lock:
            now = self._registry.now()
            self._registry.active(queue_id, now).messages.delete(receipt, now)

    def update_message(self, queue_id: str, receipt: str, visibility_in_seconds: int) -> VisibilityChange:
        with self._registry.changed:
            now = self._registry.now()
            change = self._registry.active(queue_id, now).messages.change_visibility(
                receipt, visibility_in_seconds, now
            )
            self._registry.changed.notify_all()
            return change

    def update_messages(self, queue_id: str, entries: Sequence[tuple[str, int]]) -> list[VisibilityChange | ApiError]:
        """UpdateMessages: one outcome per (receipt, visibility) entry, in order."""
        with self._registry.changed:
            now = self._registry.now()
            messages = self._registry.active(queue_id, now).messages
            outcomes: list[VisibilityChange | ApiError] = []
            for receipt, visibility in entries:
                try:
                    outcomes.append(messages.change_visibility(receipt, visibility, now))
                except ApiError as error:
                    outcomes.append(error)
            self._registry.changed.notify_all()
            return outcomes

    def stats(self, queue_id: str, channel_id: str | None) -> QueueStats:
        with self._registry.lock:
            now = self._registry.now()
            return self._registry.active(queue_id, now).messages.stats(channel_id, now)

    def channels(self, queue_id: str) -> list[str]:
        with self._registry.lock:
            now = self._registry.now()
            return self._registry.active(queue_id, now).messages.channels(now)
