"""The poison sign, exact: DLQ growth over the window while the backlog does not shrink, per queue."""

from __future__ import annotations

import pytest

from scaler.poison import Poison, find_poison
from scaler.refresh import Snapshot
from scaler.values import Operation, QueueBacklog, QueueSetBacklog, StreamLag, TriggerReading


def q(visible: int, dlq: int, in_flight: int = 0) -> QueueBacklog:
    return QueueBacklog(visible=visible, in_flight=in_flight, size_bytes=0, dlq_visible=dlq, dlq_in_flight=0)


def at(t: float, reading: TriggerReading) -> Snapshot[TriggerReading]:
    return Snapshot(reading, t)


# (history as (t, visible, dlq), current (visible, dlq)) -> the finding's (dlq before, now, backlog before, now, since)
CASES: dict[str, tuple[list[tuple[float, int, int]], tuple[int, int], tuple[int, int, int, int, float] | None]] = {
    "DLQ grows, backlog flat": ([(0, 40, 0), (5, 40, 2)], (40, 2), (0, 2, 40, 40, 0.0)),
    "DLQ grows, backlog grows": ([(0, 40, 0), (5, 60, 2)], (60, 2), (0, 2, 40, 60, 0.0)),
    "DLQ grows, backlog shrinks": ([(0, 40, 0), (5, 39, 2)], (39, 2), None),
    "DLQ flat": ([(0, 40, 2), (5, 60, 2)], (60, 2), None),
    "backlog empty": ([(0, 0, 0), (5, 0, 2)], (0, 2), None),
    "one reading only": ([(5, 40, 2)], (40, 2), None),
    "growth older than the window is forgotten": ([(0, 40, 0), (6, 40, 2), (16, 40, 2)], (40, 2), None),
    "the window starts at its oldest reading": ([(0, 10, 0), (6, 40, 2), (16, 50, 3)], (50, 3), (2, 3, 40, 50, 6.0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_find_poison(name: str) -> None:
    history, (visible, dlq), expected = CASES[name]
    snapshots = [at(t, q(v, d)) for t, v, d in history]
    found = find_poison(snapshots, q(visible, dlq), window=10.0, include_in_flight=True)
    if expected is None:
        assert found is None
        return
    assert found is not None
    assert (
        found.dlq_before,
        found.dlq_now,
        found.backlog_before,
        found.backlog_now,
        found.since.observed_at,
    ) == expected
    assert found.queue == 0


def test_in_flight_counts_as_the_trigger_counts_it() -> None:
    history = [at(0, q(40, 0, in_flight=10)), at(5, q(45, 1))]
    assert find_poison(history, q(45, 1), window=10.0, include_in_flight=True) is None  # 50 -> 45 shrank
    assert find_poison(history, q(45, 1), window=10.0, include_in_flight=False) is not None  # 40 -> 45


def test_a_queue_set_names_its_poisoned_queue() -> None:
    before = QueueSetBacklog((q(10, 0), q(20, 0)), Operation.SUM)
    now = QueueSetBacklog((q(5, 0), q(25, 4)), Operation.SUM)
    found = find_poison([at(0, before), at(5, now)], now, window=10.0, include_in_flight=True)
    assert found == Poison(1, 0, 4, 20, 25, at(0, before))


def test_streams_have_no_dead_letters() -> None:
    lag = StreamLag(partition_count=1, partitions=())
    assert find_poison([at(0, lag), at(5, lag)], lag, window=10.0, include_in_flight=True) is None
