"""The refresh cache's contract: single flight, TTL, bounded waits, staleness, watchers."""

from __future__ import annotations

import asyncio

import pytest

from scaler.errors import UnavailableError, UpstreamError
from scaler.refresh import CLOSED, CacheTiming, RefreshCache, Snapshot
from tests.support.fakes import ManualClock


class Reader:
    def __init__(self) -> None:
        self.calls = 0
        self.value = 1
        self.error: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def __call__(self, key: str) -> int:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


NO_PHASE = 1.0
"""A de-phasing fraction of 1: the first value is fresh for the whole TTL, so read counts are exact."""


def cache(reader: Reader, clock: ManualClock, **timing: float) -> RefreshCache[str, int]:
    return RefreshCache(read=reader, timing=CacheTiming(**timing), clock=clock, phase=lambda: NO_PHASE)


async def test_concurrent_callers_share_one_read() -> None:
    reader, clock = Reader(), ManualClock()
    c = cache(reader, clock)
    reader.gate = asyncio.Event()
    waiters = [asyncio.create_task(c.get("q", max_wait=5)) for _ in range(50)]
    await asyncio.sleep(0)
    reader.gate.set()
    results = await asyncio.gather(*waiters)
    assert reader.calls == 1
    assert {r.value for r in results} == {1}
    await c.close()


async def test_ttl_serves_without_reading_then_refreshes() -> None:
    reader, clock = Reader(), ManualClock()
    c = cache(reader, clock, ttl=1.0)
    await c.get("q", max_wait=1)
    clock.advance(0.9)
    await c.get("q", max_wait=1)
    assert reader.calls == 1
    clock.advance(0.2)
    reader.value = 2
    assert (await c.get("q", max_wait=1)).value == 2
    assert reader.calls == 2
    await c.get("other", max_wait=1)
    assert reader.calls == 3
    await c.close()


async def test_failure_serves_last_good_until_stale_and_is_not_retried_within_ttl() -> None:
    reader, clock = Reader(), ManualClock()
    stale: list[int] = []
    c = RefreshCache(
        read=reader,
        timing=CacheTiming(ttl=1, max_staleness=10),
        clock=clock,
        on_stale=lambda: stale.append(1),
        phase=lambda: NO_PHASE,
    )
    first = await c.get("q", max_wait=1)
    reader.error = UpstreamError("HTTP 503")
    clock.advance(5)
    assert await c.get("q", max_wait=1) == first
    calls = reader.calls
    assert await c.get("q", max_wait=1) == first  # failure remembered for a TTL: no new read
    assert reader.calls == calls
    clock.advance(5.5)
    with pytest.raises(UnavailableError, match="HTTP 503"):
        await c.get("q", max_wait=1)
    assert len(stale) == 2
    await c.close()


async def test_no_value_ever_is_unavailable_not_zero() -> None:
    reader, clock = Reader(), ManualClock()
    reader.error = UpstreamError("connection refused")
    c = cache(reader, clock)
    with pytest.raises(UnavailableError, match="no value read yet: connection refused"):
        await c.get("q", max_wait=1)
    await c.close()


async def test_slow_read_bounded_wait_and_cache_warmed_afterwards() -> None:
    reader, clock = Reader(), ManualClock()
    c = cache(reader, clock)
    reader.gate = asyncio.Event()
    with pytest.raises(UnavailableError, match=r"no answer from upstream within 0\.05s"):
        await c.get("q", max_wait=0.05)
    reader.gate.set()
    await asyncio.sleep(0.01)
    assert (await c.get("q", max_wait=0)).value == 1  # the read finished in the background
    assert reader.calls == 1
    await c.close()


async def test_unexpected_exception_in_read_is_contained() -> None:
    reader, clock = Reader(), ManualClock()
    reader.error = RuntimeError("bug")
    c = cache(reader, clock)
    with pytest.raises(UnavailableError):
        await c.get("q", max_wait=1)
    await c.close()


async def test_watch_shares_one_loop_and_stops_with_last_subscriber() -> None:
    reader, clock = Reader(), ManualClock()
    c = cache(reader, clock, push_interval=0.01, ttl=0)
    async with c.watch("q") as a, c.watch("q") as b:
        assert c.watched == 1
        got_a, got_b = await a.next(), await b.next()
        assert isinstance(got_a, Snapshot)
        assert isinstance(got_b, Snapshot)
    assert c.watched == 0
    await c.close()


async def test_watch_delivers_unavailable_and_close_ends_subscribers() -> None:
    reader, clock = Reader(), ManualClock()
    reader.error = UpstreamError("down")
    c = cache(reader, clock, push_interval=0.01)
    async with c.watch("q") as sub:
        assert isinstance(await sub.next(), UnavailableError)
        await c.close_watches()
        outcome = await sub.next()
        while outcome is not CLOSED:
            outcome = await sub.next()
    async with c.watch("q") as late:
        assert await late.next() is CLOSED
    await c.close()


async def test_a_hung_refresh_holds_callers_only_patience_seconds_in_total() -> None:
    reader = Reader()
    c: RefreshCache[str, int] = RefreshCache(read=reader, timing=CacheTiming(ttl=0.01, patience=0.2))
    await c.get("q", max_wait=1)
    await asyncio.sleep(0.02)
    reader.gate = asyncio.Event()  # the next refresh hangs
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(5):  # like KEDA's GetMetricSpec + GetMetrics + IsActive, and more
        assert (await c.get("q", max_wait=1)).value == 1
    assert loop.time() - started < 0.5
    reader.gate.set()
    await c.close()


async def test_sources_first_read_together_are_spread_across_the_ttl_once() -> None:
    """KEDA asks for every source at once; the first values expire at different moments, later ones a TTL apart."""
    reader, clock = Reader(), ManualClock()
    fractions = iter([0.25, 0.75])
    c = RefreshCache(read=reader, timing=CacheTiming(ttl=1.0), clock=clock, phase=lambda: next(fractions))

    async def ask_both() -> int:
        await c.get("a", max_wait=1)
        await c.get("b", max_wait=1)
        return reader.calls

    assert await ask_both() == 2  # t = 0: both read
    clock.advance(0.3)
    assert await ask_both() == 3  # t = 0.3: a's first value was fresh for 0.25 s, b's for 0.75 s
    clock.advance(0.5)
    assert await ask_both() == 4  # t = 0.8: b re-read; a's second value is fresh for a whole TTL
    clock.advance(0.45)
    assert await ask_both() == 4  # t = 1.25: neither expired
    clock.advance(0.1)
    assert await ask_both() == 5  # t = 1.35: a, one TTL after its re-read; b is due at 1.8
    await c.close()
