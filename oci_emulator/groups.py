"""Consumer-group state of one stream: committed offsets, instances and partition reservations.

The scaler's lag is "messages after the group's committed offset", so the meaning of ``committedOffset`` decides
whether an idle group reports lag 0 or 1. OCI does not document it; the emulator implements, and the scaler relies
on, **the offset of the last message the group consumed** (a lag reader opens ``AFTER_OFFSET committedOffset``).
A partition the group never committed has ``committedOffset`` null; a new group cursor then starts it at the
group's initial position (TRIM_HORIZON, LATEST or AT_TIME, resolved when the group was created or last updated).

Reservations follow the documented behaviour: partitions are balanced across the live instances (each gets
``partitions // instances``, the earliest joiners one more; instances beyond the partition count get none), and
reservations are sticky: a rebalance moves only the partitions it must. An instance stays live for its
``timeoutInMs`` after its last CreateGroupCursor, GetMessages, ConsumerCommit or ConsumerHeartbeat. Each time a
partition changes hands its *epoch* increases, which invalidates the positions older cursors hold for it.

Pure and single-threaded: the owning ``StreamStore`` serialises calls and passes ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Instance:
    name: str
    timeout_seconds: float
    reserved_until: float


@dataclass(frozen=True)
class Reservation:
    """One partition as GetGroup reports it."""

    partition: int
    committed_offset: int | None
    instance: str | None
    reserved_until: float | None


class ConsumerGroup:
    """One group of one stream."""

    def __init__(self, name: str, *, starts: list[int], generation: int, now: float) -> None:
        self.name = name
        self.generation = generation
        """Changes on UpdateGroup; cursors of another generation read from the group's positions again."""
        self.last_used = now
        self._starts = list(starts)
        self._committed: list[int | None] = [None] * len(starts)
        self._owners: list[str | None] = [None] * len(starts)
        self._epochs = [0] * len(starts)
        self._instances: dict[str, _Instance] = {}  # insertion order is join order

    @property
    def partitions(self) -> int:
        return len(self._starts)

    # ------------------------------------------------------------------------------------------- offsets

    def committed(self, partition: int) -> int | None:
        return self._committed[partition]

    def next_offset(self, partition: int) -> int:
        """Where a fresh group cursor starts reading ``partition``: after the committed offset, else the start."""
        committed = self._committed[partition]
        return self._starts[partition] if committed is None else committed + 1

    def commit(self, partition: int, offset: int) -> None:
        """Record ``offset`` as the last message consumed from ``partition`` (ignored below 0: nothing consumed)."""
        if offset >= 0:
            self._committed[partition] = offset

    def reset(self, locations: list[int], generation: int) -> None:
        """UpdateGroup: the group resumes at ``locations``; everything before them counts as consumed."""
        self._starts = list(locations)
        self._committed = [location - 1 if location > 0 else None for location in locations]
        self.generation = generation

    # ------------------------------------------------------------------------------------------- instances

    def join(self, instance: str, *, timeout_seconds: float, now: float) -> None:
        """Add ``instance`` (or renew it with a new timeout) and rebalance."""
        self.settle(now)
        member = self._instances.get(instance)
        if member is None:
            self._instances[instance] = _Instance(instance, timeout_seconds, now + timeout_seconds)
        else:
            member.timeout_seconds = timeout_seconds
            member.reserved_until = now + timeout_seconds
        self._rebalance()

    def renew(self, instance: str, *, timeout_seconds: float, now: float) -> None:
        """Extend ``instance``'s reservations; an instance whose reservations lapsed joins again."""
        self.settle(now)
        member = self._instances.get(instance)
        if member is None:
            self.join(instance, timeout_seconds=timeout_seconds, now=now)
        else:
            member.reserved_until = now + member.timeout_seconds

    def settle(self, now: float) -> None:
        """Release the reservations of instances whose timeout has passed."""
        lapsed = [name for name, member in self._instances.items() if member.reserved_until <= now]
        for name in lapsed:
            del self._instances[name]
        if lapsed:
            self._rebalance()

    def has_instance(self, instance: str) -> bool:
        return instance in self._instances

    def reserved_by(self, instance: str) -> list[int]:
        return [partition for partition, owner in enumerate(self._owners) if owner == instance]

    def epoch(self, partition: int) -> int:
        return self._epochs[partition]

    def reservations(self) -> list[Reservation]:
        """Every partition, reserved or not (call ``settle`` first)."""
        result = []
        for partition, owner in enumerate(self._owners):
            member = self._instances.get(owner) if owner is not None else None
            result.append(
                Reservation(
                    partition=partition,
                    committed_offset=self._committed[partition],
                    instance=owner if member is not None else None,
                    reserved_until=member.reserved_until if member is not None else None,
                )
            )
        return result

    def _rebalance(self) -> None:
        members = list(self._instances)
        count = len(self._owners)
        if not members:
            self._owners = [None] * count
            return
        quota = {
            name: count // len(members) + (1 if index < count % len(members) else 0)
            for index, name in enumerate(members)
        }
        owned: dict[str, list[int]] = {name: [] for name in members}
        for partition, owner in enumerate(self._owners):
            if owner in owned:
                owned[owner].append(partition)
        free: list[int] = []
        for name in members:
            while len(owned[name]) > quota[name]:
                free.append(owned[name].pop())
        free.extend(partition for partition, owner in enumerate(self._owners) if owner not in owned)
        free.sort(reverse=True)
        for name in members:
            while len(owned[name]) < quota[name]:
                owned[name].append(free.pop())
        previous = self._owners
        self._owners = [None] * count
        for name, partitions in owned.items():
            for partition in partitions:
                self._owners[partition] = name
        for partition in range(count):
            if self._owners[partition] != previous[partition]:
                self._epochs[partition] += 1
