"""Open-loop producers for OCI Queue and OCI Streaming: send exactly the planned load, report how close it came.

The send schedule comes from the profile (:func:`load.profiles.schedule`) and never adapts to the service: a message
is never sent before its planned time and, when the producer falls behind, it catches up in larger batches rather
than stretching the run. Messages that are due while every sending slot is busy wait in line and leave together in
the next call (up to the service's per-request limits), so throughput grows with load without a fixed linger.

The SDK is synchronous; calls run in a thread pool (a shared one may be passed in) with at most ``concurrency``
requests in flight, and the event loop only schedules. Throttling (429) is expected under a burst: the batch is
retried after an exponential, jittered backoff and the refusal is counted; nothing is dropped. On ``stop`` the
producer stops dispatching, lets in-flight calls finish, and reports planned messages it never sent (``unsent``)
and batches it gave up retrying (``abandoned``) separately from ``failed`` (refused by the service).
"""

from __future__ import annotations

import abc
import asyncio
import base64
import concurrent.futures
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import oci

from load.messages import Envelope, padded
from load.profiles import Profile, schedule
from load.retry import Backoff, Failure, classify, describe_error, no_retry, status_of
from load.stats import LatencyHistogram
from load.traffic import Mix, SizeDistribution

__all__ = [
    "QUEUE_MAX_MESSAGES_PER_PUT",
    "QUEUE_MAX_MESSAGE_BYTES",
    "STREAM_MAX_MESSAGES_PER_PUT",
    "STREAM_MAX_MESSAGE_BYTES",
    "STREAM_MAX_REQUEST_BYTES",
    "Mix",
    "ProduceProgress",
    "ProduceReport",
    "QueueProducer",
    "SizeDistribution",
    "StreamProducer",
]

log = logging.getLogger(__name__)

MIB = 1024 * 1024
QUEUE_MAX_MESSAGES_PER_PUT = 20
"""Messages per Queue PutMessages call (the emulator's default limit; OCI does not publish one)."""
QUEUE_MAX_MESSAGE_BYTES = 128 * 1024
"""OCI Queue's standard message limit (512 KiB needs the LARGE_MESSAGES capability)."""
QUEUE_MAX_REQUEST_BYTES = 2 * MIB
STREAM_MAX_REQUEST_BYTES = MIB
"""OCI Streaming: at most 1 MiB of keys and values (after base64 decoding) per PutMessages request."""
STREAM_MAX_MESSAGE_BYTES = MIB - 256
"""The largest value that still fits one request next to the largest key (256 bytes)."""
STREAM_MAX_MESSAGES_PER_PUT = 500
_ENVELOPE_OVERHEAD = 100
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
class _Outgoing:
    envelope: Envelope
    body: str
    planned: float
    channel: str | None
    key: bytes


class _Producer(abc.ABC):
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
        self._mix = mix
        self._sizes = sizes
        self._executor = executor
        self._clock = clock
        self._wall = wall
        self._on_sent = on_sent
        self._concurrency = concurrency
        self._batch_limit = batch_limit
        self._batch_bytes = batch_bytes
        self._backoff = backoff
        self._rng = random.Random(seed)
        self._lateness = LatencyHistogram()
        self._started: float | None = None
        self._due = self._sent = self._throttled = self._failed = self._errors = 0
        self._abandoned = self._calls = self._in_flight = 0
        self._last_planned = self._last_sent = 0.0
        self._task_errors: list[BaseException] = []

    # ----------------------------------------------------------------------------------------------- public

    def progress(self) -> ProduceProgress:
        elapsed = 0.0 if self._started is None else self._clock() - self._started
        return ProduceProgress(
            elapsed=elapsed,
            due=self._due,
            sent=self._sent,
            throttled=self._throttled,
            failed=self._failed,
            errors=self._errors,
            in_flight=self._in_flight,
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
                    task = asyncio.create_task(self._deliver(self._take(due, now), executor, stop, start))
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

    # ----------------------------------------------------------------------------------------------- engine

    def _finished(self, task: asyncio.Task[None], inflight: set[asyncio.Task[None]], wake: asyncio.Event) -> None:
        inflight.discard(task)
        wake.set()
        if not task.cancelled() and task.exception() is not None:
            self._task_errors.append(task.exception())  # type: ignore[arg-type]

    def _take(self, due: deque[tuple[int, float]], now: float) -> list[_Outgoing]:
        """The next batch: due messages in order, within the per-request count and byte limits."""
        batch: list[_Outgoing] = []
        size = 0
        while due and len(batch) < self._batch_limit:
            seq, planned = due[0]
            cls = self._mix.class_of(seq)
            key = self._mix.key_of(seq, cls) if self.keyed else b""
            target_size = self._sizes.size_of(seq)
            cost = max(target_size, _ENVELOPE_OVERHEAD) + len(key)
            if batch and size + cost > self._batch_bytes:
                break
            due.popleft()
            envelope = padded(seq=seq, sent_at=self._wall(), cls=cls, size=target_size)
            batch.append(_Outgoing(envelope, envelope.encode(), planned, self._mix.channel_of(cls), key))
            size += cost
            self._lateness.add(now - planned)
            self._last_planned = planned
        self._in_flight += len(batch)
        return batch

    async def _deliver(
        self, batch: list[_Outgoing], executor: concurrent.futures.Executor, stop: asyncio.Event, start: float
    ) -> None:
        loop = asyncio.get_running_loop()
        pending = batch
        first = self._clock()
        attempt = 0
        try:
            while pending:
                retry: list[_Outgoing] = []
                try:
                    statuses = await loop.run_in_executor(executor, self._put, pending)
                except Exception as exc:
                    kind = classify(exc)
                    if kind is Failure.FATAL:
                        log.error(
                            "PutMessages failed for %d messages, not retrying: %s", len(pending), describe_error(exc)
                        )
                        self._failed += len(pending)
                        return
                    if kind is Failure.THROTTLED:
                        self._throttled += 1
                    else:
                        self._errors += 1
                        log.warning("PutMessages failed, retrying: %s", describe_error(exc))
                    retry = pending
                else:
                    self._calls += 1
                    retry = self._settle(pending, statuses, start)
                if not retry:
                    return
                if stop.is_set():
                    self._abandoned += len(retry)
                    return
                if self._clock() - first > self._backoff.give_up_after:
                    log.error(
                        "%d messages still refused after %.0f s of retries; counted as failed",
                        len(retry),
                        self._backoff.give_up_after,
                    )
                    self._failed += len(retry)
                    return
                await _wait_stop(stop, self._backoff.delay(attempt, self._rng))
                attempt += 1
                if stop.is_set():
                    self._abandoned += len(retry)
                    return
                pending = retry
        finally:
            self._in_flight -= len(batch)

    def _settle(self, pending: Sequence[_Outgoing], statuses: Sequence[int | None], start: float) -> list[_Outgoing]:
        """Record per-message outcomes; returns the messages to retry."""
        retry: list[_Outgoing] = []
        throttled = False
        for item, status in zip(pending, statuses, strict=True):
            if status is None:
                self._sent += 1
                self._last_sent = self._clock() - start
                if self._on_sent is not None:
                    self._on_sent(item.envelope)
            elif status == 429 or status >= 500 or status == 0:
                throttled = throttled or status == 429
                retry.append(item)
            else:
                log.error("message %d refused by the service (HTTP %d); not retrying", item.envelope.seq, status)
                self._failed += 1
        if throttled:
            self._throttled += 1
        elif retry:
            self._errors += 1
        return retry

    @abc.abstractmethod
    def _put(self, batch: Sequence[_Outgoing]) -> list[int | None]:
        """One PutMessages call (in a worker thread): per message, None if accepted, else an HTTP status."""

    def _report(self, duration: float, *, unsent: int, stopped: bool) -> ProduceReport:
        planned = self._due + unsent
        planned_duration = self._profile.duration
        return ProduceReport(
            planned=planned,
            sent=self._sent,
            throttled=self._throttled,
            failed=self._failed,
            duration=duration,
            planned_duration=planned_duration,
            achieved_rate=self._sent / duration if duration > 0 else 0.0,
            planned_rate=planned / planned_duration if planned_duration > 0 else 0.0,
            lateness_p99=self._lateness.percentile(0.99),
            lateness_p50=self._lateness.percentile(0.5),
            lateness_max=self._lateness.maximum,
            errors=self._errors,
            abandoned=self._abandoned,
            unsent=unsent,
            calls=self._calls,
            last_planned_offset=self._last_planned,
            last_sent_offset=self._last_sent,
            stopped=stopped,
            target=self.target,
        )


class QueueProducer(_Producer):
    """Puts the profile's messages into one OCI Queue; each class goes to its channel (``Mix``)."""

    target = "queue"

    def __init__(
        self,
        *,
        client: Any,
        queue_id: str,
        profile: Profile,
        mix: Mix | None = None,
        sizes: SizeDistribution | None = None,
        executor: concurrent.futures.Executor | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        on_sent: Callable[[Envelope], None] | None = None,
        concurrency: int = 4,
        batch_limit: int = QUEUE_MAX_MESSAGES_PER_PUT,
        batch_bytes: int = QUEUE_MAX_REQUEST_BYTES,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> None:
        """``client``: an ``oci.queue.QueueClient`` on the queue's messages endpoint."""
        super().__init__(
            profile=profile,
            mix=mix or Mix(),
            sizes=sizes or SizeDistribution(),
            executor=executor,
            clock=clock,
            wall=wall,
            on_sent=on_sent,
            concurrency=concurrency,
            batch_limit=batch_limit,
            batch_bytes=batch_bytes,
            backoff=backoff or Backoff(),
            seed=seed,
        )
        self._client = client
        self._queue_id = queue_id

    def _put(self, batch: Sequence[_Outgoing]) -> list[int | None]:
        models = oci.queue.models
        entries = [
            models.PutMessagesDetailsEntry(
                content=item.body,
                metadata=models.MessageMetadata(channel_id=item.channel) if item.channel else None,
            )
            for item in batch
        ]
        self._client.put_messages(
            self._queue_id, models.PutMessagesDetails(messages=entries), retry_strategy=no_retry()
        )
        return [None] * len(batch)  # Queue PutMessages is all or nothing


class StreamProducer(_Producer):
    """Puts the profile's messages into one OCI Stream, keyed by class (``Mix.key_of``)."""

    target = "stream"
    keyed = True

    def __init__(
        self,
        *,
        client: Any,
        stream_id: str,
        profile: Profile,
        mix: Mix | None = None,
        sizes: SizeDistribution | None = None,
        executor: concurrent.futures.Executor | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        on_sent: Callable[[Envelope], None] | None = None,
        concurrency: int = 4,
        batch_limit: int = STREAM_MAX_MESSAGES_PER_PUT,
        batch_bytes: int = STREAM_MAX_REQUEST_BYTES,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> None:
        """``client``: an ``oci.streaming.StreamClient`` on the stream's messages endpoint."""
        super().__init__(
            profile=profile,
            mix=mix or Mix(),
            sizes=sizes or SizeDistribution(),
            executor=executor,
            clock=clock,
            wall=wall,
            on_sent=on_sent,
            concurrency=concurrency,
            batch_limit=batch_limit,
            batch_bytes=batch_bytes,
            backoff=backoff or Backoff(),
            seed=seed,
        )
        self._client = client
        self._stream_id = stream_id

    def _put(self, batch: Sequence[_Outgoing]) -> list[int | None]:
        models = oci.streaming.models
        entries = [
            models.PutMessagesDetailsEntry(
                key=base64.b64encode(item.key).decode() if item.key else None,
                value=base64.b64encode(item.body.encode()).decode(),
            )
            for item in batch
        ]
        result = self._client.put_messages(
            self._stream_id, models.PutMessagesDetails(messages=entries), retry_strategy=no_retry()
        ).data
        outcomes: list[int | None] = [
            None if getattr(entry, "error", None) is None else status_of(entry.error)
            for entry in (getattr(result, "entries", None) or [])
        ]
        if len(outcomes) != len(batch):  # a malformed answer: retry the lot rather than guess
            log.warning("PutMessages answered %d entries for %d messages; retrying them", len(outcomes), len(batch))
            return [500] * len(batch)
        return outcomes


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


async def _wait_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
