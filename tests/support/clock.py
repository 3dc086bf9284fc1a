"""A fake :class:`scaler.refresh.Clock` for unit tests: time moves only when the test advances it.

Every sleep and bounded wait of the code under test is a timer on this clock. ``advance`` moves "now" to each due
timer in deadline order, wakes it, and lets the event loop run what it woke (a bounded number of loop turns, no
real time) before going on, so a test reads as a timeline and never sleeps for real.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import Any

SETTLE_TURNS = 50
"""Event-loop turns given to woken tasks after each timer; far more than any chain in the code under test needs."""


class FakeClock:
    """Implements ``scaler.refresh.Clock``; ``advance(0)`` lets woken tasks run without moving time."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    @property
    def timers(self) -> int:
        """Sleeps and waits still pending on this clock."""
        return sum(1 for _, _, timer in self._timers if not timer.done())

    def _timer(self, seconds: float) -> asyncio.Future[None]:
        timer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            timer.set_result(None)
        else:
            heapq.heappush(self._timers, (self._now + seconds, next(self._order), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        timer = self._timer(seconds)
        try:
            await timer
        finally:
            timer.cancel()  # a cancelled sleeper leaves no live timer behind

    async def wait(self, future: asyncio.Future[Any], seconds: float) -> bool:
        """As the real clock: never cancels ``future``, re-raises its failure (or cancellation) once it is done."""
        if not future.done() and seconds > 0:
            timer = self._timer(seconds)
            try:
                await asyncio.wait((future, timer), return_when=asyncio.FIRST_COMPLETED)
            finally:
                timer.cancel()
        if not future.done():
            return False
        future.result()
        return True

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing every timer due on the way, in deadline order."""
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        target = self._now + seconds
        await self._settle()
        while self._timers and self._timers[0][0] <= target:
            deadline, _, timer = heapq.heappop(self._timers)
            if timer.done():
                continue
            self._now = max(self._now, deadline)
            timer.set_result(None)
            await self._settle()
        self._now = target
        await self._settle()

    @staticmethod
    async def _settle() -> None:
        for _ in range(SETTLE_TURNS):
            await asyncio.sleep(0)
