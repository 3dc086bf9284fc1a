"""The values a queue's message store takes in and hands out: new messages, deliveries, stats, purge types.

They sit apart from ``messages`` so that its bookkeeping helpers (``message_index``), the queue store, the REST
handlers, the renderers and the seed loader share one definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


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
