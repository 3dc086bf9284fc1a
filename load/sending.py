"""Sending one producer batch: PutMessages in a worker thread, retried with backoff until accepted, refused or stopped.

The pacing side (load.pacing) decides *when* messages leave and hands each batch here; this side decides what a
failed call means (load.retry): 429 is counted and retried, transient faults are retried, a refusal is final, and a
batch still failing after ``Backoff.give_up_after`` is counted failed. Nothing is dropped silently: on ``stop`` the
messages waiting for a retry are counted ``abandoned``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from load.messages import Envelope
from load.retry import Backoff, Failure, classify, describe_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One message on its way: the envelope, its encoded body, its planned offset, channel and key."""

    envelope: Envelope
    body: str
    planned: float
    channel: str | None
    key: bytes


Put = Callable[[Sequence[Outgoing]], list[int | None]]
"""One PutMessages call (blocking): per message, None if accepted, else an HTTP status."""


class Sender:
    """Delivers batches through ``put`` and counts every outcome; the counts are read live for progress."""

    def __init__(
        self,
        *,
        put: Put,
        clock: Callable[[], float],
        on_sent: Callable[[Envelope], None] | None,
        backoff: Backoff,
        seed: int | None,
    ) -> None:
        self._put = put
        self._clock = clock
        self._on_sent = on_sent
        self._backoff = backoff
        self._rng = random.Random(seed)
        self.sent = self.throttled = self.failed = self.errors = 0
        self.abandoned = self.calls = self.in_flight = 0
        self.last_sent = 0.0
        """Offset (seconds from the start) at which the service accepted the last message."""

    def deliver(
        self, batch: list[Outgoing], executor: concurrent.futures.Executor, stop: asyncio.Event, start: float
    ) -> Coroutine[Any, Any, None]:
        """Count ``batch`` in flight now, and return the coroutine that sends it (the caller makes it a task)."""
        self.in_flight += len(batch)
        return self._deliver(batch, executor, stop, start)

    async def _deliver(
        self, batch: list[Outgoing], executor: concurrent.futures.Executor, stop: asyncio.Event, start: float
    ) -> None:
        loop = asyncio.get_running_loop()
        pending = batch
        first = self._clock()
        attempt = 0
        try:
            while pending:
                retry: list[Outgoing] = []
                try:
                    statuses = await loop.run_in_executor(executor, self._put, pending)
                except Exception as exc:
                    kind = classify(exc)
                    if kind is Failure.FATAL:
                        log.error(
                            "PutMessages failed for %d messages, not retrying: %s", len(pending), describe_error(exc)
                        )
                        self.failed += len(pending)
                        return
                    if kind is Failure.THROTTLED:
                        self.throttled += 1
                    else:
                        self.errors += 1
                        log.warning("PutMessages failed, retrying: %s", describe_error(exc))
                    retry = pending
                else:
                    self.calls += 1
                    retry = self._settle(pending, statuses, start)
                if not retry:
                    return
                if stop.is_set():
                    self.abandoned += len(retry)
                    return
                if self._clock() - first > self._backoff.give_up_after:
                    log.error(
                        "%d messages still refused after %.0f s of retries; counted as failed",
                        len(retry),
                        self._backoff.give_up_after,
                    )
                    self.failed += len(retry)
                    return
                await _wait_stop(stop, self._backoff.delay(attempt, self._rng))
                attempt += 1
                if stop.is_set():
                    self.abandoned += len(retry)
                    return
                pending = retry
        finally:
            self.in_flight -= len(batch)

    def _settle(self, pending: Sequence[Outgoing], statuses: Sequence[int | None], start: float) -> list[Outgoing]:
        """Record per-message outcomes; returns the messages to retry."""
        retry: list[Outgoing] = []
        throttled = False
        for item, status in zip(pending, statuses, strict=True):
            if status is None:
                self.sent += 1
                self.last_sent = self._clock() - start
                if self._on_sent is not None:
                    self._on_sent(item.envelope)
            elif status == 429 or status >= 500 or status == 0:
                throttled = throttled or status == 429
                retry.append(item)
            else:
                log.error("message %d refused by the service (HTTP %d); not retrying", item.envelope.seq, status)
                self.failed += 1
        if throttled:
            self.throttled += 1
        elif retry:
            self.errors += 1
        return retry


async def _wait_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
