"""A manually advanced clock for tests that drive visibility timeouts, retention and lifecycle delays.

The emulator reads queue time only through an injected ``Callable[[], float]``; passing a ``ManualClock`` lets a test
jump past a 30 s visibility timeout instantly and deterministically instead of sleeping.
"""

from __future__ import annotations

import threading


class ManualClock:
    """Monotonic seconds that change only when ``advance`` is called. Thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self._lock = threading.Lock()
        self._now = start

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a monotonic clock cannot go back {seconds} s")
        with self._lock:
            self._now += seconds
            return self._now
