"""One source's entry in the refresh cache: its recent values, its last failure, and its single in-flight read.

Keeping a source's state and its one read together is what makes the read single-flight: whoever asks while a read
runs finds it here and awaits it instead of starting another, and the read records its own outcome, so it warms the
cache even when every caller has stopped waiting.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from scaler.errors import ThrottledError, UpstreamError
from scaler.refresh.clock import Clock

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)

_HISTORY = 400
"""Successful reads kept per source for trends and a spill-over group's sustained need (over six minutes at one
read per second: two windows of the longest ``holdSeconds``)."""


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[V_co]):
    """A value and when (on the cache's clock) the read that produced it completed (read-only, hence covariant: a
    snapshot of a queue reading is a snapshot of any reading)."""

    value: V_co
    observed_at: float


@dataclass
class Entry(Generic[V]):
    """What the cache knows about one source, and the read (at most one) running for it."""

    history: collections.deque[Snapshot[V]] = field(default_factory=lambda: collections.deque(maxlen=_HISTORY))
    last_good: Snapshot[V] | None = None
    last_attempt: float | None = None
    last_error: Exception | None = None
    inflight: asyncio.Task[None] | None = None
    inflight_started: float = 0.0
    last_used: float = 0.0
    fresh_for: float | None = None
    """How long the current value is fresh, when not the TTL (the first value's random fraction of it)."""
    throttled: int = 0
    """Reads throttled (429) in a row; the back-off grows with it."""
    backoff_until: float | None = None
    """After a throttled read: upstream is not asked again before this time."""

    def fresh(self, now: float, ttl: float) -> Snapshot[V] | None:
        """The last value, if it is young enough to serve without asking upstream."""
        good = self.last_good
        fresh_for = ttl if self.fresh_for is None else self.fresh_for
        return good if good is not None and now - good.observed_at < fresh_for else None

    def failed_recently(self, now: float, ttl: float) -> bool:
        """The last read failed less than a TTL ago: do not ask a broken upstream again yet."""
        return self.last_error is not None and self.last_attempt is not None and now - self.last_attempt < ttl

    def backoff_left(self, now: float) -> float:
        """Seconds until a throttled source may be asked again; 0 when it may be asked now."""
        return max(0.0, self.backoff_until - now) if self.backoff_until is not None else 0.0

    def usable(self, now: float, max_staleness: float) -> Snapshot[V] | None:
        """The last good value, if it is still young enough to serve in place of a failed or slow read."""
        good = self.last_good
        return good if good is not None and now - good.observed_at <= max_staleness else None

    def start(self, refresh: Coroutine[Any, Any, None], *, name: str, now: float) -> asyncio.Task[None]:
        """Run ``refresh`` (this entry's :meth:`refresh`) as the one in-flight read that every asker awaits."""
        self.inflight = task = asyncio.create_task(refresh, name=name)
        self.inflight_started = now
        return task

    async def refresh(
        self,
        key: K,
        *,
        read: Callable[[K], Awaitable[V]],
        clock: Clock,
        fraction: Callable[[], float],
        ttl: float,
        backoff: Callable[[float | None, int], float],
    ) -> None:
        """Run one read and record its outcome; never raises, so nobody has to retrieve its exception.

        The first value of a source is fresh for ``ttl`` times a de-phasing ``fraction``; later ones for the TTL.
        A throttled read opens a back-off of ``backoff(retry hint, throttled reads in a row)`` seconds.
        """
        self.last_attempt = clock.now()
        first_fraction = fraction() if self.last_good is None else None
        try:
            value = await read(key)
        except ThrottledError as exc:
            self.last_error = exc
            self.throttled += 1
            pause = backoff(exc.retry_after, self.throttled)
            self.backoff_until = clock.now() + pause
            log.warning(
                "refresh of %r throttled (%d in a row); not asking again for %.1fs: %s", key, self.throttled, pause, exc
            )
        except UpstreamError as exc:
            self.last_error = exc
            log.warning("refresh of %r failed: %s", key, exc)
        except Exception as exc:
            self.last_error = exc
            log.exception("refresh of %r failed unexpectedly", key)
        else:
            self.fresh_for = None if first_fraction is None else ttl * first_fraction
            self.last_good = Snapshot(value=value, observed_at=clock.now())
            self.history.append(self.last_good)
            self.last_error = None
            self.throttled, self.backoff_until = 0, None
        finally:
            self.inflight = None
