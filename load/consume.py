"""Reference consumers for OCI Queue and OCI Streaming: what the scaled Deployments run during a burst test.

They do what a well-behaved production consumer does, with the work itself simulated (``await asyncio.sleep`` per
message class, so dozens of consumers share one event loop and one small thread pool):

- **Queue**: long-poll GetMessages, work, DeleteMessages; while a batch is being worked on, UpdateMessages keeps it
  invisible (work longer than the visibility timeout would otherwise be delivered twice). A message counts as
  processed only once its delete succeeded.
- **Streaming**: a consumer-group cursor (``commitOnGet`` off), work, then ConsumerCommit of the batch; a heartbeat
  keeps the partitions reserved while a long batch is worked on. A message counts as processed once committed.

Graceful stop (SIGTERM in a pod, a scale-down in the harness) never loses a message. Queue: the message being worked
on is finished, the rest of the batch is released at once (UpdateMessages visibility 0) for other consumers, and the
finished ones are deleted. Streaming: a commit covers a whole batch (a group cursor cannot commit part of one), so
the batch in hand is finished and committed. Either way every message is processed-and-acknowledged or available
again; at-least-once, so a message may be processed twice (after a visibility timeout or a rebalance), never zero
times.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import oci

from load.messages import HEAVY, LIGHT, Envelope, EnvelopeError
from load.retry import Backoff, Failure, classify, describe_error, no_retry, short_retry_strategy
from load.stats import LatencyHistogram

log = logging.getLogger(__name__)

T = TypeVar("T")

QUEUE_MAX_GET_LIMIT = 32
QUEUE_MAX_BATCH_ENTRIES = 32
STREAM_GETS_PER_SECOND = 5
"""OCI Streaming allows 5 GetMessages per second per partition and consumer group."""


@dataclass(frozen=True)
class WorkModel:
    """Simulated work time per message class (seconds), optionally varied by ``± jitter`` (a fraction)."""

    seconds: Mapping[str, float] = field(default_factory=lambda: {HEAVY: 0.2, LIGHT: 0.02})
    jitter: float = 0.0

    def __post_init__(self) -> None:
        problems = [f"work seconds for {cls!r} must be >= 0, got {s}" for cls, s in self.seconds.items() if s < 0]
        if not 0 <= self.jitter <= 1:
            problems.append(f"jitter must be between 0 and 1, got {self.jitter}")
        if problems:
            raise ValueError("; ".join(problems))

    def time_for(self, cls: str, rng: random.Random) -> float:
        """Work seconds for one message; an unknown class takes the lightest known class's time."""
        base = self.seconds.get(cls, min(self.seconds.values(), default=0.0))
        if self.jitter and base:
            base *= 1 + rng.uniform(-self.jitter, self.jitter)
        return max(0.0, base)


@dataclass(frozen=True)
class Processed:
    """One message processed and acknowledged (deleted / committed)."""

    seq: int
    cls: str
    sent_at: float
    done_at: float
    deliveries: int = 1
    """Queue: the message's delivery count (> 1: it was delivered before). Streaming: always 1."""


@dataclass(frozen=True)
class ConsumeReport:
    """What one consumer (or several, merged) did."""

    processed: int
    released: int
    """Queue: in-flight messages handed back on stop (visibility 0)."""
    latency_p50: float
    """Send time → done (acknowledged), seconds; over processed messages."""
    latency_p95: float
    latency_p99: float
    latency_max: float = 0.0
    latency_mean: float = 0.0
    received: int = 0
    """Messages delivered to this consumer (including ones released or whose ack failed)."""
    receives: int = 0
    """GetMessages calls."""
    extended: int = 0
    """Queue: visibility extensions (UpdateMessages entries) for batches worked on longer than half the timeout."""
    ack_failures: int = 0
    """Deletes or commits that failed; those messages are delivered again (never lost)."""
    redelivered: int = 0
    """Queue: processed messages whose delivery count was above 1."""
    foreign: int = 0
    """Messages that were not burst-load envelopes (acknowledged without simulated work)."""
    throttled: int = 0
    errors: int = 0
    commits: int = 0
    duration: float = 0.0
    rate: float = 0.0

    @classmethod
    def merge(cls, reports: Sequence[ConsumeReport], histogram: LatencyHistogram, duration: float) -> ConsumeReport:
        """Totals of several consumers, with percentiles from their pooled latencies."""

        def total(name: str) -> int:
            return sum(int(getattr(report, name)) for report in reports)

        processed = total("processed")
        return cls(
            processed=processed,
            released=total("released"),
            latency_p50=histogram.percentile(0.5),
            latency_p95=histogram.percentile(0.95),
            latency_p99=histogram.percentile(0.99),
            latency_max=histogram.maximum,
            latency_mean=histogram.mean,
            received=total("received"),
            receives=total("receives"),
            extended=total("extended"),
            ack_failures=total("ack_failures"),
            redelivered=total("redelivered"),
            foreign=total("foreign"),
            throttled=total("throttled"),
            errors=total("errors"),
            commits=total("commits"),
            duration=duration,
            rate=processed / duration if duration > 0 else 0.0,
        )


class ConsumeError(RuntimeError):
    """The consumer cannot continue (the queue or stream is gone, or access is denied)."""


@dataclass
class _Delivery:
    receipt: str
    envelope: Envelope | None
    deliveries: int = 1


class _Consumer:
    """Counting, latency and SDK-call plumbing shared by both consumers."""

    def __init__(
        self,
        *,
        work: WorkModel,
        executor: concurrent.futures.Executor | None,
        on_processed: Callable[[Processed], None] | None,
        wall: Callable[[], float],
        clock: Callable[[], float],
        concurrency: int,
        backoff: Backoff,
        seed: int | None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self._work = work
        self._executor = executor
        self._on_processed = on_processed
        self._wall = wall
        self._clock = clock
        self._concurrency = concurrency
        self._backoff = backoff
        self._rng = random.Random(seed)
        self.latencies = LatencyHistogram()
        """Send → done latencies of this consumer's processed messages (read by the CLI to pool consumers)."""
        self._started: float | None = None
        self._counts: dict[str, int] = dict.fromkeys(
            (
                "processed",
                "released",
                "received",
                "receives",
                "extended",
                "ack_failures",
                "redelivered",
                "foreign",
                "throttled",
                "errors",
                "commits",
            ),
            0,
        )
        self._failures_in_row = 0

    @property
    def processed(self) -> int:
        return self._counts["processed"]

    @property
    def received(self) -> int:
        return self._counts["received"]

    def report(self) -> ConsumeReport:
        """The counts so far (also valid while running)."""
        duration = 0.0 if self._started is None else self._clock() - self._started
        h = self.latencies
        return ConsumeReport(
            latency_p50=h.percentile(0.5),
            latency_p95=h.percentile(0.95),
            latency_p99=h.percentile(0.99),
            latency_max=h.maximum,
            latency_mean=h.mean,
            duration=duration,
            rate=self.processed / duration if duration > 0 else 0.0,
            **self._counts,
        )

    async def _call(self, executor: concurrent.futures.Executor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(executor, fn)

    async def _failed(self, exc: Exception, what: str, stop: asyncio.Event) -> None:
        """Count a failed call and back off; raise ConsumeError when retrying cannot help."""
        kind = classify(exc)
        if kind is Failure.FATAL:
            raise ConsumeError(f"{what} failed: {describe_error(exc)}") from exc
        if kind is Failure.THROTTLED:
            self._counts["throttled"] += 1
        else:
            self._counts["errors"] += 1
            log.warning("%s failed, retrying: %s", what, describe_error(exc))
        delay = self._backoff.delay(self._failures_in_row, self._rng)
        self._failures_in_row += 1
        await _sleep_unless(stop, delay)

    async def _work_on(self, items: Sequence[_Delivery], stop: asyncio.Event, *, finish_all: bool) -> list[bool]:
        """Simulate the work; with ``finish_all`` False, messages not started when ``stop`` is set are skipped."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(item: _Delivery) -> bool:
            async with gate:
                if stop.is_set() and not finish_all:
                    return False
                if item.envelope is not None:
                    await asyncio.sleep(self._work.time_for(item.envelope.cls, self._rng))
                return True

        return list(await asyncio.gather(*(one(item) for item in items)))

    def _done(self, item: _Delivery, done_at: float) -> None:
        self._counts["processed"] += 1
        envelope = item.envelope
        if envelope is None:
            self._counts["foreign"] += 1
            return
        if item.deliveries > 1:
            self._counts["redelivered"] += 1
        self.latencies.add(done_at - envelope.sent_at)
        if self._on_processed is not None:
            self._on_processed(
                Processed(
                    seq=envelope.seq,
                    cls=envelope.cls,
                    sent_at=envelope.sent_at,
                    done_at=done_at,
                    deliveries=item.deliveries,
                )
            )

    def _own_executor(self) -> tuple[concurrent.futures.Executor, bool]:
        if self._executor is not None:
            return self._executor, False
        return concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="burst-load-consume"), True


def _decode(body: str | bytes | None) -> Envelope | None:
    if body is None:
        return None
    try:
        return Envelope.decode(body)
    except EnvelopeError as exc:
        log.warning("acknowledging a message that is not a burst-load envelope: %s", exc)
        return None


class QueueConsumer(_Consumer):
    """One consumer of one OCI Queue (optionally one channel)."""

    def __init__(
        self,
        *,
        client: Any,
        queue_id: str,
        work: WorkModel | None = None,
        channel: str | None = None,
        batch: int = 10,
        visibility_seconds: int = 30,
        long_poll_seconds: int = 1,
        executor: concurrent.futures.Executor | None = None,
        on_processed: Callable[[Processed], None] | None = None,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        concurrency: int = 1,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> None:
        """``client``: an ``oci.queue.QueueClient`` on the queue's messages endpoint.

        ``batch`` messages per GetMessages (1..32); ``visibility_seconds`` how long a delivery stays hidden (extended
        while work goes on); ``long_poll_seconds`` GetMessages wait (0..30; also the longest a stop waits for an
        open poll); ``concurrency`` messages of a batch worked on at once.
        """
        super().__init__(
            work=work or WorkModel(),
            executor=executor,
            on_processed=on_processed,
            wall=wall,
            clock=clock,
            concurrency=concurrency,
            backoff=backoff or Backoff(cap=5.0),
            seed=seed,
        )
        problems = []
        if not 1 <= batch <= QUEUE_MAX_GET_LIMIT:
            problems.append(f"batch must be 1..{QUEUE_MAX_GET_LIMIT}, got {batch}")
        if not 1 <= visibility_seconds <= 43200:
            problems.append(f"visibility_seconds must be 1..43200, got {visibility_seconds}")
        if not 0 <= long_poll_seconds <= 30:
            problems.append(f"long_poll_seconds must be 0..30, got {long_poll_seconds}")
        if problems:
            raise ValueError("; ".join(problems))
        self._client = client
        self._queue_id = queue_id
        self._channel = channel
        self._batch = batch
        self._visibility = visibility_seconds
        self._long_poll = long_poll_seconds
        self._retry = short_retry_strategy()

    async def run(self, stop: asyncio.Event) -> ConsumeReport:
        """Consume until ``stop``; then finish the message in hand, release the rest of the batch, and return."""
        executor, own = self._own_executor()
        self._started = self._clock()
        try:
            while not stop.is_set():
                try:
                    messages = await self._call(executor, lambda: self._receive(stop))
                except Exception as exc:
                    await self._failed(exc, "GetMessages", stop)
                    continue
                self._failures_in_row = 0
                self._counts["receives"] += 1
                if messages:
                    await self._handle(messages, stop, executor)
        finally:
            if own:
                executor.shutdown(wait=False)
        return self.report()

    def _receive(self, stop: asyncio.Event) -> list[_Delivery]:
        if stop.is_set():  # stopped while this call waited for a thread of a shared pool: no new delivery
            return []
        kwargs: dict[str, Any] = {"channel_filter": self._channel} if self._channel else {}
        data = self._client.get_messages(
            self._queue_id,
            visibility_in_seconds=self._visibility,
            timeout_in_seconds=self._long_poll,
            limit=self._batch,
            retry_strategy=no_retry(),
            **kwargs,
        ).data
        return [
            _Delivery(receipt=m.receipt, envelope=_decode(m.content), deliveries=int(m.delivery_count or 1))
            for m in (getattr(data, "messages", None) or [])
        ]

    async def _handle(self, batch: list[_Delivery], stop: asyncio.Event, executor: concurrent.futures.Executor) -> None:
        self._counts["received"] += len(batch)
        lease = asyncio.Lock()
        closed: list[bool] = []
        keeper = asyncio.create_task(self._keep_invisible(batch, lease, closed, executor))
        try:
            finished = await self._work_on(batch, stop, finish_all=False)
        finally:
            async with lease:  # no extension may land after the delete or the release below
                closed.append(True)
            keeper.cancel()
        done = [item for item, ok in zip(batch, finished, strict=True) if ok]
        rest = [item for item, ok in zip(batch, finished, strict=True) if not ok]
        if done:
            await self._delete(done, executor)
        if rest:
            await self._release(rest, executor)

    async def _keep_invisible(
        self, batch: list[_Delivery], lease: asyncio.Lock, closed: list[bool], executor: concurrent.futures.Executor
    ) -> None:
        period = max(0.5, self._visibility / 2)
        models = oci.queue.models
        entries = [
            models.UpdateMessagesDetailsEntry(receipt=i.receipt, visibility_in_seconds=self._visibility) for i in batch
        ]
        while True:
            await asyncio.sleep(period)
            async with lease:
                if closed:
                    return
                try:
                    await self._call(
                        executor,
                        lambda: self._client.update_messages(
                            self._queue_id, models.UpdateMessagesDetails(entries=entries), retry_strategy=self._retry
                        ),
                    )
                except Exception as exc:
                    log.warning("extending visibility of %d messages failed: %s", len(batch), describe_error(exc))
                    continue
                self._counts["extended"] += len(entries)

    async def _delete(self, items: list[_Delivery], executor: concurrent.futures.Executor) -> None:
        models = oci.queue.models
        for chunk in _chunks(items, QUEUE_MAX_BATCH_ENTRIES):
            details = models.DeleteMessagesDetails(
                entries=[models.DeleteMessagesDetailsEntry(receipt=item.receipt) for item in chunk]
            )
            try:
                result = await self._call(
                    executor,
                    lambda details=details: (
                        self._client.delete_messages(  # type: ignore[misc]
                            self._queue_id, details, retry_strategy=self._retry
                        ).data
                    ),
                )
            except Exception as exc:
                log.warning(
                    "DeleteMessages failed for %d messages (they will be delivered again): %s",
                    len(chunk),
                    describe_error(exc),
                )
                self._counts["ack_failures"] += len(chunk)
                continue
            done_at = self._wall()
            outcomes = list(getattr(result, "entries", None) or [])
            for index, item in enumerate(chunk):
                entry = outcomes[index] if index < len(outcomes) else None
                if entry is not None and getattr(entry, "error_code", None):
                    log.info(
                        "delete of one message failed (%s %s); it will be delivered again",
                        entry.error_code,
                        getattr(entry, "error_message", ""),
                    )
                    self._counts["ack_failures"] += 1
                else:
                    self._done(item, done_at)

    async def _release(self, items: list[_Delivery], executor: concurrent.futures.Executor) -> None:
        models = oci.queue.models
        for chunk in _chunks(items, QUEUE_MAX_BATCH_ENTRIES):
            details = models.UpdateMessagesDetails(
                entries=[models.UpdateMessagesDetailsEntry(receipt=i.receipt, visibility_in_seconds=0) for i in chunk]
            )
            try:
                result = await self._call(
                    executor,
                    lambda details=details: (
                        self._client.update_messages(  # type: ignore[misc]
                            self._queue_id, details, retry_strategy=self._retry
                        ).data
                    ),
                )
            except Exception as exc:
                log.warning(
                    "releasing %d messages failed; they reappear when their visibility times out: %s",
                    len(chunk),
                    describe_error(exc),
                )
                continue
            outcomes = list(getattr(result, "entries", None) or [])
            failed = sum(1 for entry in outcomes if getattr(entry, "error_code", None))
            self._counts["released"] += len(chunk) - failed


class StreamConsumer(_Consumer):
    """One instance of a consumer group on one OCI Stream."""

    def __init__(
        self,
        *,
        client: Any,
        stream_id: str,
        group: str,
        instance: str,
        work: WorkModel | None = None,
        batch: int = 10,
        start: str = "TRIM_HORIZON",
        reservation_timeout_ms: int = 10_000,
        poll_interval: float = 0.25,
        executor: concurrent.futures.Executor | None = None,
        on_processed: Callable[[Processed], None] | None = None,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        concurrency: int = 1,
        backoff: Backoff | None = None,
        seed: int | None = None,
    ) -> None:
        """``client``: an ``oci.streaming.StreamClient`` on the stream's messages endpoint.

        ``start``: where a new group begins (TRIM_HORIZON or LATEST); an existing group keeps its commits.
        ``poll_interval``: the least time between two GetMessages (OCI allows 5 per second per partition and
        group); ``reservation_timeout_ms``: how long the group keeps this instance's partitions after it goes quiet.
        """
        super().__init__(
            work=work or WorkModel(),
            executor=executor,
            on_processed=on_processed,
            wall=wall,
            clock=clock,
            concurrency=concurrency,
            backoff=backoff or Backoff(base=0.2, cap=5.0),
            seed=seed,
        )
        problems = []
        if not 1 <= batch <= 10_000:
            problems.append(f"batch must be 1..10000, got {batch}")
        if start not in ("TRIM_HORIZON", "LATEST"):
            problems.append(f"start must be TRIM_HORIZON or LATEST, got {start!r}")
        if poll_interval < 1 / STREAM_GETS_PER_SECOND:
            problems.append(
                f"poll_interval must be >= {1 / STREAM_GETS_PER_SECOND} s (OCI's 5 GETs/s), got {poll_interval}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        self._client = client
        self._stream_id = stream_id
        self._group = group
        self._instance = instance
        self._batch = batch
        self._start = start
        self._timeout_ms = reservation_timeout_ms
        self._poll_interval = poll_interval
        self._retry = short_retry_strategy()

    async def run(self, stop: asyncio.Event) -> ConsumeReport:
        """Consume until ``stop``; the batch in hand is finished and committed before returning."""
        executor, own = self._own_executor()
        self._started = self._clock()
        cursor: str | None = None
        last_get = -self._poll_interval
        try:
            while not stop.is_set():
                if cursor is None:
                    try:
                        cursor = await self._call(executor, self._group_cursor)
                    except Exception as exc:
                        await self._failed(exc, "CreateGroupCursor", stop)
                        continue
                await _sleep_unless(stop, last_get + self._poll_interval - self._clock())
                if stop.is_set():
                    break
                last_get = self._clock()
                try:
                    messages, next_cursor = await self._call(executor, lambda c=cursor: self._receive(c))  # type: ignore[misc]
                except Exception as exc:
                    if _cursor_invalid(exc):
                        log.info("group cursor no longer valid (%s); creating a new one", describe_error(exc))
                        cursor = None
                        continue
                    await self._failed(exc, "GetMessages", stop)
                    continue
                self._failures_in_row = 0
                self._counts["receives"] += 1
                cursor = next_cursor
                if messages:
                    cursor = await self._handle(messages, cursor, stop, executor)
        finally:
            if own:
                executor.shutdown(wait=False)
        return self.report()

    def _group_cursor(self) -> str:
        details = oci.streaming.models.CreateGroupCursorDetails(
            group_name=self._group,
            instance_name=self._instance,
            type=self._start,
            commit_on_get=False,
            timeout_in_ms=self._timeout_ms,
        )
        value = self._client.create_group_cursor(self._stream_id, details, retry_strategy=self._retry).data.value
        return str(value)

    def _receive(self, cursor: str) -> tuple[list[_Delivery], str]:
        response = self._client.get_messages(self._stream_id, cursor, limit=self._batch, retry_strategy=no_retry())
        next_cursor = response.headers.get("opc-next-cursor") or cursor
        deliveries = [
            _Delivery(receipt=f"{m.partition}@{m.offset}", envelope=_decode(base64.b64decode(m.value or "")))
            for m in (response.data or [])
        ]
        return deliveries, str(next_cursor)

    async def _handle(
        self, batch: list[_Delivery], cursor: str, stop: asyncio.Event, executor: concurrent.futures.Executor
    ) -> str:
        """Work on a batch and commit it; returns the cursor to read on with."""
        self._counts["received"] += len(batch)
        beat = asyncio.create_task(self._heartbeat(cursor, executor))
        try:
            await self._work_on(batch, stop, finish_all=True)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        for attempt in range(3):
            try:
                fresh = await self._call(
                    executor,
                    lambda: (
                        self._client.consumer_commit(self._stream_id, cursor, retry_strategy=self._retry).data.value
                    ),
                )
            except Exception as exc:
                log.warning("ConsumerCommit failed (attempt %d): %s", attempt + 1, describe_error(exc))
                if classify(exc) is Failure.FATAL:
                    break
                await asyncio.sleep(self._backoff.delay(attempt, self._rng))
                continue
            self._counts["commits"] += 1
            done_at = self._wall()
            for item in batch:
                self._done(item, done_at)
            return str(fresh or cursor)
        log.warning("%d messages processed but not committed; the group will deliver them again", len(batch))
        self._counts["ack_failures"] += len(batch)
        return cursor

    async def _heartbeat(self, cursor: str, executor: concurrent.futures.Executor) -> None:
        period = max(0.5, self._timeout_ms / 1000 / 3)
        while True:
            await asyncio.sleep(period)
            try:
                await self._call(
                    executor,
                    lambda: self._client.consumer_heartbeat(self._stream_id, cursor, retry_strategy=self._retry),
                )
            except Exception as exc:
                log.warning("ConsumerHeartbeat failed: %s", describe_error(exc))


def _cursor_invalid(exc: Exception) -> bool:
    """A 400 or 404 on GetMessages with a group cursor: expired, or the group was reset; start a new cursor."""
    return isinstance(exc, oci.exceptions.ServiceError) and exc.status in (400, 404)


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0 or stop.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
