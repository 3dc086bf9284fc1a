"""Latency percentiles in bounded memory, for runs of any length.

A load run may see millions of messages; keeping every latency to sort at the end would grow without bound. A
log-bucketed histogram (1 % wide buckets from 1 ms to ~12 days) keeps a few thousand counters and answers any
percentile within 1 %, always rounding *up* (the reported p99 is never better than the truth).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

_FLOOR = 0.001
"""Values at or below this (seconds) share the first bucket."""
_GROWTH = 1.01


class LatencyHistogram:
    """Count of values per 1 % bucket; percentiles return the bucket's upper bound. Not thread-safe."""

    def __init__(self, values: Iterable[float] = ()) -> None:
        self._counts: dict[int, int] = {}
        self.count = 0
        self.maximum = 0.0
        self.total = 0.0
        for value in values:
            self.add(value)

    def add(self, value: float) -> None:
        value = max(0.0, value)
        index = 0 if value <= _FLOOR else math.ceil(math.log(value / _FLOOR, _GROWTH))
        self._counts[index] = self._counts.get(index, 0) + 1
        self.count += 1
        self.total += value
        self.maximum = max(self.maximum, value)

    def merge(self, other: LatencyHistogram) -> None:
        for index, count in other._counts.items():
            self._counts[index] = self._counts.get(index, 0) + count
        self.count += other.count
        self.total += other.total
        self.maximum = max(self.maximum, other.maximum)

    def percentile(self, q: float) -> float:
        """The value ``q`` (0..1) of the observations are at or below (within 1 %, rounded up); 0 when empty."""
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self._counts):
            seen += self._counts[index]
            if seen >= rank:
                return min(self.maximum, _FLOOR * _GROWTH**index)
        return self.maximum

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0
