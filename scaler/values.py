"""The vocabulary the decide layer works in: what a source reading says, and the named choices a trigger makes.

These types sit beside the policy, not in ``sources/``, so that the pure layers (metadata, policy, routing) depend
on values only and never on the I/O that produces them: sources build readings, the policy reads them. The enums
are ``StrEnum`` so that their wire form (metadata values, metric labels, log lines) is exactly the string KEDA
users write.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceKind(StrEnum):
    """Where a trigger's backlog is read (``source``)."""

    QUEUE = "oci-queue"
    STREAMING = "oci-streaming"


class Tier(StrEnum):
    """Which consumer tier a ScaledObject scales (``tier``); the order is the order users see in errors."""

    MANAGED = "managed"
    """Karpenter / managed nodes: stateful, PVs, GPUs, no interruption."""
    VIRTUAL = "virtual"
    """Virtual nodes: stateless, interruption-tolerant burst capacity."""


class Policy(StrEnum):
    """How a backlog becomes a replica count (``policy``)."""

    BACKLOG = "backlog"
    """ceil(backlog / target), as KEDA does."""
    DRAIN = "drain"
    """Enough replicas to drain the backlog within ``drainSeconds`` at the observed arrival rate."""


class Landing(StrEnum):
    """Which replica count the metric steers the HPA to when the decided one lies inside its tolerance band
    (``landing``); see scaler.landing."""

    OFF = "off"
    """Send the plain value: inside the band the HPA keeps its current count, as with any KEDA scaler."""
    HOLD = "hold"
    """Keep the current count when the decided one is out of reach; land exactly on it otherwise."""
    DOWN = "down"
    """The largest reachable count not above the decided one (a virtual group member hands back)."""
    NEAREST = "nearest"
    """The reachable count nearest the decided one (ties keep the current count)."""


class Operation(StrEnum):
    """How a multi-queue trigger (``queueIds``) combines its queues' backlogs (``operation``)."""

    SUM = "sum"
    MAX = "max"
    AVG = "avg"


class UncommittedOffset(StrEnum):
    """Where a partition a consumer group never committed starts counting (``uncommittedOffset``)."""

    EARLIEST = "earliest"
    LATEST = "latest"


@dataclass(frozen=True, slots=True)
class QueueBacklog:
    """One GetStats answer. DLQ counts are kept for metrics only: dead letters never need a consumer."""

    visible: int
    in_flight: int
    size_bytes: int
    dlq_visible: int
    dlq_in_flight: int

    def backlog(self, *, include_in_flight: bool) -> int:
        return self.visible + (self.in_flight if include_in_flight else 0)


@dataclass(frozen=True)
class PartitionLag:
    """Messages after a consumer group's committed offset in one partition, counted up to the read cap."""

    partition: str
    lag: int
    committed_offset: int | None
    """None: the group never committed this partition."""
    capped: bool
    """The true lag is at least ``lag``: counting stopped at the read cap or the partition's read budget, or the
    partition was not read this time (the source was at its cap, or OCI throttles it) and shows what was known."""
    persistent: bool
    """Lag > 0 while the committed offset stayed the same for ``persistentLagThresholdPolls`` reads in a row: the
    consumer may be stuck."""


@dataclass(frozen=True)
class StreamLag:
    """One consumer-group lag read of a stream."""

    partition_count: int
    partitions: tuple[PartitionLag, ...]

    def backlog(self, *, exclude_persistent: bool) -> int:
        return sum(p.lag for p in self.partitions if not (exclude_persistent and p.persistent))


Reading = QueueBacklog | StreamLag


@dataclass(frozen=True)
class QueueSetBacklog:
    """A multi-queue trigger's reading: each queue's own GetStats answer (in ``queueIds`` order), and how they
    combine. Built from the per-queue readings the refresh cache shares, never read as a whole."""

    parts: tuple[QueueBacklog, ...]
    operation: Operation

    def backlog(self, *, include_in_flight: bool) -> float:
        counts = [part.backlog(include_in_flight=include_in_flight) for part in self.parts]
        if self.operation == Operation.MAX:
            return float(max(counts))
        if self.operation == Operation.AVG:
            return sum(counts) / len(counts)
        return float(sum(counts))


TriggerReading = Reading | QueueSetBacklog
"""What one trigger's decision reads: a source's reading, or a multi-queue trigger's set of them."""
