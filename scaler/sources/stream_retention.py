"""Retention, the one change to a partition that a ledger of seen offsets cannot see, and how a count follows it.

Retention trims a partition's oldest messages; a count that starts below them would include messages that are gone.
Every ``trim_check_seconds`` the lowest offset a count includes is checked with a payload-free ``CreateCursor
AT_OFFSET``. When it is gone, one message read from ``TRIM_HORIZON`` tells the oldest retained offset; the ledger
forgets everything below it, and a committed offset below it counts from the horizon. Retention is at least 24 hours,
so between checks a count can only overstate messages that were trimmed, never understate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from scaler.sources.stream_budget import StreamReadSettings
from scaler.sources.stream_calls import PartitionCalls, PartitionState, Paused
from scaler.sources.stream_ledger import Segment, Start

log = logging.getLogger(__name__)


class Retention:
    """Checks and follows retention for one partition's counts; the caller holds the partition's lock."""

    def __init__(
        self,
        *,
        calls: PartitionCalls,
        state: PartitionState,
        settings: StreamReadSettings,
        clock: Callable[[], float],
    ) -> None:
        self._calls = calls
        self._state = state
        self._settings = settings
        self._clock = clock

    def due(self, start: Start, segment: Segment, now: float) -> bool:
        """Whether the count from ``start`` must be checked against retention before it is trusted."""
        lowest = segment.first_after(start)
        if lowest is None:
            return False  # nothing counted, so nothing a trim could remove
        fresh = now - segment.verified_at < self._settings.trim_check_seconds
        return not (fresh and segment.verified_low is not None and lowest >= segment.verified_low)

    def check(self, start: Start, segment: Segment, now: float) -> tuple[Start, Segment | None]:
        """Every ``trim_check_seconds``: is the lowest offset this count includes still retained?"""
        if not self.due(start, segment, now):
            return start, segment
        lowest = segment.first_after(start)
        assert lowest is not None
        if self._calls.create_cursor("AT_OFFSET", lowest) is not None:
            segment.verified_low, segment.verified_at = lowest, now
            return start, segment
        start = self.after_trim(start)
        return start, self._state.ledger.find(start)

    def after_trim(self, start: Start) -> Start:
        """Something counted was trimmed: read the oldest retained message, forget everything below it.

        Returns where the count now starts: the horizon when the committed offset itself is gone.
        """
        now = self._clock()
        cursor = self._calls.create_cursor("TRIM_HORIZON")
        if cursor is None or self._state.budget.page_limit(now, 1) == 0:
            raise Paused()  # cannot look now; the count stays the (over-)count of the ledger, marked inexact
        offsets, next_cursor = self._calls.page(cursor, 1, now)
        ledger = self._state.ledger
        if not offsets:  # nothing retained at all: every count is zero, and the next message starts a new segment
            ledger.segments = []
            waiting = Segment(floor=None, top=None, horizon=True, cursor=next_cursor, cursor_at=now, used_at=now)
            waiting.at_head_at = now
            ledger.open(waiting)
            if start is not None:
                ledger.gone(start)  # nothing is retained, so neither is the committed offset
            return None
        oldest = offsets[0]
        calls = self._calls
        log.info("partition %s of stream %s was trimmed up to offset %d", calls.partition, calls.stream_id, oldest)
        ledger.trim_below(oldest)
        survivor = ledger.find(None)
        if survivor is None or not survivor.runs:  # nothing seen survived: the message just read starts the count
            if survivor is not None:
                ledger.drop(survivor)
            segment = Segment(floor=oldest - 1, top=None, horizon=True, cursor=next_cursor, cursor_at=now)
            segment.add([oldest])
            segment.verified_low, segment.verified_at, segment.used_at = oldest, now, now
            ledger.open(segment)
            ledger.normalize()
        for segment in ledger.segments:
            if segment.horizon:
                segment.verified_low, segment.verified_at = oldest, now
        return None if start is None or start < oldest - 1 else start
