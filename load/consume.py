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

This module holds what both share (values, counting, the work simulation, backoff on failed calls); the loops and
their SDK requests are in load.consume_queue and load.consume_stream.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from load.messages import HEAVY, LIGHT, Envelope, EnvelopeError
from load.retry import Backoff, Failure, classify, describe_error
from load.stats import LatencyHistogram

log = logging.getLogger(__name__)

T = TypeVar("T")


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
class Delivery:
    receipt: str
    envelope: Envelope | None
    deliveries: int = 1


class BaseConsumer:
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
        await sleep_unless(stop, delay)

    async def _work_on(self, items: Sequence[Delivery], stop: asyncio.Event, *, finish_all: bool) -> list[bool]:
        """Simulate the work; with ``finish_all`` False, messages not started when ``stop`` is set are skipped."""
        gate = asyncio.Semaphore(self._concurrency)

        async def one(item: Delivery) -> bool:
            async with gate:
                if stop.is_set() and not finish_all:
                    return False
                if item.envelope is not None:
                    await asyncio.sleep(self._work.time_for(item.envelope.cls, self._rng))
                return True

        return list(await asyncio.gather(*(one(item) for item in items)))

    def _done(self, item: Delivery, done_at: float) -> None:
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


def decode_body(body: str | bytes | None) -> Envelope | None:
    if body is None:
        return None
    try:
        return Envelope.decode(body)
    except EnvelopeError as exc:
        log.warning("acknowledging a message that is not a burst-load envelope: %s", exc)
        return None


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0 or stop.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
