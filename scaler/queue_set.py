"""A multi-queue trigger (``queueIds``) seen as one source: its queues' shared readings combined, never read as one.

Each queue stays its own key in the refresh cache, so a queue named by a single trigger and by three multi-queue
triggers is still read once per refresh. This module only puts the per-queue snapshots together (the current ones,
and the histories that trend policies and the poison guard read) and answers the two questions the decision asks
of any reading: how much backlog, and which replica cap. Pure: snapshots in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence

from scaler.metadata import TriggerConfig
from scaler.policy import backlog_of, replica_cap
from scaler.refresh import Snapshot
from scaler.values import Operation, QueueBacklog, QueueSetBacklog, Reading, TriggerReading


def _queue(reading: Reading) -> QueueBacklog:
    if not isinstance(reading, QueueBacklog):
        raise TypeError(f"a queue set holds queue readings only, got {type(reading).__name__}")
    return reading


def combine(parts: Sequence[Snapshot[Reading]], operation: Operation) -> Snapshot[QueueSetBacklog]:
    """The queues' current snapshots as one; it is as old as its oldest part."""
    value = QueueSetBacklog(parts=tuple(_queue(p.value) for p in parts), operation=operation)
    return Snapshot(value=value, observed_at=min(p.observed_at for p in parts))


def combine_history(
    histories: Sequence[Sequence[Snapshot[Reading]]], operation: Operation
) -> tuple[Snapshot[QueueSetBacklog], ...]:
    """One combined snapshot per part reading, oldest first, from the first moment every queue has a reading: each
    holds every queue's latest reading at that moment."""
    events = sorted(((s.observed_at, i, s) for i, h in enumerate(histories) for s in h), key=lambda e: (e[0], e[1]))
    latest: list[QueueBacklog | None] = [None] * len(histories)
    combined: list[Snapshot[QueueSetBacklog]] = []
    for at, index, snapshot in events:
        latest[index] = _queue(snapshot.value)
        known = [part for part in latest if part is not None]
        if len(known) == len(latest):
            combined.append(Snapshot(QueueSetBacklog(parts=tuple(known), operation=operation), at))
    return tuple(combined)


def backlog(reading: TriggerReading, config: TriggerConfig) -> float:
    """The number the trigger scales on; for a queue set, its operation over the queues' backlogs."""
    if isinstance(reading, QueueSetBacklog):
        return reading.backlog(include_in_flight=config.include_in_flight)
    return backlog_of(reading, config)


def cap(reading: TriggerReading, config: TriggerConfig) -> int | None:
    """The replica cap; a queue set has no partitions, so only ``maxReplicas``."""
    return config.max_replicas if isinstance(reading, QueueSetBacklog) else replica_cap(reading, config)
