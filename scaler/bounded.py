"""The one bounded map behind every per-trigger memory of the RPC path (parsed requests, splits, warnings).

KEDA keeps sending the same ScaledObjects, but ScaledObjects come and go over a scaler's life, so anything keyed
by trigger must forget eventually or the scaler grows without bound. Least recently used entries go first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

FLEET_CAPACITY: Final = 16_384
"""Default entries per bounded map. Keyed per ScaledObject trigger, so it must exceed the triggers one scaler
serves: KEDA polls round-robin, and a strict LRU smaller than the fleet would never hit."""


class Bounded(Generic[K, V]):
    """A map holding at most ``capacity`` entries; past that, the least recently used entry is dropped."""

    __slots__ = ("_capacity", "_entries")

    def __init__(self, capacity: int = FLEET_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now the most recently used), or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store ``value`` as the most recently used entry, dropping the oldest one past capacity."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        """Drop ``key`` if present."""
        self._entries.pop(key, None)

    def first_sight(self: Bounded[K, bool], key: K) -> bool:
        """Remember ``key``; True only if it was not remembered yet (log-once de-duplication)."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return False
        self.put(key, True)
        return True
