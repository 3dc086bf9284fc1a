"""What a backlog source is, seen from the refresh layer: a blocking read of one reference.

Sources wrap the synchronous OCI SDK, so the contract is a plain blocking call; the refresh layer runs it in a
thread pool, shares it between callers and decides what to serve when it fails. Keeping the seam this narrow
lets unit tests substitute a fake source without touching HTTP, while integration tests use the real SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class QueueBacklog:
    """One GetStats answer. DLQ counts are kept for metrics only: dead letters never need a consumer."""

    visible: int
    in_flight: int
    size_bytes: int
    dlq_visible: int
    dlq_in_flight: int

    def backlog(self, *, include_in_flight: bool) -> int:
        return self.visible + (self.in_flight if include_in_flight else 0)


@dataclass(frozen=True)
class PartitionLag:
    """Messages after a consumer group's committed offset in one partition, counted up to the read cap."""

    partition: str
    lag: int
    committed_offset: int | None
    """None: the group never committed this partition."""
    capped: bool
    """The count stopped at the read cap (or page bound): the true lag is at least ``lag``."""
    persistent: bool
    """Lag > 0 while the committed offset did not move since the previous read: the consumer may be stuck."""


@dataclass(frozen=True)
class StreamLag:
    """One consumer-group lag read of a stream."""

    partition_count: int
    partitions: tuple[PartitionLag, ...]

    def backlog(self, *, exclude_persistent: bool) -> int:
        return sum(p.lag for p in self.partitions if not (exclude_persistent and p.persistent))


Reading = QueueBacklog | StreamLag


class BacklogSource(Protocol):
    """Blocking reader for one kind of source; raises UpstreamError on any failure, never returns a guess.

    ``ref`` is the source's own reference type (QueueRef, StreamRef); the app routes each kind to its reader.
    """

    def read(self, ref: Any) -> Reading: ...
