"""Queue settings and service limits, with the ranges the emulator enforces.

Both the REST layer (CreateQueue, UpdateQueue, PutMessages) and the seed-file loader validate against the same ranges,
so they live here once. Ranges follow the OCI documentation where it is explicit (retention 10 s to 7 days, default
visibility up to 12 h, long poll up to 30 s, GetMessages limit up to 32, DLQ delivery count up to 20); the limits
Oracle does not publish (message size, messages per PutMessages call) are configurable through ``QueueLimits``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntRange:
    """An inclusive integer range with a name used in error messages."""

    name: str
    minimum: int
    maximum: int

    def problem(self, value: int) -> str | None:
        """A sentence describing why ``value`` is out of range, or None when it is valid."""
        if self.minimum <= value <= self.maximum:
            return None
        return f"{self.name} must be between {self.minimum} and {self.maximum}, got {value}"


RETENTION_IN_SECONDS = IntRange("retentionInSeconds", 10, 7 * 24 * 3600)
VISIBILITY_IN_SECONDS = IntRange("visibilityInSeconds", 0, 12 * 3600)
TIMEOUT_IN_SECONDS = IntRange("timeoutInSeconds", 0, 30)
DEAD_LETTER_QUEUE_DELIVERY_COUNT = IntRange("deadLetterQueueDeliveryCount", 0, 20)
CHANNEL_CONSUMPTION_LIMIT = IntRange("channelConsumptionLimit", 1, 100)
DISPLAY_NAME_LENGTH = IntRange("displayName length", 1, 255)
CHANNEL_ID_LENGTH = IntRange("channelId length", 1, 256)


@dataclass(frozen=True)
class QueueSettings:
    """The per-queue behaviour settings of a queue (CreateQueueDetails minus identity and tags)."""

    retention_in_seconds: int = 86400
    """How long a message lives after PutMessages before it disappears, delivered or not."""
    visibility_in_seconds: int = 30
    """Default time a delivered message stays hidden when GetMessages gives no visibilityInSeconds."""
    timeout_in_seconds: int = 30
    """Default long-poll wait when GetMessages gives no timeoutInSeconds."""
    dead_letter_queue_delivery_count: int = 0
    """Deliveries after which a message moves to the dead-letter queue instead of reappearing; 0 disables the DLQ."""
    channel_consumption_limit: int = 100
    """Percentage of the queue's consumption one channel may use; stored and echoed, not enforced."""
    custom_encryption_key_id: str | None = None
    """KMS key OCID; stored and echoed, never used."""

    def problems(self) -> list[str]:
        """Every out-of-range setting, as sentences (empty when valid)."""
        checks = (
            RETENTION_IN_SECONDS.problem(self.retention_in_seconds),
            VISIBILITY_IN_SECONDS.problem(self.visibility_in_seconds),
            TIMEOUT_IN_SECONDS.problem(self.timeout_in_seconds),
            DEAD_LETTER_QUEUE_DELIVERY_COUNT.problem(self.dead_letter_queue_delivery_count),
            CHANNEL_CONSUMPTION_LIMIT.problem(self.channel_consumption_limit),
        )
        return [problem for problem in checks if problem is not None]


@dataclass(frozen=True)
class QueueLimits:
    """Request-shape limits of the emulated service. Oracle does not publish all of them; defaults are conservative."""

    max_message_bytes: int = 128 * 1024
    """Largest message content, in UTF-8 bytes (OCI's standard-message limit; 512 KiB needs LARGE_MESSAGES)."""
    max_messages_per_put: int = 20
    """Most messages one PutMessages call may carry."""
    max_get_limit: int = 32
    """Largest ``limit`` accepted by GetMessages."""
    max_batch_entries: int = 32
    """Most entries one DeleteMessages or UpdateMessages call may carry."""
    max_request_bytes: int = 16 * 1024 * 1024
    """Largest request body the HTTP layer reads; larger requests are refused without reading them."""
    max_page_size: int = 1000
    """Largest ``limit`` accepted by the List operations."""
