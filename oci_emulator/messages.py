"""Message semantics of one queue, free of HTTP, locking and real time.

This is the part of the emulator the scaler's correctness depends on: GetStats must report exactly what a consumer
could observe (visible, in flight, dead-lettered), so every state change goes through one pair of bookkeeping helpers
that keep per-channel tallies (see ``message_index``). Time is passed in as ``now`` (seconds on an arbitrary
monotonic scale), which lets unit tests step through visibility timeouts, retention and dead-lettering without
sleeping.

Semantics, following the OCI Queue API reference:

- A delivery (GetMessages) increments ``deliveryCount`` and issues a new receipt. With visibility > 0 the message is
  in flight until ``now + visibility``; with visibility 0 it stays visible (peek).
- A message whose delivery count has reached the queue's ``deadLetterQueueDeliveryCount`` (when > 0) moves to the
  dead-letter queue when it would otherwise become visible again, instead of being redelivered.
- Messages disappear ``retentionInSeconds`` after they were put, wherever they are.
- One GetMessages call returns messages of a single channel: the filtered one, or else (OCI: "a random non-empty
  channel") the channel holding the oldest visible message, a deterministic stand-in that keeps tests reproducible.
  Messages put without a channel form a default channel that ListChannels does not name.
- Receipts name one delivery; a receipt from an earlier delivery is stale (see ``receipts``).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from .errors import InvalidParameter, NotAuthorizedOrNotFound
from .message_index import DeadLetters, QueuedMessage, Schedule, Tallies
from .message_values import Delivery, NewMessage, PurgeType, QueueStats, Stats, StoredMessage, VisibilityChange
from .receipts import decode_receipt
from .settings import QueueSettings

__all__ = [
    "Delivery",
    "MessageStore",
    "NewMessage",
    "PurgeType",
    "QueueStats",
    "Stats",
    "StoredMessage",
    "VisibilityChange",
]


class MessageStore:
    """All messages of one queue. Not thread-safe: the owning ``QueueStore`` serialises calls."""

    def __init__(self, settings: QueueSettings, *, nonce_source: Callable[[], int] | None = None) -> None:
        self.settings = settings
        self._next_nonce: Callable[[], int] = nonce_source or _random_nonces()
        self._next_id = 1
        # Main queue in put order; retention is fixed per queue, so put order is also expiry order.
        self._main: OrderedDict[int, QueuedMessage] = OrderedDict()
        self._dead = DeadLetters()
        self._schedule = Schedule(self._main.get)
        self._tallies = Tallies()

    # ----------------------------------------------------------------------------------------------- producers

    def put(self, messages: Iterable[NewMessage], now: float) -> list[StoredMessage]:
        self.advance(now)
        stored = []
        for new in messages:
            message = QueuedMessage(
                message_id=self._next_id,
                content=new.content,
                size=len(new.content.encode("utf-8")),
                channel_id=new.channel_id,
                custom_properties=dict(new.custom_properties),
                created_at=now,
                expire_at=now + self.settings.retention_in_seconds,
                visible_at=now,
            )
            self._next_id += 1
            self._main[message.message_id] = message
            self._tallies.count(message)
            self._schedule.ready(message)
            stored.append(StoredMessage(message.message_id, message.expire_at))
        return stored

    # ----------------------------------------------------------------------------------------------- consumers

    def get(self, *, limit: int, visibility_in_seconds: int, channel_filter: str | None, now: float) -> list[Delivery]:
        """Deliver up to ``limit`` visible messages of one channel (empty when none is visible)."""
        self.advance(now)
        channel = channel_filter if channel_filter is not None else self._schedule.oldest_ready_channel()
        deliveries: list[Delivery] = []
        still_visible: list[QueuedMessage] = []
        while len(deliveries) < limit:
            message = self._schedule.next_ready(channel)
            if message is None:
                break
            self._tallies.uncount(message)
            message.delivery_count += 1
            message.nonce = self._next_nonce()
            message.hide_for(visibility_in_seconds, now)
            self._tallies.count(message)
            deliveries.append(message.delivery())
            if message.in_flight:
                self._schedule.hidden(message)
            else:
                still_visible.append(message)
        for message in still_visible:
            # A peeked message stays visible unless it has used up its deliveries.
            self._release(message)
        self._schedule.forget_if_empty(channel)
        return deliveries

    def delete(self, token: str, now: float) -> None:
        self.advance(now)
        message = _by_receipt(self._main, token)
        self._tallies.uncount(message)
        del self._main[message.message_id]

    def change_visibility(self, token: str, visibility_in_seconds: int, now: float) -> VisibilityChange:
        """UpdateMessage: hide the delivered message until ``now + visibility`` (0 makes it visible at once)."""
        self.advance(now)
        message = _by_receipt(self._main, token)
        self._tallies.uncount(message)
        message.hide_for(visibility_in_seconds, now)
        self._tallies.count(message)
        if message.in_flight:
            self._schedule.hidden(message)
        else:
            self._release(message)
        return VisibilityChange(message.message_id, now + visibility_in_seconds)

    # ----------------------------------------------------------------------------------------------- observers

    def stats(self, channel_id: str | None, now: float) -> QueueStats:
        """Counts of the whole queue, or of one channel when ``channel_id`` is given."""
        self.advance(now)
        return self._tallies.stats(channel_id)

    def channels(self, now: float) -> list[str]:
        """IDs of channels holding visible or in-flight messages in the main queue, sorted."""
        self.advance(now)
        return self._tallies.channels()

    def next_change(self) -> float | None:
        """The earliest time an in-flight message may become visible (may be early; never late), or None."""
        return self._schedule.next_change()

    # ----------------------------------------------------------------------------------------------- admin

    def purge(self, purge_type: PurgeType, channel_ids: Iterable[str] | None = None) -> None:
        """Remove messages from the main queue, the DLQ or both, optionally only those of some channels."""
        wanted = None if channel_ids is None else set(channel_ids)

        def doomed(message: QueuedMessage) -> bool:
            return wanted is None or message.channel_id in wanted

        if purge_type in (PurgeType.NORMAL, PurgeType.BOTH):
            for message in [m for m in self._main.values() if doomed(m)]:
                self._tallies.uncount(message)
                del self._main[message.message_id]
        if purge_type in (PurgeType.DLQ, PurgeType.BOTH):
            for message in [m for m in self._dead.messages.values() if doomed(m)]:
                self._tallies.uncount(message)
                del self._dead.messages[message.message_id]

    def advance(self, now: float) -> None:
        """Apply everything that has happened by ``now``: retention expiry, then visibility timeouts."""
        while self._main:
            oldest = next(iter(self._main.values()))
            if oldest.expire_at > now:
                break
            self._tallies.uncount(oldest)
            self._main.popitem(last=False)
        while (dead := self._dead.next_expired(now)) is not None:
            self._tallies.uncount(dead)
        while (message := self._schedule.next_due(now)) is not None:
            self._tallies.uncount(message)
            message.version += 1
            message.in_flight = False
            self._tallies.count(message)
            self._release(message)

    # ----------------------------------------------------------------------------------------------- internals

    def _release(self, message: QueuedMessage) -> None:
        """A visible main-queue message: back in its channel, or to the DLQ once it has used up its deliveries."""
        limit = self.settings.dead_letter_queue_delivery_count
        if limit > 0 and message.delivery_count >= limit:
            self._tallies.uncount(message)
            del self._main[message.message_id]
            message.in_dlq = True
            message.version += 1
            self._dead.add(message)
            self._tallies.count(message)
        else:
            self._schedule.ready(message)


def _by_receipt(main: Mapping[int, QueuedMessage], token: str) -> QueuedMessage:
    receipt = decode_receipt(token)
    if receipt is None:
        raise InvalidParameter(f"message receipt '{token}' is malformed; pass a receipt returned by GetMessages")
    message = main.get(receipt.message_id)
    if message is None or message.nonce != receipt.nonce or message.delivery_count == 0:
        raise NotAuthorizedOrNotFound(
            f"message receipt '{token}' does not match a message: it was deleted, expired, moved to the "
            "dead-letter queue, or redelivered with a newer receipt"
        )
    return message


def _random_nonces() -> Callable[[], int]:
    source = random.Random()
    return lambda: source.getrandbits(64)
