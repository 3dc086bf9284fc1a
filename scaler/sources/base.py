"""What a backlog source is, seen from the refresh layer: a blocking read of one reference.

Sources wrap the synchronous OCI SDK, so the contract is a plain blocking call; the refresh layer runs it in a
thread pool, shares it between callers and decides what to serve when it fails. Keeping the seam this narrow
lets unit tests substitute a fake source without touching HTTP, while integration tests use the real SDK. The
readings themselves are values of the decide layer (``scaler.values``): sources produce them, nothing more.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from scaler.values import Reading


class BacklogSource(Protocol):
    """Blocking reader for one kind of source; raises UpstreamError on any failure, never returns a guess.

    ``ref`` is the source's own reference type (QueueRef, StreamRef); the app routes each kind to its reader.
    """

    def read(self, ref: Any) -> Reading: ...


@runtime_checkable
class ForgetsSources(Protocol):
    """A source that keeps lookups per reference (a queue's messages endpoint, a stream's partition count)."""

    def forget(self, ref: Any) -> None:
        """Drop what was kept for ``ref``: nobody has asked about it for the refresh cache's ``prune_after``."""
        ...
