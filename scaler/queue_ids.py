"""The ``queueIds`` value: several queues, each optionally narrowed to a channel, in one trigger.

Users of KEDA's IBM MQ, RabbitMQ and Service Bus scalers asked for one trigger over several queues; here the list is
one metadata string, ``"OCID, OCID:channelId, ..."``. Parsing it is kept apart from ``scaler.metadata`` only so that
module stays one screenful of declarations; it has no other reader.
"""

from __future__ import annotations

from typing import Final

from scaler.params import quote

QueueIds = tuple[tuple[str, str | None], ...]
"""``(queue OCID, channel or None)`` per listed queue, in the order given."""
MAX_QUEUES: Final = 50
"""Queues one trigger may name: each costs one GetStats per refresh."""


def parse_queue_ids(text: str) -> QueueIds:
    """``"ocid1.queue..a, ocid1.queue..b:heavy"`` → ``(("ocid1.queue..a", None), ("ocid1.queue..b", "heavy"))``."""
    found: list[tuple[str, str | None]] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        queue_id, colon, channel = item.partition(":")
        queue_id, channel = queue_id.strip(), channel.strip()
        if not queue_id or (colon and not channel):
            raise ValueError(f"expected OCID or OCID:channelId, got {quote(item)}")
        if (queue_id, channel or None) in found:
            raise ValueError(f"{quote(item)} is listed twice")
        found.append((queue_id, channel or None))
    if not found:
        raise ValueError("expected at least one queue OCID")
    if len(found) > MAX_QUEUES:
        raise ValueError(f"expected at most {MAX_QUEUES} queues, got {len(found)}")
    return tuple(found)
