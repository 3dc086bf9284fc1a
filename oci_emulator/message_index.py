"""The indexes one queue's ``MessageStore`` keeps beside its messages, so that no operation scans the whole queue.

GetStats is called on every scaler refresh and GetMessages by every consumer, so both must cost little however deep
the backlog is:

- ``Tallies`` count visible and in-flight messages and their bytes per (main or DLQ, channel), updated on every state
  change, so GetStats and ListChannels never walk the messages;
- ``Schedule`` keeps heaps of visible messages per channel and of in-flight messages by the time they turn visible
  again. Entries carry the message's version and are skipped once it changed, instead of being removed eagerly;
- ``DeadLetters`` holds the dead-letter queue with a heap by expiry time.

Not thread-safe: the owning ``MessageStore`` (and the queue store above it) serialises calls.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .message_values import Delivery, QueueStats, Stats
from .receipts import Receipt


@dataclass(slots=True)
class QueuedMessage:
    """One message of a queue, in the main queue or the DLQ."""

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

    def hide_for(self, seconds: int, now: float) -> None:
        """Start a new visibility period: in flight until ``now + seconds``, or visible at once when 0."""
        self.version += 1
        self.visible_at = now + seconds
        self.in_flight = seconds > 0

    def delivery(self) -> Delivery:
        """The message as GetMessages hands it out, with the receipt of its latest delivery."""
        return Delivery(
            message_id=self.message_id,
            content=self.content,
            receipt=Receipt(self.message_id, self.nonce).encode(),
            delivery_count=self.delivery_count,
            visible_after=self.visible_at,
            expire_after=self.expire_at,
            created_at=self.created_at,
            channel_id=self.channel_id,
            custom_properties=self.custom_properties,
        )


@dataclass(slots=True)
class _Tally:
    visible: int = 0
    in_flight: int = 0
    size: int = 0

    def empty(self) -> bool:
        return self.visible == 0 and self.in_flight == 0


class Tallies:
    """Counts per (in DLQ, channel); a message is counted in the state it has between ``count`` and ``uncount``."""

    def __init__(self) -> None:
        self._tallies: dict[tuple[bool, str | None], _Tally] = {}

    def count(self, message: QueuedMessage) -> None:
        tally = self._tallies.setdefault((message.in_dlq, message.channel_id), _Tally())
        if message.in_flight:
            tally.in_flight += 1
        else:
            tally.visible += 1
        tally.size += message.size

    def uncount(self, message: QueuedMessage) -> None:
        key = (message.in_dlq, message.channel_id)
        tally = self._tallies[key]
        if message.in_flight:
            tally.in_flight -= 1
        else:
            tally.visible -= 1
        tally.size -= message.size
        if tally.empty():
            del self._tallies[key]

    def stats(self, channel_id: str | None) -> QueueStats:
        """Counts of the whole queue, or of one channel when ``channel_id`` is given."""
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

    def channels(self) -> list[str]:
        """IDs of channels holding visible or in-flight messages in the main queue, sorted."""
        return sorted(
            channel
            for (in_dlq, channel), tally in self._tallies.items()
            if not in_dlq and channel is not None and not tally.empty()
        )


class Schedule:
    """Visible messages per channel (oldest id first) and in-flight messages by the time they turn visible."""

    def __init__(self, lookup: Callable[[int], QueuedMessage | None]) -> None:
        self._lookup = lookup
        # Visible messages per channel: heaps of (id, version); an entry is live only while the version matches.
        self._ready: dict[str | None, list[tuple[int, int]]] = {}
        # In-flight messages: heap of (visible_at, id, version), same liveness rule.
        self._in_flight: list[tuple[float, int, int]] = []

    def ready(self, message: QueuedMessage) -> None:
        heapq.heappush(self._ready.setdefault(message.channel_id, []), (message.message_id, message.version))

    def hidden(self, message: QueuedMessage) -> None:
        heapq.heappush(self._in_flight, (message.visible_at, message.message_id, message.version))

    def has_channel(self, channel: str | None) -> bool:
        return channel in self._ready

    def next_ready(self, channel: str | None) -> QueuedMessage | None:
        """Remove and return the oldest visible message of ``channel`` (None once it has none)."""
        heap = self._ready.get(channel)
        while heap:
            message = self._live_ready(heapq.heappop(heap))
            if message is not None:
                return message
        return None

    def forget_if_empty(self, channel: str | None) -> None:
        if channel in self._ready and not self._ready[channel]:
            del self._ready[channel]

    def oldest_ready_channel(self) -> str | None:
        best: tuple[int, str | None] | None = None
        for channel, heap in list(self._ready.items()):
            while heap and self._live_ready(heap[0]) is None:
                heapq.heappop(heap)
            if not heap:
                del self._ready[channel]
            elif best is None or heap[0][0] < best[0]:
                best = (heap[0][0], channel)
        return None if best is None else best[1]

    def next_due(self, now: float) -> QueuedMessage | None:
        """Remove and return an in-flight message whose visibility timeout has passed by ``now`` (None if none)."""
        while self._in_flight and self._in_flight[0][0] <= now:
            _, message_id, version = heapq.heappop(self._in_flight)
            message = self._lookup(message_id)
            if message is not None and message.version == version and message.in_flight:
                return message
        return None

    def next_change(self) -> float | None:
        """The earliest time an in-flight message may become visible (may be early; never late), or None."""
        return self._in_flight[0][0] if self._in_flight else None

    def _live_ready(self, entry: tuple[int, int]) -> QueuedMessage | None:
        message_id, version = entry
        message = self._lookup(message_id)
        if message is None or message.version != version or message.in_flight:
            return None
        return message


class DeadLetters:
    """The dead-letter queue: messages that used up their deliveries, until their retention ends."""

    def __init__(self) -> None:
        self.messages: dict[int, QueuedMessage] = {}
        self._expiry: list[tuple[float, int]] = []

    def add(self, message: QueuedMessage) -> None:
        self.messages[message.message_id] = message
        heapq.heappush(self._expiry, (message.expire_at, message.message_id))

    def next_expired(self, now: float) -> QueuedMessage | None:
        """Remove and return a message whose retention ended by ``now`` (None if none)."""
        while self._expiry and self._expiry[0][0] <= now:
            _, message_id = heapq.heappop(self._expiry)
            dead = self.messages.pop(message_id, None)
            if dead is not None:
                return dead
        return None
