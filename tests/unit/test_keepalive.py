"""The keep-alive rule, exact: which readings open, restart or leave the window, and when it closes."""

from __future__ import annotations

import pytest

from scaler.keepalive import KeepAlive, busy, extend
from scaler.metadata import parse_metadata
from scaler.values import Operation, QueueBacklog, QueueSetBacklog


def queue(visible: int, in_flight: int = 0) -> QueueBacklog:
    return QueueBacklog(visible=visible, in_flight=in_flight, size_bytes=0, dlq_visible=3, dlq_in_flight=0)


CONFIG = parse_metadata({"source": "oci-queue", "queueId": "q", "includeInFlight": "false"}).config


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        (queue(0), False),  # dead letters are no sign of work
        (queue(1), True),
        (queue(0, 1), True),  # in flight counts even when the trigger does not count it as backlog
        (QueueSetBacklog((queue(0), queue(0, 2)), Operation.MAX), True),
        (QueueSetBacklog((queue(0), queue(0)), Operation.SUM), False),
    ],
)
def test_busy(reading: QueueBacklog | QueueSetBacklog, expected: bool) -> None:
    assert busy(reading, CONFIG) is expected


@pytest.mark.parametrize(
    ("last", "at", "active", "is_busy", "start"),
    [
        (None, 5.0, True, True, 5.0),  # an active reading opens the window
        (None, 5.0, False, True, None),  # a busy one alone never opens it
        (0.0, 5.0, True, False, 5.0),  # an active reading restarts it
        (0.0, 9.9, False, True, 9.9),  # a busy one restarts it while open
        (0.0, 10.0, False, True, 0.0),  # but not once closed (window 10)
        (0.0, 5.0, False, False, 0.0),  # an idle reading leaves it
        (8.0, 5.0, True, True, 8.0),  # an older reading never moves it back
    ],
)
def test_extend(last: float | None, at: float, active: bool, is_busy: bool, start: float | None) -> None:
    assert extend(last, at=at, active=active, busy=is_busy, window=10.0) == start


def test_each_trigger_keeps_its_own_window() -> None:
    alive = KeepAlive(capacity=2)
    timeline = [
        # (key, at, now, active by itself, busy) -> active
        (("a", 0.0, 0.0, True, True), True),
        (("a", 6.0, 6.0, False, False), True),
        (("b", 6.0, 6.0, False, True), False),  # b never opened a window
        (("a", 9.0, 9.5, False, True), True),  # restarts a's window at 9
        (("a", 18.5, 18.9, False, False), True),
        (("a", 19.0, 19.0, False, False), False),
        (("a", 19.0, 19.0, True, True), True),
    ]
    seen = [
        alive.active(key, at=at, now=now, active=active, busy=is_busy, window=10.0)
        for (key, at, now, active, is_busy), _ in timeline
    ]
    assert seen == [expected for _, expected in timeline]
    assert alive.active("c", at=0.0, now=0.0, active=False, busy=True, window=0.0) is False  # 0: off
