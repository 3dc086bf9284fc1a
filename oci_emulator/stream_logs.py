"""Writes to, and retention of, the partition logs of every stream: PutMessages, trims and offset diagnostics.

Offsets are contiguous per partition from 0; retention (``retentionInHours`` by the injected clock) trims from the
head, lazily on every access of the stream (``apply_retention`` forces it; ``trim_before`` trims to an offset, for
tests that need a trimmed head without moving the clock). Keyed messages go where ``partition_for_key`` says;
messages without a key go round-robin per stream (OCI generates a key for them; where it lands is unspecified). A
key longer than the limit fails that message's entry (``error`` "400"); other entries of the request are still
appended.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ApiError
from .stream_registry import StreamRegistry
from .stream_settings import StreamLimits
from .stream_values import Appended, NewStreamMessage, PartitionOffsets


class StreamLogs:
    """Producers and retention over the registry's streams, serialised on the registry's lock."""

    def __init__(self, registry: StreamRegistry, *, limits: StreamLimits) -> None:
        self._registry = registry
        self._limits = limits

    def put_messages(self, stream_id: str, messages: Iterable[NewStreamMessage]) -> list[Appended | ApiError]:
        """Append messages in order; one outcome per message (an ApiError for a message that was refused)."""
        with self._registry.lock:
            now = self._registry.now()
            stream = self._registry.active(stream_id, now)
            max_key_bytes = self._limits.max_key_bytes
            return [stream.append(message, max_key_bytes=max_key_bytes, now=now) for message in messages]

    def trim_before(self, stream_id: str, partition: str, *, offset: int) -> int:
        """Drop the messages of one partition below ``offset``, as retention would; returns how many went."""
        with self._registry.lock:
            stream = self._registry.active(stream_id, self._registry.now())
            return stream.logs[stream.partition(partition)].trim_before(offset)

    def apply_retention(self) -> int:
        """Trim every stream by its retention at the clock's current time; returns how many messages went."""
        with self._registry.lock:
            now = self._registry.now()
            return sum(stream.expire(now) for stream in self._registry.streams.values())

    def partition_offsets(self, stream_id: str) -> list[PartitionOffsets]:
        """Retained offsets of every partition, for tests and diagnostics."""
        with self._registry.lock:
            stream = self._registry.active(stream_id, self._registry.now())
            return [PartitionOffsets(log.oldest, log.next_offset) for log in stream.logs]
