"""RefreshCache: the read path every RPC takes, and the policy of when to ask upstream and what to answer meanwhile.

The single flight lives in each source's :class:`~scaler.refresh.entry.Entry`, the shared refresh loops in
:class:`~scaler.refresh.watch.Watchers`, and time behind a :class:`~scaler.refresh.clock.Clock`; what stays here is
the decision taken on every ``get``: serve the fresh value, join or start a read, wait how long, and fall back to
which value (or to ``UnavailableError``) when the read fails or is slow.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, TypeVar

from scaler.errors import UnavailableError, UpstreamError
from scaler.refresh.clock import Clock, as_clock
from scaler.refresh.entry import Entry, Snapshot
from scaler.refresh.watch import Subscription, Watchers, cancel

K = TypeVar("K")
V = TypeVar("V")

_PRUNE_EVERY = 60.0
"""Longest pause between sweeps for keys nobody asked about for ``prune_after`` (half of it when that is shorter)."""


@dataclass(frozen=True)
class CacheTiming:
    """The cache's time constants, in seconds."""

    ttl: float = 1.0
    max_staleness: float = 60.0
    push_interval: float = 1.0
    prune_after: float = 600.0
    """Forget a key nobody asked about for this long (the scaler's ``--forget-after``); a watched key stays."""
    patience: float = 0.5
    """With a usable last value, how long one refresh may keep callers waiting, all callers together."""
    throttle_backoff: float = 2.0
    """After a 429 without a retry hint, the source is not read again for this long, doubled per 429 in a row."""
    throttle_backoff_max: float = 30.0
    """The longest back-off, whatever the hint or the streak."""


def throttle_pause(hint: float | None, streak: int, timing: CacheTiming) -> float:
    """How long a throttled source waits: OCI's hint when it gave one, else the base doubled per throttled read in a
    row; never longer than the maximum (a hint of hours would silence the source past any staleness bound)."""
    wanted = hint if hint is not None else timing.throttle_backoff * 2.0 ** max(0, streak - 1)
    return min(max(wanted, 0.0), timing.throttle_backoff_max)


class RefreshCache(Generic[K, V]):
    """Shared, bounded, staleness-aware reads keyed by source reference."""

    def __init__(
        self,
        *,
        read: Callable[[K], Awaitable[V]],
        timing: CacheTiming,
        clock: Clock | Callable[[], float] = time.monotonic,
        on_stale: Callable[[], None] = lambda: None,
        on_unavailable: Callable[[], None] = lambda: None,
        on_hit: Callable[[], None] = lambda: None,
        on_miss: Callable[[], None] = lambda: None,
        phase: Callable[[], float] = random.random,
        on_forget: Callable[[K], None] = lambda key: None,
    ) -> None:
        """``clock``: a Clock, or a bare ``() -> float`` read for ``now`` while waits run on the event loop.

        ``on_hit`` / ``on_miss``: told on every ``get`` whether a fresh value was at hand (the cache hit ratio).
        ``phase`` draws the de-phasing fraction in [0, 1); tests pin it. ``on_forget`` is told every key the cache
        drops, so whatever the reader keeps per key can go with it.
        """
        self._read = read
        self._phase = phase
        self._timing = timing
        self._clock = as_clock(clock)
        self._on_stale = on_stale
        self._on_unavailable = on_unavailable
        self._on_hit = on_hit
        self._on_miss = on_miss
        self._on_forget = on_forget
        self._prune_every = min(_PRUNE_EVERY, timing.prune_after / 2)
        self._entries: dict[K, Entry[V]] = {}
        self._watchers: Watchers[K, V] = Watchers(
            get=lambda key, wait: self.get(key, max_wait=wait),
            clock=self._clock,
            interval=timing.push_interval,
            fraction=self._fraction,
        )
        self._last_prune = self._clock.now()

    @property
    def watched(self) -> int:
        return len(self._watchers)

    def __len__(self) -> int:
        """Keys with an entry (asked about within ``prune_after``, watched, or being read)."""
        return len(self._entries)

    def history(self, key: K) -> tuple[Snapshot[V], ...]:
        """Recent successful reads of ``key``, oldest first: the input of trend-based policies."""
        entry = self._entries.get(key)
        return tuple(entry.history) if entry is not None else ()

    async def get(self, key: K, *, max_wait: float) -> Snapshot[V]:
        """A value young enough to serve, waiting at most ``max_wait`` seconds for a refresh; else UnavailableError."""
        now = self._clock.now()
        self._maybe_prune(now)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = Entry()
        entry.last_used = now
        fresh = entry.fresh(now, self._timing.ttl)
        if fresh is not None:
            self._on_hit()
            return fresh
        self._on_miss()
        usable = entry.usable(now, self._timing.max_staleness)
        task = entry.inflight
        if task is None:
            if entry.failed_recently(now, self._timing.ttl) or entry.backoff_left(now) > 0:
                return self._fallback(entry, now)
            read = entry.refresh(
                key,
                read=self._read,
                clock=self._clock,
                fraction=self._fraction,
                ttl=self._timing.ttl,
                backoff=lambda hint, streak: throttle_pause(hint, streak, self._timing),
            )
            task = entry.start(read, name=f"refresh {key!r}", now=now)
        if usable is not None:
            max_wait = min(max_wait, entry.inflight_started + self._timing.patience - now)
        if not await self._clock.wait(task, max(max_wait, 0.0)):
            timed_out = UpstreamError(f"no answer from upstream within {max_wait:.2f}s")
            return self._fallback(entry, self._clock.now(), timed_out)
        if entry.last_error is None and entry.last_good is not None:
            return entry.last_good
        return self._fallback(entry, self._clock.now())

    def _fraction(self) -> float:
        """A de-phasing fraction, clamped so that no value is ever fresh for longer than the TTL."""
        return min(max(self._phase(), 0.0), 1.0)

    def _fallback(self, entry: Entry[V], now: float, error: Exception | None = None) -> Snapshot[V]:
        cause = error or entry.last_error
        good = entry.last_good
        if good is not None and now - good.observed_at <= self._timing.max_staleness:
            self._on_stale()
            return good
        self._on_unavailable()
        left = entry.backoff_left(now)
        waiting = f"; throttled, not asking again for {left:.1f}s" if left > 0 else ""
        if good is None:
            raise UnavailableError(f"no value read yet: {cause}{waiting}")
        raise UnavailableError(
            f"last good value is {now - good.observed_at:.1f}s old, over the {self._timing.max_staleness:g}s "
            f"staleness bound; latest error: {cause}{waiting}"
        )

    def _maybe_prune(self, now: float) -> None:
        if now - self._last_prune < self._prune_every:
            return
        self._last_prune = now
        for key in [
            k
            for k, e in self._entries.items()
            if e.inflight is None and k not in self._watchers and now - e.last_used > self._timing.prune_after
        ]:
            del self._entries[key]
            self._on_forget(key)

    def forget(self, key: K) -> bool:
        """Drop ``key``'s entry now, unless it is watched or being read; True if it was dropped."""
        entry = self._entries.get(key)
        if entry is None or entry.inflight is not None or key in self._watchers:
            return False
        del self._entries[key]
        self._on_forget(key)
        return True

    def watch(self, key: K) -> AbstractAsyncContextManager[Subscription[V]]:
        """Subscribe to periodic refreshes of ``key``; one refresh loop per key however many subscribers."""
        return self._watchers.watch(key)

    async def close_watches(self) -> None:
        """End every watch: subscribers receive CLOSED, refresh loops stop, new watches close at once.

        In-flight reads are left alone so unary calls still being answered during a graceful stop complete.
        """
        await self._watchers.close()

    async def close(self) -> None:
        """Close watches and cancel in-flight reads; for after the server has stopped answering."""
        await self.close_watches()
        await cancel([e.inflight for e in self._entries.values() if e.inflight is not None])
