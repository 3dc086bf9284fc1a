"""One stream partition as an append-only log with contiguous offsets, plus key-to-partition hashing.

Consumer lag is measured in offsets, so the log must behave exactly like OCI's: offsets start at 0, grow by one per
message, and never change. Retention removes messages from the head only; the oldest retained offset moves up and
the offsets of the remaining messages stay as they were. Time is passed in (seconds on the store's monotonic scale),
so unit tests trim by retention without sleeping.

Partitioning: a message with a key goes to ``int(sha256(key)[:8]) mod partitions``, so equal keys always share a
partition and tests can compute the expected partition of any key with ``partition_for_key``. OCI generates a key
for a message without one; the emulator places such messages round-robin instead (see ``stream_logs``).
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition (0-based) a keyed message lands in: the first 8 bytes of its SHA-256, big-endian, mod count."""
    if partitions < 1:
        raise ValueError(f"a stream has at least one partition, got {partitions}")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % partitions


@dataclass(frozen=True)
class Record:
    """One stored message."""

    offset: int
    key: bytes | None
    value: bytes
    timestamp: float


class PartitionLog:
    """The retained messages of one partition. Not thread-safe: the owning ``StreamStore`` serialises calls."""

    def __init__(self) -> None:
        self._records: list[Record] = []
        self._oldest = 0

    def __len__(self) -> int:
        return len(self._records)

    @property
    def oldest(self) -> int:
        """Offset of the oldest retained message; equals ``next_offset`` when nothing is retained."""
        return self._oldest

    @property
    def next_offset(self) -> int:
        """Offset the next appended message will get."""
        return self._oldest + len(self._records)

    @property
    def latest(self) -> int:
        """Offset of the latest published message (-1 before the first one)."""
        return self.next_offset - 1

    def append(self, key: bytes | None, value: bytes, now: float) -> Record:
        record = Record(offset=self.next_offset, key=key, value=value, timestamp=now)
        self._records.append(record)
        return record

    def read(self, start: int, limit: int) -> list[Record]:
        """Up to ``limit`` messages from offset ``start`` on; a trimmed ``start`` continues at the oldest message."""
        first = max(start, self._oldest) - self._oldest
        return self._records[first : first + limit]

    def offset_at_time(self, instant: float) -> int:
        """Offset of the first retained message stamped at or after ``instant`` (``next_offset`` if none is)."""
        index = bisect.bisect_left(self._records, instant, key=lambda record: record.timestamp)
        return self._oldest + index

    def trim_before(self, offset: int) -> int:
        """Drop every message below ``offset``; returns how many were dropped."""
        count = min(max(offset - self._oldest, 0), len(self._records))
        if count:
            del self._records[:count]
            self._oldest += count
        return count

    def trim_until(self, cutoff: float) -> int:
        """Drop every message stamped at or before ``cutoff`` (retention); returns how many were dropped."""
        count = bisect.bisect_right(self._records, cutoff, key=lambda record: record.timestamp)
        return self.trim_before(self._oldest + count)
