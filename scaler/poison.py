"""``poisonGuard``: when messages keep dying instead of being processed, do not buy more consumers to kill them.

A poison message (or a broken dependency) makes consumers fail: each delivery ends in the dead-letter queue once it
has used up its attempts, while the backlog stays where it was. Scaling up then only burns money. The sign, read
from the refresh cache's recent readings of the queue: over ``poisonWindowSeconds`` (ending at the newest reading)
a queue's DLQ count grew while its backlog did not shrink. While that holds, the trigger's replicas are held at
their current count (scaling down is still allowed). Pure: readings in, a finding or None out; the caller decides
what "current" is (the Kubernetes API's replica count, or, without API access, what the oldest reading of the
window decided).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scaler.refresh import Snapshot
from scaler.values import QueueBacklog, QueueSetBacklog, TriggerReading


@dataclass(frozen=True)
class Poison:
    """What the window showed for the first queue that looks poisoned."""

    queue: int
    """Its index in the trigger's queues (0 for ``queueId``)."""
    dlq_before: int
    dlq_now: int
    backlog_before: int
    backlog_now: int
    since: Snapshot[TriggerReading]
    """The oldest reading of the window: what the comparison started from."""


def _queues(reading: TriggerReading) -> tuple[QueueBacklog, ...]:
    if isinstance(reading, QueueBacklog):
        return (reading,)
    if isinstance(reading, QueueSetBacklog):
        return reading.parts
    return ()  # Streaming has no dead-letter queue


def _dead(queue: QueueBacklog) -> int:
    return queue.dlq_visible + queue.dlq_in_flight


def find_poison(
    history: Sequence[Snapshot[TriggerReading]], now: TriggerReading, *, window: float, include_in_flight: bool
) -> Poison | None:
    """The first queue whose DLQ grew while its backlog (as the trigger counts it) stayed above 0 and did not shrink,
    from the oldest reading within ``window`` of the newest one to ``now``; None without two readings to compare."""
    if len(history) < 2:
        return None
    newest = history[-1].observed_at
    since = next(s for s in history if newest - s.observed_at <= window)
    if since.observed_at >= newest:
        return None
    for index, (before, after) in enumerate(zip(_queues(since.value), _queues(now), strict=False)):
        backlog_before = before.backlog(include_in_flight=include_in_flight)
        backlog_now = after.backlog(include_in_flight=include_in_flight)
        if _dead(after) > _dead(before) and backlog_now >= backlog_before and backlog_now > 0:
            return Poison(index, _dead(before), _dead(after), backlog_before, backlog_now, since)
    return None
