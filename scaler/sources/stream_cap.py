"""Counting a stream only until the decision cannot change: one read cap for all partitions together.

Beyond ``StreamRef.read_cap`` (target x max replicas + 1) every decision is at its cap, so counting further only
costs reads. What this replica already knows of each partition costs nothing and is a lower bound (commits can only
have shrunk the part it has seen, arrivals only added to it), so it counts first, largest first: a source at its cap
reads nothing at all. A partition is then read only as far as the others leave room for. Partitions suspected stuck
(``excludePersistentLag``) are counted in full but do not use up the cap, because a trigger that excludes them must
still see the other partitions counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from scaler.errors import ThrottledError
from scaler.metadata import StreamRef
from scaler.sources.stream_ledger import Start
from scaler.values import PartitionLag


class CountResult(Protocol):
    """A partition's count (``stream_reader.PartitionCount``)."""

    @property
    def lag(self) -> int: ...

    @property
    def exact(self) -> bool: ...

    @property
    def known(self) -> bool: ...


class PartitionCounter(Protocol):
    """One partition's reader, as this module needs it (``stream_reader.PartitionReader``)."""

    def known(self, start: Start) -> int | None: ...

    def due(self, start: Start) -> bool: ...

    def count(self, start: Start, need: int) -> CountResult: ...


def count_to_cap(
    ref: StreamRef,
    committed: Mapping[str, int | None],
    order: Sequence[str],
    still: Mapping[str, int],
    readers: Mapping[str, PartitionCounter],
    *,
    max_unread_seconds: float,
) -> dict[str, PartitionLag]:
    """Every partition's lag, in ``order`` (ties), reading only until the partitions together reach the cap."""
    lags: dict[str, PartitionLag] = {}
    owed: list[str] = []
    for partition in order:
        if committed.get(partition) is None and not ref.start_uncommitted_at_earliest:
            lags[partition] = PartitionLag(partition, 0, None, False, False)  # `latest`: nothing owed yet
        else:
            owed.append(partition)
    suspects = {p for p in owed if committed.get(p) is not None and still[p] >= ref.persistent_after_polls}
    known = {p: readers[p].known(committed.get(p)) for p in owed}
    pending = {p: known[p] or 0 for p in owed if p not in suspects}
    counted = 0
    for partition in sorted(owed, key=lambda p: -(known[p] or 0)):  # stable: ties keep the given order
        offset = committed.get(partition)
        if partition in suspects:
            need = ref.read_cap
        else:
            pending.pop(partition)
            need = ref.read_cap - counted - sum(pending.values())
        remembered = known[partition]
        enough = need <= 0 or (remembered is not None and remembered >= need)
        if enough and not readers[partition].due(offset):
            lag, exact = remembered or 0, False  # what is known already reaches the cap: not read
        else:  # with enough known, the count only runs the retention check that is due, reading on if it fails
            result = readers[partition].count(offset, max(need, 0))
            if not result.known:
                raise ThrottledError(
                    f"partition {partition} of stream {ref.stream_id} could not be read (throttled by OCI, resting) "
                    f"and this replica has no count of it from the last {max_unread_seconds:g}s; refusing to guess"
                )
            lag, exact = result.lag, result.exact
        if partition not in suspects:
            counted += lag
        lags[partition] = PartitionLag(partition, lag, offset, not exact, partition in suspects and lag > 0)
    return lags
