"""What a backlog source is, seen from the refresh layer: a blocking read of one reference.

Sources wrap the synchronous OCI SDK, so the contract is a plain blocking call; the refresh layer runs it in a
thread pool, shares it between callers and decides what to serve when it fails. Keeping the seam this narrow
lets unit tests substitute a fake source without touching HTTP, while integration tests use the real SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from scaler.metadata import SourceRef


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


Reading = QueueBacklog


class BacklogSource(Protocol):
    """Blocking reader for one kind of source; raises UpstreamError on any failure, never returns a guess."""

    def read(self, ref: SourceRef) -> Reading: ...
