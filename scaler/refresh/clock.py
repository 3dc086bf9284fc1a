"""The refresh cache's time: what it reads (``now``) and how it waits (``sleep``, ``wait``), behind one seam.

The cache's decisions (TTL, staleness, patience, the watch loops' pauses) all depend on time. If only ``now`` were
injected, a test could move "now" but every wait would still run on the event loop's clock, so tests would have to
sleep for real and assert wall time. With the waits behind the same seam, a fake clock drives the whole cache.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """A monotonic clock in seconds, and waits measured on it."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, future: asyncio.Future[Any], seconds: float) -> bool:
        """Wait until ``future`` is done, at most ``seconds``; True if it is done.

        The future is never cancelled by the wait (it runs on and may warm a cache), and a cancellation of the
        waiting task is never swallowed, even when it arrives as the future completes.
        """
        ...


@dataclass(frozen=True)
class LoopClock:
    """Real time: ``now`` from ``read`` (``time.monotonic`` unless a test pins it), waits on the event loop."""

    read: Callable[[], float] = time.monotonic

    def now(self) -> float:
        return self.read()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, future: asyncio.Future[Any], seconds: float) -> bool:
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives as the
            # future completes, and a cancelled StreamIsActive watcher would then refresh its source for ever.
            async with asyncio.timeout(seconds):
                await asyncio.shield(future)
        except TimeoutError:
            return False
        return True


def as_clock(clock: Clock | Callable[[], float]) -> Clock:
    """A Clock as is; a bare ``() -> float`` (what callers passed before waits were injectable) reads ``now`` only."""
    if isinstance(clock, Clock):
        return clock
    return LoopClock(read=clock)
