"""The reference consumer of one OCI Stream: an instance of a consumer group, committing whole batches.

A group cursor with ``commitOnGet`` off; each batch is worked on, then committed with ConsumerCommit, while a
heartbeat keeps the instance's partitions reserved. On stop the batch in hand is finished and committed (a group
cursor cannot commit part of one; see load.consume for the guarantees). The loop and its counting are
:class:`StreamConsumer`; the SDK requests are :class:`StreamCalls`.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import oci

from load.consume import (
    BaseConsumer,
    ConsumeReport,
    Delivery,
    Processed,
    WorkModel,
    decode_body,
    sleep_unless,
)
from load.retry import Backoff, Failure, classify, describe_error, short_retry_strategy
from scaler.oci_retry import no_retry

log = logging.getLogger(__name__)

STREAM_GETS_PER_SECOND = 5
"""OCI Streaming allows 5 GetMessages per second per partition and consumer group."""


def _problems(batch: int, start: str, poll_interval: float) -> list[str]:
    problems = []
    if not 1 <= batch <= 10_000:
        problems.append(f"batch must be 1..10000, got {batch}")
    if start not in ("TRIM_HORIZON", "LATEST"):
        problems.append(f"start must be TRIM_HORIZON or LATEST, got {start!r}")
    if poll_interval < 1 / STREAM_GETS_PER_SECOND:
        problems.append(
            f"poll_interval must be >= {1 / STREAM_GETS_PER_SECOND} s (OCI's 5 GETs/s), got {poll_interval}"
        )
    return problems


def _cursor_invalid(exc: Exception) -> bool:
    """A 400 or 404 on GetMessages with a group cursor: expired, or the group was reset; start a new cursor."""
    return isinstance(exc, oci.exceptions.ServiceError) and exc.status in (400, 404)


class StreamCalls:
    """Blocking SDK requests of one group instance (run in a worker thread); a failure raises."""

    def __init__(
        self, *, client: Any, stream_id: str, group: str, instance: str, batch: int, start: str, timeout_ms: int
    ) -> None:
        self._client = client
        self._stream_id = stream_id
        self._group = group
        self._instance = instance
        self._batch = batch
        self._start = start
        self._timeout_ms = timeout_ms
        self._retry = short_retry_strategy()

    def group_cursor(self) -> str:
        details = oci.streaming.models.CreateGroupCursorDetails(
            group_name=self._group,
            instance_name=self._instance,
            type=self._start,
            commit_on_get=False,
            timeout_in_ms=self._timeout_ms,
        )
        value = self._client.create_group_cursor(self._stream_id, details, retry_strategy=self._retry).data.value
        return str(value)

    def receive(self, cursor: str) -> tuple[list[Delivery], str]:
        """One GetMessages, without SDK retries (the consumer counts and backs off); the deliveries, the next cursor."""
        response = self._client.get_messages(self._stream_id, cursor, limit=self._batch, retry_strategy=no_retry())
        next_cursor = response.headers.get("opc-next-cursor") or cursor
        deliveries = [
            Delivery(receipt=f"{m.partition}@{m.offset}", envelope=decode_body(base64.b64decode(m.value or "")))
            for m in (response.data or [])
        ]
        return deliveries, str(next_cursor)

    def commit(self, cursor: str) -> Any:
        """ConsumerCommit of everything read up to ``cursor``; the fresh cursor the service returns (may be empty)."""
        return self._client.consumer_commit(self._stream_id, cursor, retry_strategy=self._retry).data.value

    def heartbeat(self, cursor: str) -> None:
        self._client.consumer_heartbeat(self._stream_id, cursor, retry_strategy=self._retry)


class StreamConsumer(BaseConsumer):
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
        problems = _problems(batch, start, poll_interval)
        if problems:
            raise ValueError("; ".join(problems))
        self._timeout_ms = reservation_timeout_ms
        self._poll_interval = poll_interval
        self._calls = StreamCalls(
            client=client,
            stream_id=stream_id,
            group=group,
            instance=instance,
            batch=batch,
            start=start,
            timeout_ms=reservation_timeout_ms,
        )

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
                        cursor = await self._call(executor, self._calls.group_cursor)
                    except Exception as exc:
                        await self._failed(exc, "CreateGroupCursor", stop)
                        continue
                await sleep_unless(stop, last_get + self._poll_interval - self._clock())
                if stop.is_set():
                    break
                last_get = self._clock()
                try:
                    messages, next_cursor = await self._call(executor, lambda c=cursor: self._calls.receive(c))  # type: ignore[misc]
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

    async def _handle(
        self, batch: list[Delivery], cursor: str, stop: asyncio.Event, executor: concurrent.futures.Executor
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
                fresh = await self._call(executor, lambda: self._calls.commit(cursor))
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
                await self._call(executor, lambda: self._calls.heartbeat(cursor))
            except Exception as exc:
                log.warning("ConsumerHeartbeat failed: %s", describe_error(exc))
