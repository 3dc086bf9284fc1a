"""One partition's count brought up to date: where it starts, how far it reads, and what it may keep.

A count needs a segment of the partition's ledger (``stream_ledger``) that covers where the count starts. With one,
a refresh reads only past its top, with the cursor the previous read left (no CreateCursor), and at most one empty
GetMessages when nothing arrived. Without one (a new replica, a new group, a committed offset beyond what was
seen), a cold read starts at ``AFTER_OFFSET committed`` or at ``TRIM_HORIZON``, bounded by the count still needed.

Retention is the one thing a ledger cannot see (``stream_retention`` checks it once a minute). A cursor or offset
refused as trimmed leads to the same bounded path: one message from the horizon, then on from what is still known.

A page shorter than asked for is taken as the head, so a refresh with arrivals costs one GetMessages, not two. OCI
may return fewer messages than the limit while more exist (at its response size, say); the rest is then counted by
the next refresh, exactly like a message that arrived just after this one: the ledger never loses it.

Reads obey the partition's budget (``stream_budget``); a 429 rests the partition and the count so far is kept as a
lower bound. The calls themselves, and what each costs, are in ``stream_calls``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scaler.errors import UpstreamError
from scaler.sources.stream_budget import StreamReadSettings
from scaler.sources.stream_calls import PartitionCalls, PartitionState, Paused
from scaler.sources.stream_ledger import Segment, Start
from scaler.sources.stream_retention import Retention

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionCount:
    """A partition's lag as far as it was counted."""

    lag: int
    exact: bool
    """True when the count reached the partition's head (now, or within ``reuse_seconds``)."""
    known: bool
    """False when the partition could not be read now and what the ledger holds is missing or older than
    ``max_unread_seconds``: serving it would pass off an old count as a fresh one."""


class PartitionReader:
    """Counts one partition of one stream from a start, within a needed amount, using and extending its ledger."""

    def __init__(
        self,
        *,
        client: Any,
        stream_id: str,
        partition: str,
        state: PartitionState,
        settings: StreamReadSettings,
        clock: Callable[[], float],
    ) -> None:
        self._stream_id = stream_id
        self._partition = partition
        self._state = state
        self._settings = settings
        self._clock = clock
        self._calls = PartitionCalls(client=client, stream_id=stream_id, partition=partition, state=state, clock=clock)
        self._retention = Retention(calls=self._calls, state=state, settings=settings, clock=clock)

    def known(self, start: Start) -> int | None:
        """What the ledger already holds for ``start`` without any read (None: nothing)."""
        with self._state.lock:
            segment = self._state.ledger.find(start)
            return segment.count_after(start) if segment is not None else None

    def due(self, start: Start) -> bool:
        """Whether what is known for ``start`` awaits its retention check (which ``count`` does, without payload)."""
        with self._state.lock:
            segment = self._state.ledger.find(start)
            return segment is not None and self._retention.due(start, segment, self._clock())

    def count(self, start: Start, need: int) -> PartitionCount:
        """Messages after ``start`` (the horizon when None); reading stops once ``need`` are counted."""
        with self._state.lock:
            try:
                return self._count(start, need)
            except Paused:
                segment = self._state.ledger.find(start)
                lag = segment.count_after(start) if segment is not None else 0
                read_at = self._state.read_at
                recent = read_at is not None and self._clock() - read_at <= self._settings.max_unread_seconds
                return PartitionCount(lag=lag, exact=False, known=segment is not None and recent)

    def _count(self, start: Start, need: int) -> PartitionCount:
        now = self._clock()
        ledger = self._state.ledger
        segment = ledger.find(start)
        if segment is None and start is not None:
            if ledger.gone_through is not None and start <= ledger.gone_through:
                start, segment = None, ledger.find(None)  # the committed offset is known to be trimmed
            else:
                segment = self._open_after(start, now)
                if segment is None:  # the committed offset is no longer retained: count every retained message
                    start, segment = None, ledger.find(None)
        if segment is not None:
            start, segment = self._retention.check(start, segment, now)
        if segment is None:
            segment = self._open_horizon(now)
        segment.used_at = now
        if segment.at_head_at is not None and now - segment.at_head_at < self._settings.reuse_seconds:
            return PartitionCount(lag=segment.count_after(start), exact=True, known=True)
        return self._advance(start, segment, need, now)

    def _advance(self, start: Start, segment: Segment, need: int, now: float) -> PartitionCount:
        """Read past the segment's top until the head, ``need`` counted, or the budget says stop."""
        budget = self._state.budget
        while True:
            have = segment.count_after(start)
            if have >= need:
                return PartitionCount(lag=have, exact=False, known=True)
            limit = budget.page_limit(now, need - have)
            if limit == 0:
                raise Paused()
            cursor = self._cursor_at_top(segment, now)
            if cursor is None:  # the segment's top was trimmed away: learn the horizon, count on from it
                start = self._retention.after_trim(start)
                found = self._state.ledger.find(start) or self._open_horizon(now)
                segment = found
                continue
            offsets, next_cursor = self._calls.page(cursor, limit, now)
            segment.cursor, segment.cursor_at = next_cursor, now
            if not offsets:
                segment.at_head_at = now
                return PartitionCount(lag=segment.count_after(start), exact=True, known=True)
            segment.at_head_at = None
            if segment.top is not None and offsets[0] <= segment.top:
                self._state.ledger.drop(segment)
                raise UpstreamError(
                    f"GetMessages (partition {self._partition}) returned offset {offsets[0]}, not after the "
                    f"cursor's position {segment.top}; the partition will be counted afresh"
                )
            first_of_horizon = segment.floor is None
            segment.add(offsets)
            if first_of_horizon:
                segment.verified_low, segment.verified_at = offsets[0], now
                self._state.ledger.trim_below(offsets[0])
            settled = self._state.ledger.settle(segment)
            if settled is None:
                return PartitionCount(lag=have + len(offsets), exact=False, known=True)
            segment = settled
            if len(offsets) < limit:  # a short page: the head, as far as this read can tell (see the module doc)
                segment.at_head_at = now
                return PartitionCount(lag=segment.count_after(start), exact=True, known=True)

    def _cursor_at_top(self, segment: Segment, now: float) -> str | None:
        """The kept cursor while young enough, else a new one right after the top (None: the top was trimmed)."""
        if segment.cursor is not None and now - segment.cursor_at < self._settings.cursor_reuse_seconds:
            return segment.cursor
        if segment.top is None or (segment.horizon and not segment.runs):
            cursor = self._calls.create_cursor("TRIM_HORIZON")  # nothing seen is retained: start at the oldest message
        else:
            cursor = self._calls.create_cursor("AFTER_OFFSET", segment.top)
        segment.cursor, segment.cursor_at = cursor, now
        return cursor

    def _open_after(self, start: int, now: float) -> Segment | None:
        cursor = self._calls.create_cursor("AFTER_OFFSET", start)
        if cursor is None:
            self._state.ledger.gone(start)
            log.info(
                "committed offset %d of partition %s is no longer retained; counting from the oldest message",
                start,
                self._partition,
            )
            return None
        segment = Segment(floor=start, top=start, horizon=False, cursor=cursor, cursor_at=now)
        segment.verified_low, segment.verified_at, segment.used_at = start, now, now
        return self._state.ledger.open(segment)

    def _open_horizon(self, now: float) -> Segment:
        """A segment that will start at the oldest retained message: its first page sets its floor."""
        cursor = self._calls.create_cursor("TRIM_HORIZON")
        segment = Segment(floor=None, top=None, horizon=True, cursor=cursor, cursor_at=now, used_at=now)
        return self._state.ledger.open(segment)
