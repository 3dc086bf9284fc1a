"""The refresh cache's contract: single flight, TTL, bounded waits, staleness, watchers; all on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from scaler.errors import UnavailableError, UpstreamError
from scaler.refresh import CLOSED, CacheTiming, RefreshCache, Snapshot, Subscription
from tests.support.clock import FakeClock


class Reader:
    def __init__(self) -> None:
        self.calls = 0
        self.value = 1
        self.error: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def __call__(self, key: str) -> int:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


NO_PHASE = 1.0
"""A de-phasing fraction of 1: the first value is fresh for the whole TTL, so read counts are exact."""


def cache(reader: Reader, clock: FakeClock, **timing: float) -> RefreshCache[str, int]:
    return RefreshCache(read=reader, timing=CacheTiming(**timing), clock=clock, phase=lambda: NO_PHASE)


def snapshot(outcome: object) -> Snapshot[int]:
    assert isinstance(outcome, Snapshot)
    return outcome


async def delivered(sub: Subscription[int], clock: FakeClock) -> object:
    """The outcome a subscriber has been sent by now; fails, rather than hangs, when there is none."""
    receiving = asyncio.ensure_future(sub.next())
    await clock.advance(0)
    if not receiving.done():
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        raise AssertionError("no outcome delivered")
    return receiving.result()


async def test_concurrent_callers_share_one_read() -> None:
    reader, clock = Reader(), FakeClock()
    c = cache(reader, clock)
    reader.gate = asyncio.Event()
    waiters = [asyncio.create_task(c.get("q", max_wait=5)) for _ in range(50)]
    await reader.started.wait()  # the read is in flight, every caller has joined it
    reader.gate.set()
    results = await asyncio.gather(*waiters)
    assert reader.calls == 1
    assert {r.value for r in results} == {1}
    await c.close()


async def test_ttl_serves_without_reading_then_refreshes() -> None:
    reader, clock = Reader(), FakeClock()
    c = cache(reader, clock, ttl=1.0)
    await c.get("q", max_wait=1)
    await clock.advance(0.9)
    await c.get("q", max_wait=1)
    assert reader.calls == 1
    await clock.advance(0.2)
    reader.value = 2
    assert (await c.get("q", max_wait=1)).value == 2
    assert reader.calls == 2
    await c.get("other", max_wait=1)
    assert reader.calls == 3
    await c.close()


async def test_failure_serves_last_good_until_stale_and_is_not_retried_within_ttl() -> None:
    reader, clock = Reader(), FakeClock()
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
    await clock.advance(5)
    assert await c.get("q", max_wait=1) == first
    calls = reader.calls
    assert await c.get("q", max_wait=1) == first  # failure remembered for a TTL: no new read
    assert reader.calls == calls
    await clock.advance(5.5)
    with pytest.raises(UnavailableError, match="HTTP 503"):
        await c.get("q", max_wait=1)
    assert len(stale) == 2
    await c.close()


async def test_no_value_ever_is_unavailable_not_zero() -> None:
    reader, clock = Reader(), FakeClock()
    reader.error = UpstreamError("connection refused")
    c = cache(reader, clock)
    with pytest.raises(UnavailableError, match="no value read yet: connection refused"):
        await c.get("q", max_wait=1)
    await c.close()


async def test_slow_read_bounded_wait_and_cache_warmed_afterwards() -> None:
    reader, clock = Reader(), FakeClock()
    c = cache(reader, clock)
    reader.gate = asyncio.Event()
    asking = asyncio.create_task(c.get("q", max_wait=0.25))
    await clock.advance(0.125)
    assert not asking.done()  # still within its bound
    await clock.advance(0.125)
    with pytest.raises(UnavailableError, match=r"no answer from upstream within 0\.25s"):
        await asking
    reader.gate.set()
    await clock.advance(0)  # no time passes; the read finishes in the background
    assert (await c.get("q", max_wait=0)).value == 1
    assert reader.calls == 1
    await c.close()


async def test_unexpected_exception_in_read_is_contained() -> None:
    reader, clock = Reader(), FakeClock()
    reader.error = RuntimeError("bug")
    c = cache(reader, clock)
    with pytest.raises(UnavailableError):
        await c.get("q", max_wait=1)
    await c.close()


async def test_watch_shares_one_loop_and_stops_with_last_subscriber() -> None:
    reader, clock = Reader(), FakeClock()
    c = cache(reader, clock, push_interval=0.25, ttl=0)
    async with c.watch("q") as a, c.watch("q") as b:
        assert c.watched == 1
        got_a, got_b = await delivered(a, clock), await delivered(b, clock)
        assert isinstance(got_a, Snapshot)
        assert isinstance(got_b, Snapshot)
        await clock.advance(0.25)  # one loop: one read per push interval, delivered to both
        assert reader.calls == 2
        assert snapshot(await delivered(a, clock)).observed_at == 1000.25
        assert snapshot(await delivered(b, clock)).observed_at == 1000.25
    assert c.watched == 0
    assert clock.timers == 0  # the loop's pause ended with it
    await c.close()


async def test_watch_delivers_unavailable_and_close_ends_subscribers() -> None:
    reader, clock = Reader(), FakeClock()
    reader.error = UpstreamError("down")
    c = cache(reader, clock, push_interval=0.01)
    async with c.watch("q") as sub:
        assert isinstance(await delivered(sub, clock), UnavailableError)
        await c.close_watches()
        outcome = await sub.next()
        while outcome is not CLOSED:
            outcome = await sub.next()
    async with c.watch("q") as late:
        assert await delivered(late, clock) is CLOSED
    await c.close()


async def test_a_watch_loop_pauses_a_fraction_of_the_interval_once_then_whole_intervals() -> None:
    reader, clock = Reader(), FakeClock()
    c = RefreshCache(read=reader, timing=CacheTiming(ttl=0, push_interval=1.0), clock=clock, phase=lambda: 0.25)
    async with c.watch("q") as sub:
        assert snapshot(await delivered(sub, clock)).observed_at == 1000.0
        await clock.advance(0.25)
        assert snapshot(await delivered(sub, clock)).observed_at == 1000.25
        await clock.advance(0.75)
        assert reader.calls == 2  # the next read is one whole interval after the second
        await clock.advance(0.25)
        assert snapshot(await delivered(sub, clock)).observed_at == 1001.25
        assert reader.calls == 3
    await c.close()


async def test_a_hung_refresh_holds_callers_only_patience_seconds_in_total() -> None:
    reader, clock = Reader(), FakeClock()
    c = cache(reader, clock, ttl=0.25, patience=0.5)
    await c.get("q", max_wait=1)
    await clock.advance(0.25)
    reader.gate = asyncio.Event()  # the next refresh hangs
    started = clock.now()

    async def ask_five_times() -> set[int]:  # like KEDA's GetMetricSpec + GetMetrics + IsActive, and more
        return {(await c.get("q", max_wait=1)).value for _ in range(5)}

    asking = asyncio.create_task(ask_five_times())
    await clock.advance(0.25)
    assert not asking.done()
    await clock.advance(0.25)
    assert asking.done()  # all five answered once the one refresh had run for `patience`, not 5 x patience
    assert await asking == {1}
    assert clock.now() - started == 0.5
    reader.gate.set()
    await c.close()


async def test_sources_first_read_together_are_spread_across_the_ttl_once() -> None:
    """KEDA asks for every source at once; the first values expire at different moments, later ones a TTL apart."""
    reader, clock = Reader(), FakeClock()
    fractions = iter([0.25, 0.75])
    c = RefreshCache(read=reader, timing=CacheTiming(ttl=1.0), clock=clock, phase=lambda: next(fractions))

    async def ask_both() -> int:
        await c.get("a", max_wait=1)
        await c.get("b", max_wait=1)
        return reader.calls

    assert await ask_both() == 2  # t = 0: both read
    await clock.advance(0.3)
    assert await ask_both() == 3  # t = 0.3: a's first value was fresh for 0.25 s, b's for 0.75 s
    await clock.advance(0.5)
    assert await ask_both() == 4  # t = 0.8: b re-read; a's second value is fresh for a whole TTL
    await clock.advance(0.45)
    assert await ask_both() == 4  # t = 1.25: neither expired
    await clock.advance(0.1)
    assert await ask_both() == 5  # t = 1.35: a, one TTL after its re-read; b is due at 1.8
    await c.close()
