"""``keepAliveSeconds``: stay active for a rolling window after the last sign of work, so sparse traffic does not
cold-start the consumers again and again (KEDA issue 7327).

KEDA's ``cooldownPeriod`` counts from the last time the scaler said "active", that is from when the backlog first
read empty, whatever happened in between. Here every reading that shows backlog or in-flight messages restarts the
window instead. The rule, as pure functions: a reading that is active by itself (backlog above
``activationBacklog``) opens or restarts the window; a reading with any message visible or in flight restarts a
window that is still open; the trigger is active while the window is open. A window never opens on a reading that
is not active by itself, so keep-alive never wakes a workload ``activationBacklog`` would leave asleep.

**Replicas share no state.** The window lives in each scaler replica's memory, keyed by trigger, and only readings
that replica made itself move it. KEDA treats any ``true`` as activity and round-robins its calls, so the workload
stays up while any replica's window is open. A replica that restarts, or never saw the last arrival, has no
window: it never keeps a workload alive on its own, and after a restart during an idle stretch the workload may
be scaled in up to ``keepAliveSeconds`` early (KEDA's ``cooldownPeriod`` still applies after the last ``true``).
"""

from __future__ import annotations

from collections.abc import Hashable

from scaler.bounded import FLEET_CAPACITY, Bounded
from scaler.metadata import TriggerConfig
from scaler.policy import backlog_of
from scaler.values import QueueBacklog, QueueSetBacklog, TriggerReading


def busy(reading: TriggerReading, config: TriggerConfig) -> bool:
    """Any sign of work: a message visible or in flight (whatever ``includeInFlight`` says), or Streaming lag."""
    if isinstance(reading, QueueBacklog):
        return reading.visible + reading.in_flight > 0
    if isinstance(reading, QueueSetBacklog):
        return any(part.visible + part.in_flight > 0 for part in reading.parts)
    return backlog_of(reading, config) > 0


def extend(last: float | None, *, at: float, active: bool, busy: bool, window: float) -> float | None:
    """The window's start after a reading made ``at``: opened or restarted by an active reading, restarted by a busy
    one while still open, else unchanged."""
    if active or (busy and last is not None and at - last < window):
        return at if last is None else max(last, at)
    return last


def is_open(last: float | None, now: float, window: float) -> bool:
    return last is not None and now - last < window


class KeepAlive:
    """Each trigger's window start, in bounded memory (this replica's readings only; see the module docstring)."""

    def __init__(self, *, capacity: int = FLEET_CAPACITY) -> None:
        self._starts: Bounded[Hashable, float] = Bounded(capacity)

    def active(self, key: Hashable, *, at: float, now: float, active: bool, busy: bool, window: float) -> bool:
        """Whether the trigger is active, given its own answer for a reading made ``at`` and the window so far."""
        if window <= 0:
            return active
        start = extend(self._starts.get(key), at=at, active=active, busy=busy, window=window)
        if start is None:
            return active
        self._starts.put(key, start)
        return active or is_open(start, now, window)
