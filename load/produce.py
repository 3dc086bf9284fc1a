"""Open-loop producers for OCI Queue and OCI Streaming: send exactly the planned load, report how close it came.

The pacing (load.pacing: the schedule, never adapted to the service) and the sending (load.sending: retries and
counts) are shared; this module holds what differs per service: its limits and how one batch is put.

The SDK is synchronous; calls run in a thread pool (a shared one may be passed in) with at most ``concurrency``
requests in flight, and the event loop only schedules. Throttling (429) is expected under a burst: the batch is
retried after an exponential, jittered backoff and the refusal is counted; nothing is dropped. On ``stop`` the
producer stops dispatching, lets in-flight calls finish, and reports planned messages it never sent (``unsent``)
and batches it gave up retrying (``abandoned``) separately from ``failed`` (refused by the service).
"""

from __future__ import annotations

import base64
import concurrent.futures
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import oci

from load.messages import Envelope
from load.pacing import ProduceProgress, Producer, ProduceReport
from load.profiles import Profile
from load.retry import Backoff, status_of
from load.sending import Outgoing
from load.traffic import Mix, SizeDistribution
from scaler.oci_retry import no_retry

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


class QueueProducer(Producer):
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

    def _put(self, batch: Sequence[Outgoing]) -> list[int | None]:
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


class StreamProducer(Producer):
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

    def _put(self, batch: Sequence[Outgoing]) -> list[int | None]:
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
