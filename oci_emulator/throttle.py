"""The Streaming GetMessages rate limit: N requests per second per (stream, partition, consumer group).

OCI throttles reads at 5 GetMessages per second per partition per consumer group and answers 429. A scaler that
polls lag too eagerly, or several scaler replicas reading the same partitions, hit exactly this limit in production,
so the emulator enforces it by default and lets tests switch it off. Plain (non-group) cursors count under the group
``None``. The window slides over the injected clock: a request is admitted when fewer than N admitted requests of
the same key happened in the preceding second. Refused requests do not count.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

ThrottleKey = tuple[str, int, str | None]
"""(stream id, partition, group name or None for plain cursors)."""


class GetThrottle:
    """Thread-safe sliding-window counters; ``enabled`` may be flipped from any thread."""

    def __init__(self, *, requests_per_second: int = 5, enabled: bool = True, window_seconds: float = 1.0) -> None:
        if requests_per_second < 1:
            raise ValueError(f"requests_per_second must be >= 1, got {requests_per_second}")
        self.requests_per_second = requests_per_second
        self._window = window_seconds
        self._lock = threading.Lock()
        self._enabled = enabled
        self._admitted: dict[ThrottleKey, deque[float]] = {}

    @property
    def enabled(self) -> bool:
        with self._lock:
            return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Switch throttling on or off; switching forgets every window, so the next second starts fresh."""
        with self._lock:
            self._enabled = enabled
            self._admitted.clear()

    def admit(self, keys: Iterable[ThrottleKey], now: float) -> ThrottleKey | None:
        """Count one request against every key and return None, or return the first key at its limit (counting none)."""
        keys = list(keys)
        with self._lock:
            if not self._enabled:
                return None
            windows = []
            for key in keys:
                window = self._admitted.setdefault(key, deque())
                while window and window[0] <= now - self._window:
                    window.popleft()
                if len(window) >= self.requests_per_second:
                    return key
                windows.append(window)
            for window in windows:
                window.append(now)
            return None

    def forget(self, stream_id: str) -> None:
        """Drop the windows of a deleted stream."""
        with self._lock:
            for key in [key for key in self._admitted if key[0] == stream_id]:
                del self._admitted[key]
