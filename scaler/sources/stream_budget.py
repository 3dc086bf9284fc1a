"""How much the scaler may read from one partition, and for how long a partition rests after OCI throttles it.

The scaler reads the very partitions whose consumers it scales. OCI allows 5 GetMessages per second per partition
and consumer group, and a partition takes at most 1 MB/s of writes; a scaler that re-reads a backlog competes with
the consumers exactly when they are behind. So each partition has two token buckets, for GET requests and for
payload bytes, set below those figures, and a 429 answer rests that partition alone (exponential, honouring a
``retry-after`` hint) while the other partitions keep being read. The byte rate is enough to follow a partition
written at OCI's full write rate, so arrivals are always counted; only a cold read of a long backlog is spread out.

Time is injected (a monotonic ``() -> float``), so every rule here is tested without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MIB: Final = 1024 * 1024
PAGE_LIMIT: Final = 10_000
"""GetMessages' documented maximum ``limit``."""


@dataclass(frozen=True)
class StreamReadSettings:
    """The Streaming source's reading rules; the defaults stay below OCI's documented per-partition limits."""

    gets_per_second: float = 1.5
    """GetMessages per partition per second, sustained (OCI: 5 per partition and consumer group)."""
    get_burst: float = 3.0
    """GetMessages one partition may take at once: a cold read (a first page, the rest, the empty page that shows
    the head) fits. Burst + rate = 4.5, below OCI's 5 in any one-second window."""
    bytes_per_second: float = float(MIB)
    """Payload bytes read per partition per second, sustained: at least OCI's 1 MB/s write limit, so arrivals are
    always followed, and no more, so a cold read never reads faster than a partition can be written."""
    byte_burst: float = float(MIB)
    """Payload bytes one partition may take at once."""
    first_page_messages: int = 100
    """Page size before a partition's message size is known (afterwards pages follow the byte budget)."""
    backoff_seconds: float = 1.0
    """Rest after a partition's first 429; doubled per consecutive 429."""
    max_backoff_seconds: float = 30.0
    trim_check_seconds: float = 60.0
    """How often a counted offset is re-checked against retention (a payload-free CreateCursor). Retention is at
    least 24 hours, so a partition's lag can overstate trimmed messages only for this long, never understate."""
    reuse_seconds: float = 0.5
    """A partition read up to its head this recently is not read again: however many triggers and consumer groups
    count it, it costs at most one GetMessages per this interval."""
    cursor_reuse_seconds: float = 240.0
    """A kept cursor is used this long; OCI's cursors expire five minutes after issue."""
    max_unread_seconds: float = 10.0
    """A partition OCI keeps throttling is served from its last count only this long; then the whole read fails, so
    the refresh layer's staleness bound (last good value, then UNAVAILABLE) takes over instead of an old count."""


class PartitionBudget:
    """Token buckets and throttling back-off of one partition; the caller serialises access."""

    def __init__(self, settings: StreamReadSettings, now: float) -> None:
        self._settings = settings
        self._gets = settings.get_burst
        self._bytes = settings.byte_burst
        self._at = now
        self._strikes = 0
        self.resting_until = 0.0
        self.bytes_per_message: float | None = None
        """Mean payload of the last page read: sizes the next page to the byte budget."""

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._at)
        self._at = max(self._at, now)
        s = self._settings
        self._gets = min(s.get_burst, self._gets + elapsed * s.gets_per_second)
        self._bytes = min(s.byte_burst, self._bytes + elapsed * s.bytes_per_second)

    def resting(self, now: float) -> bool:
        return now < self.resting_until

    def page_limit(self, now: float, wanted: int) -> int:
        """Messages the next GetMessages may ask for, 0 when it must wait (budget spent, or resting after 429)."""
        self._refill(now)
        if wanted <= 0 or self.resting(now) or self._gets < 1 or self._bytes <= 0:
            return 0
        if self.bytes_per_message is None:
            affordable = self._settings.first_page_messages
        else:
            affordable = int(self._bytes / max(self.bytes_per_message, 1.0))
        return max(1, min(wanted, PAGE_LIMIT, affordable))

    def spend(self, now: float, *, messages: int, payload_bytes: int) -> None:
        """One GetMessages answered: it costs a GET and its payload (the byte bucket may go into debt)."""
        self._refill(now)
        self._gets -= 1
        self._bytes -= payload_bytes
        self._strikes = 0
        if messages:
            self.bytes_per_message = payload_bytes / messages

    def throttled(self, now: float, retry_after: float | None) -> float:
        """OCI answered 429: rest this partition; returns the rest in seconds."""
        self._refill(now)
        self._gets -= 1
        self._strikes += 1
        s = self._settings
        rest = min(s.max_backoff_seconds, s.backoff_seconds * 2.0 ** (self._strikes - 1))
        if retry_after is not None and retry_after > 0:
            rest = min(s.max_backoff_seconds, max(rest, retry_after))
        self.resting_until = now + rest
        return rest
