"""The values the stream store hands out and takes in: lifecycle states, cursor types, snapshots and batches.

They sit apart from the store so that its collaborators (registry, plain and group reads), the REST handlers and
the renderers share one definition without importing the store itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from .groups import Reservation


class StreamState(Enum):
    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    DELETING = "DELETING"
    DELETED = "DELETED"
    FAILED = "FAILED"
    UPDATING = "UPDATING"


class CursorType(Enum):
    AFTER_OFFSET = "AFTER_OFFSET"
    AT_OFFSET = "AT_OFFSET"
    AT_TIME = "AT_TIME"
    LATEST = "LATEST"
    TRIM_HORIZON = "TRIM_HORIZON"


GROUP_CURSOR_TYPES = (CursorType.AT_TIME, CursorType.LATEST, CursorType.TRIM_HORIZON)


@dataclass(frozen=True)
class StreamInfo:
    """A snapshot of one stream's control-plane record. Times are on the store's clock; see ``wall_time``."""

    stream_id: str
    name: str
    partitions: int
    retention_in_hours: int
    compartment_id: str
    stream_pool_id: str
    lifecycle_state: StreamState
    created_at: float
    freeform_tags: Mapping[str, str]
    defined_tags: Mapping[str, Mapping[str, object]]


@dataclass(frozen=True)
class NewStreamMessage:
    """A message as a producer submits it (already base64-decoded)."""

    value: bytes
    key: bytes | None = None


@dataclass(frozen=True)
class Appended:
    """The acknowledgement of one appended message."""

    partition: int
    offset: int
    timestamp: float


@dataclass(frozen=True)
class StreamMessage:
    """One message as GetMessages returns it."""

    stream_name: str
    partition: int
    key: bytes | None
    value: bytes
    offset: int
    timestamp: float


@dataclass(frozen=True)
class Batch:
    """A GetMessages result: the messages and the cursor for the next call."""

    messages: list[StreamMessage]
    next_cursor: str


@dataclass(frozen=True)
class GroupInfo:
    stream_id: str
    group_name: str
    reservations: list[Reservation]


@dataclass(frozen=True)
class PartitionOffsets:
    """What a partition retains: offsets ``oldest`` to ``next_offset - 1``."""

    oldest: int
    next_offset: int
