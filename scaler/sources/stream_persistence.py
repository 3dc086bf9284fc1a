"""How long each partition's committed offset has stood still, per trigger read: the input of persistent-lag exclusion.

``excludePersistentLag`` ignores the lag of a partition whose consumer seems stuck. One unchanged read is a weak sign
(a slow consumer between two commits looks the same), so ``persistentLagThresholdPolls`` asks for N reads in a row
with the same committed offset; N = 1 is the original rule. The count is kept per ``StreamRef``, the identity of one
shared read, so two triggers that read the same group with different settings never advance each other's count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class StillOffsets:
    """Consecutive reads, per partition, in which the committed offset was the same as in the read before."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int | None, int]] = {}

    def counts(self, committed: Mapping[str, int | None], partitions: Iterable[str]) -> dict[str, int]:
        """Each partition's unchanged reads if this read's committed offsets are kept (nothing is recorded yet).

        A partition never committed has no consumer to be stuck: it counts 0, as does the first read of any partition.
        """
        counts: dict[str, int] = {}
        for partition in partitions:
            offset = committed.get(partition)
            previous = self._seen.get(partition)
            still = previous[1] + 1 if previous is not None and offset is not None and previous[0] == offset else 0
            counts[partition] = still
        return counts

    def keep(self, committed: Mapping[str, int | None], counts: Mapping[str, int]) -> None:
        """Record a read that succeeded; a failed read is no poll and leaves the counts as they were."""
        self._seen.update({partition: (committed.get(partition), still) for partition, still in counts.items()})
