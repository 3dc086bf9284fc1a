"""The reference consumer of one OCI Queue: long-poll, work, delete; keep the batch invisible while it is worked on.

On stop the message in hand is finished, the rest of the batch is released at once (visibility 0) for other
consumers, and the finished ones are deleted (see load.consume for the guarantees). The loop and its counting are
:class:`QueueConsumer`; the SDK requests and their per-call limits are :class:`QueueCalls`, so each reads alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import oci

from load.consume import (
    BaseConsumer,
    ConsumeReport,
    Delivery,
    Processed,
    WorkModel,
    chunks,
    decode_body,
)
from load.retry import Backoff, describe_error, short_retry_strategy
from scaler.oci_retry import no_retry

log = logging.getLogger(__name__)

QUEUE_MAX_GET_LIMIT = 32
QUEUE_MAX_BATCH_ENTRIES = 32


def _problems(batch: int, visibility_seconds: int, long_poll_seconds: int) -> list[str]:
    problems = []
    if not 1 <= batch <= QUEUE_MAX_GET_LIMIT:
        problems.append(f"batch must be 1..{QUEUE_MAX_GET_LIMIT}, got {batch}")
    if not 1 <= visibility_seconds <= 43200:
        problems.append(f"visibility_seconds must be 1..43200, got {visibility_seconds}")
    if not 0 <= long_poll_seconds <= 30:
        problems.append(f"long_poll_seconds must be 0..30, got {long_poll_seconds}")
    return problems


class QueueCalls:
    """Blocking SDK requests of one queue consumer (run in a worker thread); a whole-call failure raises."""

    def __init__(
        self, *, client: Any, queue_id: str, channel: str | None, batch: int, visibility: int, long_poll: int
    ) -> None:
        self._client = client
        self._queue_id = queue_id
        self._channel = channel
        self._batch = batch
        self._visibility = visibility
        self._long_poll = long_poll
        self._retry = short_retry_strategy()

    def receive(self) -> list[Delivery]:
        """One GetMessages, without SDK retries: the consumer counts and backs off itself."""
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
            Delivery(receipt=m.receipt, envelope=decode_body(m.content), deliveries=int(m.delivery_count or 1))
            for m in (getattr(data, "messages", None) or [])
        ]

    def set_visibility(self, items: Sequence[Delivery], seconds: int) -> Any:
        """UpdateMessages for ``items``: extend their lease (the timeout) or release them (0); the result's data."""
        models = oci.queue.models
        details = models.UpdateMessagesDetails(
            entries=[models.UpdateMessagesDetailsEntry(receipt=i.receipt, visibility_in_seconds=seconds) for i in items]
        )
        return self._client.update_messages(self._queue_id, details, retry_strategy=self._retry).data

    def extend(self, items: Sequence[Delivery]) -> None:
        self.set_visibility(items, self._visibility)

    def delete(self, items: Sequence[Delivery]) -> list[bool]:
        """DeleteMessages for ``items``; per message, whether it was deleted (a failed one is delivered again)."""
        models = oci.queue.models
        details = models.DeleteMessagesDetails(
            entries=[models.DeleteMessagesDetailsEntry(receipt=item.receipt) for item in items]
        )
        result = self._client.delete_messages(self._queue_id, details, retry_strategy=self._retry).data
        outcomes = list(getattr(result, "entries", None) or [])
        deleted = []
        for index in range(len(items)):
            entry = outcomes[index] if index < len(outcomes) else None
            if entry is not None and getattr(entry, "error_code", None):
                log.info(
                    "delete of one message failed (%s %s); it will be delivered again",
                    entry.error_code,
                    getattr(entry, "error_message", ""),
                )
                deleted.append(False)
            else:
                deleted.append(True)
        return deleted

    def release(self, items: Sequence[Delivery]) -> int:
        """Visibility 0 for ``items``, so other consumers get them now; how many the service released."""
        outcomes = list(getattr(self.set_visibility(items, 0), "entries", None) or [])
        return len(items) - sum(1 for entry in outcomes if getattr(entry, "error_code", None))


class QueueConsumer(BaseConsumer):
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
        problems = _problems(batch, visibility_seconds, long_poll_seconds)
        if problems:
            raise ValueError("; ".join(problems))
        self._visibility = visibility_seconds
        self._calls = QueueCalls(
            client=client,
            queue_id=queue_id,
            channel=channel,
            batch=batch,
            visibility=visibility_seconds,
            long_poll=long_poll_seconds,
        )

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

    def _receive(self, stop: asyncio.Event) -> list[Delivery]:
        if stop.is_set():  # stopped while this call waited for a thread of a shared pool: no new delivery
            return []
        return self._calls.receive()

    async def _handle(self, batch: list[Delivery], stop: asyncio.Event, executor: concurrent.futures.Executor) -> None:
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
        self, batch: list[Delivery], lease: asyncio.Lock, closed: list[bool], executor: concurrent.futures.Executor
    ) -> None:
        period = max(0.5, self._visibility / 2)
        while True:
            await asyncio.sleep(period)
            async with lease:
                if closed:
                    return
                try:
                    await self._call(executor, lambda: self._calls.extend(batch))
                except Exception as exc:
                    log.warning("extending visibility of %d messages failed: %s", len(batch), describe_error(exc))
                    continue
                self._counts["extended"] += len(batch)

    async def _delete(self, items: list[Delivery], executor: concurrent.futures.Executor) -> None:
        for chunk in chunks(items, QUEUE_MAX_BATCH_ENTRIES):
            try:
                deleted = await self._call(executor, lambda chunk=chunk: self._calls.delete(chunk))  # type: ignore[misc]
            except Exception as exc:
                log.warning(
                    "DeleteMessages failed for %d messages (they will be delivered again): %s",
                    len(chunk),
                    describe_error(exc),
                )
                self._counts["ack_failures"] += len(chunk)
                continue
            done_at = self._wall()
            for item, ok in zip(chunk, deleted, strict=True):
                if ok:
                    self._done(item, done_at)
                else:
                    self._counts["ack_failures"] += 1

    async def _release(self, items: list[Delivery], executor: concurrent.futures.Executor) -> None:
        for chunk in chunks(items, QUEUE_MAX_BATCH_ENTRIES):
            try:
                released = await self._call(executor, lambda chunk=chunk: self._calls.release(chunk))  # type: ignore[misc]
            except Exception as exc:
                log.warning(
                    "releasing %d messages failed; they reappear when their visibility times out: %s",
                    len(chunk),
                    describe_error(exc),
                )
                continue
            self._counts["released"] += released
