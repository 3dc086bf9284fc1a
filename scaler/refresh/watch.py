"""Push watchers: StreamIsActive subscribers of one source share one refresh loop.

KEDA opens a stream per ScaledObject and many ScaledObjects watch one source; one loop per subscriber would multiply
the reads the cache exists to share. A subscriber sees only the latest outcome, so a slow reader skips values rather
than lagging behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from scaler.errors import UnavailableError
from scaler.refresh.clock import Clock
from scaler.refresh.entry import Snapshot

K = TypeVar("K")
V = TypeVar("V")


class _Closed:
    """Sentinel delivered to subscribers when the cache shuts its watches down."""


CLOSED = _Closed()


class Subscription(Generic[V]):
    """A watcher's view of one source: the latest outcome only (a slow reader skips, never lags behind)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Snapshot[V] | UnavailableError | _Closed] = asyncio.Queue(maxsize=1)

    def offer(self, outcome: Snapshot[V] | UnavailableError | _Closed) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(outcome)

    async def next(self) -> Snapshot[V] | UnavailableError | _Closed:
        return await self._queue.get()


@dataclass
class _Watch(Generic[V]):
    task: asyncio.Task[None] | None = None
    subscribers: set[Subscription[V]] = field(default_factory=set)


class Watchers(Generic[K, V]):
    """One refresh loop per watched source, alive while it has subscribers."""

    def __init__(
        self,
        *,
        get: Callable[[K, float], Awaitable[Snapshot[V]]],
        clock: Clock,
        interval: float,
        fraction: Callable[[], float],
    ) -> None:
        """``get(key, max_wait)`` reads through the cache; ``fraction`` de-phases each loop's first pause."""
        self._get = get
        self._clock = clock
        self._interval = interval
        self._fraction = fraction
        self._watches: dict[K, _Watch[V]] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._watches)

    def __contains__(self, key: object) -> bool:
        return key in self._watches

    @contextlib.asynccontextmanager
    async def watch(self, key: K) -> AsyncIterator[Subscription[V]]:
        sub: Subscription[V] = Subscription()
        if self._closed:
            sub.offer(CLOSED)
            yield sub
            return
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch()
            watch.task = asyncio.create_task(self._loop(key, watch), name=f"watch {key!r}")
        watch.subscribers.add(sub)
        try:
            yield sub
        finally:
            watch.subscribers.discard(sub)
            if not watch.subscribers and self._watches.get(key) is watch:
                del self._watches[key]
                if watch.task is not None:
                    watch.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watch.task

    async def _loop(self, key: K, watch: _Watch[V]) -> None:
        interval = self._interval
        # The first pause only is a random fraction of the interval: loops opened together then read apart.
        pause = interval * self._fraction()
        while True:
            outcome: Snapshot[V] | UnavailableError
            try:
                outcome = await self._get(key, interval)
            except UnavailableError as exc:
                outcome = exc
            for sub in list(watch.subscribers):
                sub.offer(outcome)
            await self._clock.sleep(pause)
            pause = interval

    async def close(self) -> None:
        """Subscribers receive CLOSED, loops stop, and later watches close at once."""
        self._closed = True
        watches = list(self._watches.values())
        self._watches.clear()
        for watch in watches:
            for sub in watch.subscribers:
                sub.offer(CLOSED)
        await cancel([w.task for w in watches if w.task is not None])


async def cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
