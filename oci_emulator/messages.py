"""Message semantics of one queue, free of HTTP, locking and real time.

This is the part of the emulator the scaler's correctness depends on: GetStats must report exactly what a consumer
could observe (visible, in flight, dead-lettered), so every state change goes through one pair of bookkeeping helpers
that keep per-channel tallies. Time is passed in as ``now`` (seconds on an arbitrary monotonic scale), which lets unit
tests step through visibility timeouts, retention and dead-lettering without sleeping.

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

import heapq
import random
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from .errors import InvalidParameter, NotAuthorizedOrNotFound
from .receipts import Receipt, decode_receipt
from .settings import QueueSettings


@dataclass(frozen=True)
class NewMessage:
    """A message as a producer submits it."""

    content: str
    channel_id: str | None = None
    custom_properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredMessage:
    """The acknowledgement of one put message."""

    message_id: int
    expire_after: float


@dataclass(frozen=True)
class Delivery:
    """One message as handed to a consumer."""

    message_id: int
    content: str
    receipt: str
    delivery_count: int
    visible_after: float
    expire_after: float
    created_at: float
    channel_id: str | None
    custom_properties: Mapping[str, str]


@dataclass(frozen=True)
class VisibilityChange:
    """The outcome of UpdateMessage: when the message becomes visible again."""

    message_id: int
    visible_after: float


@dataclass(frozen=True)
class Stats:
    """Counts of one part of a queue (main or DLQ); ``size_in_bytes`` sums visible and in-flight content."""

    visible_messages: int = 0
    in_flight_messages: int = 0
    size_in_bytes: int = 0

    def __add__(self, other: Stats) -> Stats:
        return Stats(
            self.visible_messages + other.visible_messages,
            self.in_flight_messages + other.in_flight_messages,
            self.size_in_bytes + other.size_in_bytes,
        )


@dataclass(frozen=True)
class QueueStats:
    """GetStats: the main queue and its dead-letter queue."""

    queue: Stats
    dlq: Stats


class PurgeType(Enum):
    NORMAL = "NORMAL"
    DLQ = "DLQ"
    BOTH = "BOTH"


@dataclass(slots=True)
class _Message:
    message_id: int
    content: str
    size: int
    channel_id: str | None
    custom_properties: Mapping[str, str]
    created_at: float
    expire_at: float
    visible_at: float
    delivery_count: int = 0
    nonce: int = 0
    version: int = 0
    in_flight: bool = False
    in_dlq: bool = False


@dataclass(slots=True)
class _Tally:
    visible: int = 0
    in_flight: int = 0
    size: int = 0

    def empty(self) -> bool:
        return self.visible == 0 and self.in_flight == 0


_TallyKey = tuple[bool, str | None]


class MessageStore:
    """All messages of one queue. Not thread-safe: the owning ``QueueStore`` serialises calls."""

    def __init__(self, settings: QueueSettings, *, nonce_source: Callable[[], int] | None = None) -> None:
        self.settings = settings
        self._next_nonce: Callable[[], int] = nonce_source or _random_nonces()
        self._next_id = 1
        # Main queue in put order; retention is fixed per queue, so put order is also expiry order.
        self._main: OrderedDict[int, _Message] = OrderedDict()
        self._dlq: dict[int, _Message] = {}
        self._dlq_expiry: list[tuple[float, int]] = []
        # Visible messages per channel: heaps of (id, version); an entry is live only while the version matches.
        self._ready: dict[str | None, list[tuple[int, int]]] = {}
        # In-flight messages: heap of (visible_at, id, version), same liveness rule.
        self._in_flight: list[tuple[float, int, int]] = []
        self._tallies: dict[_TallyKey, _Tally] = {}

    # ----------------------------------------------------------------------------------------------- producers

    def put(self, messages: Iterable[NewMessage], now: float) -> list[StoredMessage]:
        self.advance(now)
        stored = []
        for new in messages:
            message = _Message(
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
            self._count(message)
            self._push_ready(message)
            stored.append(StoredMessage(message.message_id, message.expire_at))
        return stored

    # ----------------------------------------------------------------------------------------------- consumers

    def get(self, *, limit: int, visibility_in_seconds: int, channel_filter: str | None, now: float) -> list[Delivery]:
        """Deliver up to ``limit`` visible messages of one channel (empty when none is visible)."""
        self.advance(now)
        channel = channel_filter if channel_filter is not None else self._oldest_ready_channel()
        heap = self._ready.get(channel)
        if heap is None:
            return []
        deliveries: list[Delivery] = []
        still_visible: list[_Message] = []
        while heap and len(deliveries) < limit:
            message = self._live_ready(heapq.heappop(heap))
            if message is None:
                continue
            self._uncount(message)
            message.delivery_count += 1
            message.nonce = self._next_nonce()
            message.version += 1
            message.visible_at = now + visibility_in_seconds
            message.in_flight = visibility_in_seconds > 0
            self._count(message)
            deliveries.append(self._delivery(message))
            if message.in_flight:
                heapq.heappush(self._in_flight, (message.visible_at, message.message_id, message.version))
            else:
                still_visible.append(message)
        for message in still_visible:
            # A peeked message stays visible unless it has used up its deliveries.
            self._release(message)
        if not heap:
            del self._ready[channel]
        return deliveries

    def delete(self, token: str, now: float) -> None:
        self.advance(now)
        message = self._by_receipt(token)
        self._uncount(message)
        del self._main[message.message_id]

    def change_visibility(self, token: str, visibility_in_seconds: int, now: float) -> VisibilityChange:
        """UpdateMessage: hide the delivered message until ``now + visibility`` (0 makes it visible at once)."""
        self.advance(now)
        message = self._by_receipt(token)
        self._uncount(message)
        message.version += 1
        message.visible_at = now + visibility_in_seconds
        message.in_flight = visibility_in_seconds > 0
        self._count(message)
        if message.in_flight:
            heapq.heappush(self._in_flight, (message.visible_at, message.message_id, message.version))
        else:
            self._release(message)
        return VisibilityChange(message.message_id, now + visibility_in_seconds)

    # ----------------------------------------------------------------------------------------------- observers

    def stats(self, channel_id: str | None, now: float) -> QueueStats:
        """Counts of the whole queue, or of one channel when ``channel_id`` is given."""
        self.advance(now)
        main, dlq = Stats(), Stats()
        for (in_dlq, channel), tally in self._tallies.items():
            if channel_id is not None and channel != channel_id:
                continue
            part = Stats(tally.visible, tally.in_flight, tally.size)
            if in_dlq:
                dlq += part
            else:
                main += part
        return QueueStats(queue=main, dlq=dlq)

    def channels(self, now: float) -> list[str]:
        """IDs of channels holding visible or in-flight messages in the main queue, sorted."""
        self.advance(now)
        return sorted(
            channel
            for (in_dlq, channel), tally in self._tallies.items()
            if not in_dlq and channel is not None and not tally.empty()
        )

    def next_change(self) -> float | None:
        """The earliest time an in-flight message may become visible (may be early; never late), or None."""
        return self._in_flight[0][0] if self._in_flight else None

    # ----------------------------------------------------------------------------------------------- admin

    def purge(self, purge_type: PurgeType, channel_ids: Iterable[str] | None = None) -> None:
        """Remove messages from the main queue, the DLQ or both, optionally only those of some channels."""
        wanted = None if channel_ids is None else set(channel_ids)

        def doomed(message: _Message) -> bool:
            return wanted is None or message.channel_id in wanted

        if purge_type in (PurgeType.NORMAL, PurgeType.BOTH):
            for message in [m for m in self._main.values() if doomed(m)]:
                self._uncount(message)
                del self._main[message.message_id]
        if purge_type in (PurgeType.DLQ, PurgeType.BOTH):
            for message in [m for m in self._dlq.values() if doomed(m)]:
                self._uncount(message)
                del self._dlq[message.message_id]

    def advance(self, now: float) -> None:
        """Apply everything that has happened by ``now``: retention expiry, then visibility timeouts."""
        while self._main:
            oldest = next(iter(self._main.values()))
            if oldest.expire_at > now:
                break
            self._uncount(oldest)
            self._main.popitem(last=False)
        while self._dlq_expiry and self._dlq_expiry[0][0] <= now:
            _, message_id = heapq.heappop(self._dlq_expiry)
            dead = self._dlq.pop(message_id, None)
            if dead is not None:
                self._uncount(dead)
        while self._in_flight and self._in_flight[0][0] <= now:
            _, message_id, version = heapq.heappop(self._in_flight)
            message = self._main.get(message_id)
            if message is None or message.version != version or not message.in_flight:
                continue
            self._uncount(message)
            message.version += 1
            message.in_flight = False
            self._count(message)
            self._release(message)

    # ----------------------------------------------------------------------------------------------- internals

    def _release(self, message: _Message) -> None:
        """A visible main-queue message: back in its channel, or to the DLQ once it has used up its deliveries."""
        limit = self.settings.dead_letter_queue_delivery_count
        if limit > 0 and message.delivery_count >= limit:
            self._uncount(message)
            del self._main[message.message_id]
            message.in_dlq = True
            message.version += 1
            self._dlq[message.message_id] = message
            heapq.heappush(self._dlq_expiry, (message.expire_at, message.message_id))
            self._count(message)
        else:
            self._push_ready(message)

    def _push_ready(self, message: _Message) -> None:
        heapq.heappush(self._ready.setdefault(message.channel_id, []), (message.message_id, message.version))

    def _live_ready(self, entry: tuple[int, int]) -> _Message | None:
        message_id, version = entry
        message = self._main.get(message_id)
        if message is None or message.version != version or message.in_flight:
            return None
        return message

    def _oldest_ready_channel(self) -> str | None:
        best: tuple[int, str | None] | None = None
        for channel, heap in list(self._ready.items()):
            while heap and self._live_ready(heap[0]) is None:
                heapq.heappop(heap)
            if not heap:
                del self._ready[channel]
            elif best is None or heap[0][0] < best[0]:
                best = (heap[0][0], channel)
        return None if best is None else best[1]

    def _by_receipt(self, token: str) -> _Message:
        receipt = decode_receipt(token)
        if receipt is None:
            raise InvalidParameter(f"message receipt '{token}' is malformed; pass a receipt returned by GetMessages")
        message = self._main.get(receipt.message_id)
        if message is None or message.nonce != receipt.nonce or message.delivery_count == 0:
            raise NotAuthorizedOrNotFound(
                f"message receipt '{token}' does not match a message: it was deleted, expired, moved to the "
                "dead-letter queue, or redelivered with a newer receipt"
            )
        return message

    def _delivery(self, message: _Message) -> Delivery:
        return Delivery(
            message_id=message.message_id,
            content=message.content,
            receipt=Receipt(message.message_id, message.nonce).encode(),
            delivery_count=message.delivery_count,
            visible_after=message.visible_at,
            expire_after=message.expire_at,
            created_at=message.created_at,
            channel_id=message.channel_id,
            custom_properties=message.custom_properties,
        )

    def _count(self, message: _Message) -> None:
        tally = self._tallies.setdefault((message.in_dlq, message.channel_id), _Tally())
        if message.in_flight:
            tally.in_flight += 1
        else:
            tally.visible += 1
        tally.size += message.size

    def _uncount(self, message: _Message) -> None:
        key = (message.in_dlq, message.channel_id)
        tally = self._tallies[key]
        if message.in_flight:
            tally.in_flight -= 1
        else:
            tally.visible -= 1
        tally.size -= message.size
        if tally.empty():
            del self._tallies[key]


def _random_nonces() -> Callable[[], int]:
    source = random.Random()
    return lambda: source.getrandbits(64)
