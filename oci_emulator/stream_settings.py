"""Streaming ranges and service limits, enforced alike by the REST layer, the stream store and the seed loader.

Values follow the OCI documentation where it is explicit: retention 24 to 168 hours, GetMessages ``limit`` up to
10000, messages and requests up to 1 MiB after base64 decoding, keys up to 256 bytes, 5 GetMessages per second per
partition per consumer group, 50 groups per stream, cursors valid for five minutes, ListStreams ``limit`` 1 to 50
(default 10). Oracle does not publish a per-stream partition maximum or bounds for ``timeoutInMs``; the emulator's
choices are configurable through ``StreamLimits`` or deliberately lenient.
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import IntRange

MIB = 1024 * 1024

RETENTION_IN_HOURS = IntRange("retentionInHours", 24, 168)
STREAM_NAME_LENGTH = IntRange("name length", 1, 255)
GROUP_NAME_LENGTH = IntRange("groupName length", 1, 256)
INSTANCE_NAME_LENGTH = IntRange("instanceName length", 1, 256)
TIMEOUT_IN_MS = IntRange("timeoutInMs", 1, 2**31 - 1)
LIST_LIMIT = IntRange("limit", 1, 50)
DEFAULT_LIST_LIMIT = 10
CURSOR_LENGTH = 32 * 1024
"""Longest cursor token accepted (a group cursor names every partition its instance reserves)."""


@dataclass(frozen=True)
class StreamLimits:
    """Limits of the emulated Streaming service. Defaults are OCI's documented values."""

    max_partitions: int = 50
    """Most partitions one stream may have (OCI's real limit depends on the tenancy's quota)."""
    max_key_bytes: int = 256
    """Largest message key after base64 decoding; a longer key fails that message's entry in PutMessages."""
    max_request_bytes: int = MIB
    """Largest PutMessages request, summing decoded keys and values; a larger request is refused with 400."""
    max_get_limit: int = 10_000
    """Largest GetMessages ``limit``; also the default, since OCI returns "as many messages as possible"."""
    max_groups_per_stream: int = 50
    """Most consumer groups one stream may have."""
    cursor_ttl_seconds: float = 300.0
    """How long a cursor stays usable after it was issued."""
    get_requests_per_second: int = 5
    """GetMessages allowed per second per (stream, partition, consumer group) while throttling is on."""
    default_timeout_in_ms: int = 30_000
    """Reservation timeout of a group instance when CreateGroupCursor gives no ``timeoutInMs``."""

    @property
    def partitions(self) -> IntRange:
        return IntRange("partitions", 1, self.max_partitions)

    @property
    def get_limit(self) -> IntRange:
        return IntRange("limit", 1, self.max_get_limit)
