"""Fakes at the BacklogSource seam, for service tests that must control upstream timing and failures exactly.

Integration tests with the real OCI SDK against the emulator cover the same paths end to end; these exist so that
staleness, hangs and transitions can be driven deterministically.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from scaler.errors import UpstreamError
from scaler.metadata import SourceRef
from scaler.values import QueueBacklog


@dataclass
class ManualClock:
    """A monotonic clock the test moves by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeQueueSource:
    """Thread-safe scripted source: set the backlog, make it fail or hang, count reads."""

    def __init__(self, visible: int = 0, in_flight: int = 0) -> None:
        self._lock = threading.Lock()
        self.visible = visible
        self.in_flight = in_flight
        self.fail: str | None = None
        self.hang_seconds = 0.0
        self.reads = 0
        self.broken = False
        self._release = threading.Event()

    def set(self, visible: int, in_flight: int = 0) -> None:
        with self._lock:
            self.visible, self.in_flight = visible, in_flight

    def release(self) -> None:
        """Let hung reads return early (tests must not leave threads sleeping)."""
        self._release.set()

    def read(self, ref: SourceRef) -> QueueBacklog:
        with self._lock:
            self.reads += 1
            fail, hang, broken = self.fail, self.hang_seconds, self.broken
            visible, in_flight = self.visible, self.in_flight
        if hang:
            self._release.wait(hang)
        if fail:
            raise UpstreamError(fail)
        if broken:
            return None  # type: ignore[return-value]  # a buggy source, to prove bugs become INTERNAL
        return QueueBacklog(
            visible=visible, in_flight=in_flight, size_bytes=visible * 10, dlq_visible=0, dlq_in_flight=0
        )


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")
