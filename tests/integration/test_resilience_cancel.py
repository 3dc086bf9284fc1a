"""Cancelling a StreamIsActive watcher must end its refresh loop (KEDA cancels a stream on every re-handle).

A regression test for a bug found under load: ``RefreshCache.get`` used to wait with
``asyncio.wait_for(asyncio.shield(task), ...)``. On Python 3.11, ``wait_for`` returns the result instead of raising
when the cancellation reaches the waiting task after the awaited read has completed but before the task resumed,
so the watch loop (``Watchers._loop`` in scaler/refresh/watch.py) swallowed its cancellation and ran on for ever,
refreshing a source nobody watched, while the cancelled StreamIsActive handler waited for it in ``watch()``'s
``finally``. ``async with asyncio.timeout(...)``
keeps the cancellation.

The race is made deterministic here: the read itself schedules the subscriber's cancellation so that it lands
exactly in that window (read done, watch loop not yet resumed), as a client cancelling at the wrong moment does.
"""

from __future__ import annotations

import asyncio

from scaler.refresh import CacheTiming, RefreshCache

WATCHERS = 5


async def test_a_watcher_cancelled_as_a_read_completes_stops_its_refresh_loop() -> None:
    loop = asyncio.get_running_loop()
    subscribers: dict[str, asyncio.Task[None]] = {}
    reads: dict[str, int] = {}

    async def read(key: str) -> int:
        reads[key] = reads.get(key, 0) + 1
        if reads[key] == 1:
            # Runs after the read's completion callbacks were queued, before the watch loop resumes.
            loop.call_soon(lambda: loop.call_soon(subscribers[key].cancel))
        return 1

    cache: RefreshCache[str, int] = RefreshCache(read=read, timing=CacheTiming(ttl=0.01, push_interval=0.01))

    async def subscriber(key: str) -> None:
        async with cache.watch(key) as subscription:
            while True:
                await subscription.next()

    for i in range(WATCHERS):
        key = f"source-{i}"
        subscribers[key] = asyncio.create_task(subscriber(key))
    _, pending = await asyncio.wait(subscribers.values(), timeout=0.5)
    loops = [t for t in asyncio.all_tasks() if t.get_name().startswith("watch ")]
    try:
        assert not pending, f"{len(pending)} of {WATCHERS} cancelled watchers never ended"
        assert not loops, f"{len(loops)} refresh loops still running with no subscriber"
    finally:
        await cache.close()
        leftovers = [*pending, *loops]
        for task in leftovers:
            task.cancel()
        if leftovers:
            await asyncio.wait(leftovers, timeout=1.0)
