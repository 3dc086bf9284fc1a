"""The open-loop engine of both producers: follow the profile's schedule exactly and report how close it came.

The send schedule comes from the profile (:func:`load.profiles.schedule`) and never adapts to the service: a message
is never sent before its planned time and, when the producer falls behind, it catches up in larger batches rather
than stretching the run. Messages that are due while every sending slot is busy wait in line and leave together in
the next call (up to the service's per-request limits), so throughput grows with load without a fixed linger.
This module paces; load.sending delivers each batch (retries, backoff, counts); load.produce knows the services.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from load.messages import Envelope, padded
from load.profiles import Profile, schedule
from load.retry import Backoff
from load.sending import Outgoing, Sender
from load.stats import LatencyHistogram
from load.traffic import Mix, SizeDistribution

ENVELOPE_OVERHEAD = 100
"""Upper bound of a bare envelope's length (seq, sentAt, class, JSON punctuation), for request-size planning."""


@dataclass(frozen=True)
class ProduceReport:
    """What one producer run planned and achieved."""

    planned: int
    """Messages the profile plans over its whole duration."""
    sent: int
    """Messages the service accepted."""
    throttled: int
    """PutMessages calls answered 429 (each retried after a backoff; the messages were not lost)."""
    failed: int
    """Messages the service refused for good (4xx other than 429), or still failing after ``give_up_after``."""
    duration: float
    """Seconds from the start to the end of the run (at least the profile's duration unless stopped)."""
    planned_duration: float
    achieved_rate: float
    """``sent / duration``."""
    planned_rate: float
    """``planned / planned_duration``."""
    lateness_p99: float
    """99th percentile of (dispatch time − planned time), seconds."""
    lateness_p50: float = 0.0
    lateness_max: float = 0.0
    errors: int = 0
    """Calls that failed transiently (5xx, timeouts, resets) and were retried."""
    abandoned: int = 0
    """Messages waiting for a retry when the run was stopped (never accepted, so never reported as sent)."""
    unsent: int = 0
    """Planned messages not dispatched because the run was stopped."""
    calls: int = 0
    """PutMessages calls that returned a result."""
    last_planned_offset: float = 0.0
    """Planned send offset (seconds) of the last message dispatched."""
    last_sent_offset: float = 0.0
    """Offset (seconds from the start) at which the service accepted the last message."""
    stopped: bool = False
    target: str = ""


@dataclass(frozen=True)
class ProduceProgress:
    """A live snapshot, for progress lines and timelines."""

    elapsed: float
    due: int
    """Messages whose planned time has passed."""
    sent: int
    throttled: int
    failed: int
    errors: int
    in_flight: int
    """Messages dispatched and not yet accepted or failed (including those waiting for a retry)."""
    lateness_p99: float


@dataclass(frozen=True)
class Batching:
    """How due messages become one request: their class, key, channel and size, within the request's limits."""

    mix: Mix
    sizes: SizeDistribution
    keyed: bool
    """Whether messages carry a key (Streaming partitions by it)."""
    limit: int
    """Most messages per request."""
    max_bytes: int
    """Most bytes per request (keys and bodies)."""

    def take(self, due: deque[tuple[int, float]], *, wall: Callable[[], float]) -> list[Outgoing]:
        """The next batch: due ``(seq, planned)`` messages in order, within the per-request count and byte limits."""
        batch: list[Outgoing] = []
        size = 0
        while due and len(batch) < self.limit:
            seq, planned = due[0]
            cls = self.mix.class_of(seq)
            key = self.mix.key_of(seq, cls) if self.keyed else b""
            target_size = self.sizes.size_of(seq)
            cost = max(target_size, ENVELOPE_OVERHEAD) + len(key)
            if batch and size + cost > self.max_bytes:
                break
            due.popleft()
            envelope = padded(seq=seq, sent_at=wall(), cls=cls, size=target_size)
            batch.append(Outgoing(envelope, envelope.encode(), planned, self.mix.channel_of(cls), key))
            size += cost
        return batch


class Producer(abc.ABC):
    """The schedule-following engine; subclasses only know how to put one batch."""

    target = ""
    keyed = False
    """Whether messages carry a key (Streaming partitions by it)."""

    def __init__(
        self,
        *,
        profile: Profile,
        mix: Mix,
        sizes: SizeDistribution,
        executor: concurrent.futures.Executor | None,
        clock: Callable[[], float],
        wall: Callable[[], float],
        on_sent: Callable[[Envelope], None] | None,
        concurrency: int,
        batch_limit: int,
        batch_bytes: int,
        backoff: Backoff,
        seed: int | None,
    ) -> None:
        if concurrency < 1 or batch_limit < 1 or batch_bytes < 1:
            raise ValueError("concurrency, batch_limit and batch_bytes must all be >= 1")
        self._profile = profile
        self._executor = executor
        self._clock = clock
        self._wall = wall
        self._concurrency = concurrency
        self._batching = Batching(mix=mix, sizes=sizes, keyed=self.keyed, limit=batch_limit, max_bytes=batch_bytes)
        self._sender = Sender(put=self._put, clock=clock, on_sent=on_sent, backoff=backoff, seed=seed)
        self._lateness = LatencyHistogram()
        self._started: float | None = None
        self._due = 0
        self._last_planned = 0.0
        self._task_errors: list[BaseException] = []

    def progress(self) -> ProduceProgress:
        elapsed = 0.0 if self._started is None else self._clock() - self._started
        s = self._sender
        return ProduceProgress(
            elapsed=elapsed,
            due=self._due,
            sent=s.sent,
            throttled=s.throttled,
            failed=s.failed,
            errors=s.errors,
            in_flight=s.in_flight,
            lateness_p99=self._lateness.percentile(0.99),
        )

    async def run(self, stop: asyncio.Event | None = None) -> ProduceReport:
        """Follow the profile's schedule until it ends (and its duration has passed) or ``stop`` is set. Once."""
        if self._started is not None:
            raise RuntimeError("a producer runs once; create a new one for another run")
        stop = stop or asyncio.Event()
        own = self._executor is None
        executor = self._executor or concurrent.futures.ThreadPoolExecutor(
            max_workers=self._concurrency, thread_name_prefix="burst-load-put"
        )
        wake = asyncio.Event()
        stop_watch = asyncio.create_task(_set_when(stop, wake))
        offsets = schedule(self._profile)
        due: deque[tuple[int, float]] = deque()
        next_offset = next(offsets, None)
        inflight: set[asyncio.Task[None]] = set()
        start = self._started = self._clock()
        try:
            while not stop.is_set():
                wake.clear()
                now = self._clock() - start
                while next_offset is not None and next_offset <= now:
                    due.append((self._due, next_offset))
                    self._due += 1
                    next_offset = next(offsets, None)
                if due and len(inflight) < self._concurrency:
                    task = asyncio.create_task(self._sender.deliver(self._take(due, now), executor, stop, start))
                    inflight.add(task)
                    task.add_done_callback(lambda done: self._finished(done, inflight, wake))
                    continue
                if next_offset is None and not due:
                    break
                await _wait(wake, None if due or next_offset is None else next_offset - now)
            if inflight:
                await asyncio.wait(set(inflight))
            while True:  # an open-loop run lasts its planned duration, even when the last send came earlier
                wake.clear()
                remaining = start + self._profile.duration - self._clock()
                if stop.is_set() or remaining <= 0:
                    break
                await _wait(wake, remaining)
        finally:
            stop_watch.cancel()
            for task in inflight:
                task.cancel()
            if own:
                executor.shutdown(wait=False, cancel_futures=True)
        if self._task_errors:
            raise self._task_errors[0]
        unsent = len(due) + (0 if next_offset is None else 1 + sum(1 for _ in offsets))
        return self._report(self._clock() - start, unsent=unsent, stopped=stop.is_set())

    def _finished(self, task: asyncio.Task[None], inflight: set[asyncio.Task[None]], wake: asyncio.Event) -> None:
        inflight.discard(task)
        wake.set()
        if not task.cancelled() and task.exception() is not None:
            self._task_errors.append(task.exception())  # type: ignore[arg-type]

    def _take(self, due: deque[tuple[int, float]], now: float) -> list[Outgoing]:
        batch = self._batching.take(due, wall=self._wall)
        for item in batch:
            self._lateness.add(now - item.planned)
            self._last_planned = item.planned
        return batch

    @abc.abstractmethod
    def _put(self, batch: Sequence[Outgoing]) -> list[int | None]:
        """One PutMessages call (in a worker thread): per message, None if accepted, else an HTTP status."""

    def _report(self, duration: float, *, unsent: int, stopped: bool) -> ProduceReport:
        planned = self._due + unsent
        planned_duration = self._profile.duration
        s = self._sender
        return ProduceReport(
            planned=planned,
            sent=s.sent,
            throttled=s.throttled,
            failed=s.failed,
            duration=duration,
            planned_duration=planned_duration,
            achieved_rate=s.sent / duration if duration > 0 else 0.0,
            planned_rate=planned / planned_duration if planned_duration > 0 else 0.0,
            lateness_p99=self._lateness.percentile(0.99),
            lateness_p50=self._lateness.percentile(0.5),
            lateness_max=self._lateness.maximum,
            errors=s.errors,
            abandoned=s.abandoned,
            unsent=unsent,
            calls=s.calls,
            last_planned_offset=self._last_planned,
            last_sent_offset=s.last_sent,
            stopped=stopped,
            target=self.target,
        )


async def _set_when(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def _wait(wake: asyncio.Event, seconds: float | None) -> None:
    """Until ``wake`` is set or ``seconds`` pass (None: no limit); a timer, not a task, so cheap at high rates."""
    if wake.is_set() or (seconds is not None and seconds <= 0):
        return
    handle = None if seconds is None else asyncio.get_running_loop().call_later(seconds, wake.set)
    try:
        await wake.wait()
    finally:
        if handle is not None:
            handle.cancel()
