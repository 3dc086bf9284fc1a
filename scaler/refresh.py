"""The refresh cache: one upstream read per distinct source per TTL, bounded waits, and honest staleness.

KEDA asks GetMetricSpec, GetMetrics and IsActive for every ScaledObject on every poll, and many ScaledObjects
often watch one queue. Without sharing, OCI would see one GetStats per RPC and throttle us. So every read of a
source goes through here:

* **single flight** — concurrent askers of one source await the same in-flight read;
* **TTL** — a value younger than the TTL is served without asking OCI; a failure is remembered for a TTL too,
  so a broken upstream is not hammered;
* **bounded wait** — a caller waits at most its timeout; the read itself runs on (shielded) and warms the cache.
  When a usable last value exists, a slow refresh may hold callers only ``patience`` seconds *in total* (counted
  from the refresh's start), so KEDA's GetMetricSpec + GetMetrics + IsActive do not each pay for one hung read;
* **staleness** — after a failure the last good value is served while it is younger than ``max_staleness``,
  after that callers get ``UnavailableError`` (never an invented zero);
* **push watchers** — StreamIsActive subscribers share one refresh loop per source;
* **de-phased** — KEDA polls (and opens streams for) all its ScaledObjects at once, so every source would be read
  at the same moment of every TTL for ever, each round's SDK calls contending for the GIL together: the RPC
  latency tail. Once per source, the first value is fresh for a random fraction of the TTL and a refresh loop's
  first pause is a random fraction of the push interval; from then on the reads stay spread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from scaler.errors import UnavailableError, UpstreamError

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

_HISTORY = 128
"""Successful reads kept per source for trend estimates (about two minutes at one read per second)."""


@dataclass(frozen=True)
class Snapshot(Generic[V]):
    """A value and when (on the cache's clock) the read that produced it completed."""

    value: V
    observed_at: float


@dataclass
class _Entry(Generic[V]):
    history: collections.deque[Snapshot[V]] = field(default_factory=lambda: collections.deque(maxlen=_HISTORY))
    last_good: Snapshot[V] | None = None
    last_attempt: float | None = None
    last_error: Exception | None = None
    inflight: asyncio.Task[None] | None = None
    inflight_started: float = 0.0
    last_used: float = 0.0
    fresh_for: float | None = None
    """How long the current value is fresh, when not the TTL (the first value's random fraction of it)."""


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


@dataclass(frozen=True)
class CacheTiming:
    """The cache's time constants, in seconds."""

    ttl: float = 1.0
    max_staleness: float = 60.0
    push_interval: float = 1.0
    prune_after: float = 600.0
    """Forget a source nobody asked about for this long."""
    patience: float = 0.5
    """With a usable last value, how long one refresh may keep callers waiting, all callers together."""


class RefreshCache(Generic[K, V]):
    """Shared, bounded, staleness-aware reads keyed by source reference."""

    def __init__(
        self,
        *,
        read: Callable[[K], Awaitable[V]],
        timing: CacheTiming,
        clock: Callable[[], float] = time.monotonic,
        on_stale: Callable[[], None] = lambda: None,
        on_unavailable: Callable[[], None] = lambda: None,
        phase: Callable[[], float] = random.random,
    ) -> None:
        """``phase`` draws the de-phasing fraction in [0, 1); tests pin it."""
        self._read = read
        self._phase = phase
        self._timing = timing
        self._clock = clock
        self._on_stale = on_stale
        self._on_unavailable = on_unavailable
        self._entries: dict[K, _Entry[V]] = {}
        self._watches: dict[K, _Watch[V]] = {}
        self._closed = False
        self._last_prune = clock()

    @property
    def watched(self) -> int:
        return len(self._watches)

    def history(self, key: K) -> tuple[Snapshot[V], ...]:
        """Recent successful reads of ``key``, oldest first: the input of trend-based policies."""
        entry = self._entries.get(key)
        return tuple(entry.history) if entry is not None else ()

    async def get(self, key: K, *, max_wait: float) -> Snapshot[V]:
        """A value young enough to serve, waiting at most ``max_wait`` seconds for a refresh; else UnavailableError."""
        now = self._clock()
        self._maybe_prune(now)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.last_used = now
        good = entry.last_good
        fresh_for = self._timing.ttl if entry.fresh_for is None else entry.fresh_for
        if good is not None and now - good.observed_at < fresh_for:
            return good
        if entry.inflight is None:
            recently_failed = (
                entry.last_error is not None
                and entry.last_attempt is not None
                and now - entry.last_attempt < self._timing.ttl
            )
            if recently_failed:
                return self._fallback(entry, now)
            entry.inflight = asyncio.create_task(self._refresh(key, entry), name=f"refresh {key!r}")
            entry.inflight_started = now
        task = entry.inflight
        if good is not None and now - good.observed_at <= self._timing.max_staleness:
            max_wait = min(max_wait, entry.inflight_started + self._timing.patience - now)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives as the
            # read completes, and a cancelled StreamIsActive watcher would then refresh its source for ever.
            async with asyncio.timeout(max(max_wait, 0.0)):
                await asyncio.shield(task)
        except TimeoutError:
            timed_out = UpstreamError(f"no answer from upstream within {max_wait:.2f}s")
            return self._fallback(entry, self._clock(), timed_out)
        if entry.last_error is None and entry.last_good is not None:
            return entry.last_good
        return self._fallback(entry, self._clock())

    def _fraction(self) -> float:
        """A de-phasing fraction, clamped so that no value is ever fresh for longer than the TTL."""
        return min(max(self._phase(), 0.0), 1.0)

    async def _refresh(self, key: K, entry: _Entry[V]) -> None:
        """Run one read and record its outcome; never raises, so nobody has to retrieve its exception."""
        entry.last_attempt = self._clock()
        first_fraction = self._fraction() if entry.last_good is None else None
        try:
            value = await self._read(key)
        except UpstreamError as exc:
            entry.last_error = exc
            log.warning("refresh of %r failed: %s", key, exc)
        except Exception as exc:
            entry.last_error = exc
            log.exception("refresh of %r failed unexpectedly", key)
        else:
            entry.fresh_for = None if first_fraction is None else self._timing.ttl * first_fraction
            entry.last_good = Snapshot(value=value, observed_at=self._clock())
            entry.history.append(entry.last_good)
            entry.last_error = None
        finally:
            entry.inflight = None

    def _fallback(self, entry: _Entry[V], now: float, error: Exception | None = None) -> Snapshot[V]:
        cause = error or entry.last_error
        good = entry.last_good
        if good is not None and now - good.observed_at <= self._timing.max_staleness:
            self._on_stale()
            return good
        self._on_unavailable()
        if good is None:
            raise UnavailableError(f"no value read yet: {cause}")
        raise UnavailableError(
            f"last good value is {now - good.observed_at:.1f}s old, over the {self._timing.max_staleness:g}s "
            f"staleness bound; latest error: {cause}"
        )

    def _maybe_prune(self, now: float) -> None:
        if now - self._last_prune < 60.0:
            return
        self._last_prune = now
        for key in [
            k
            for k, e in self._entries.items()
            if e.inflight is None and k not in self._watches and now - e.last_used > self._timing.prune_after
        ]:
            del self._entries[key]

    @contextlib.asynccontextmanager
    async def watch(self, key: K) -> AsyncIterator[Subscription[V]]:
        """Subscribe to periodic refreshes of ``key``; one refresh loop per key however many subscribers."""
        sub: Subscription[V] = Subscription()
        if self._closed:
            sub.offer(CLOSED)
            yield sub
            return
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch()
            watch.task = asyncio.create_task(self._watch_loop(key, watch), name=f"watch {key!r}")
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

    async def _watch_loop(self, key: K, watch: _Watch[V]) -> None:
        interval = self._timing.push_interval
        pause = interval * self._fraction()  # the first pause only: see "de-phased" above
        while True:
            outcome: Snapshot[V] | UnavailableError
            try:
                outcome = await self.get(key, max_wait=interval)
            except UnavailableError as exc:
                outcome = exc
            for sub in list(watch.subscribers):
                sub.offer(outcome)
            await asyncio.sleep(pause)
            pause = interval

    async def close_watches(self) -> None:
        """End every watch: subscribers receive CLOSED, refresh loops stop, new watches close at once.

        In-flight reads are left alone so unary calls still being answered during a graceful stop complete.
        """
        self._closed = True
        watches = list(self._watches.values())
        self._watches.clear()
        for watch in watches:
            for sub in watch.subscribers:
                sub.offer(CLOSED)
        await _cancel([w.task for w in watches if w.task is not None])

    async def close(self) -> None:
        """Close watches and cancel in-flight reads; for after the server has stopped answering."""
        await self.close_watches()
        await _cancel([e.inflight for e in self._entries.values() if e.inflight is not None])


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
