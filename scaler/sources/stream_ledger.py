"""What this scaler replica already knows about a partition's offsets, so that a refresh reads only what arrived.

OCI has no head-offset API, so lag is counted by reading messages; counting them again on every refresh made the
lag cost the whole backlog, every refresh. But offsets within a partition are strictly increasing and never
change, so an offset once seen stays true. A ``Segment`` records what was seen in one stretch of a partition:
every message with an offset in ``(floor, top]``, kept as runs of consecutive offsets. OCI's offsets are
consecutive in practice, which makes that one run and lag ``top - committed``; a gap costs one more run and the
count stays exact, because it is a count of offsets seen, never a difference of offsets assumed contiguous.

A partition may hold several segments: two consumer groups far apart (one behind the other by more than the read
cap) each need a count from their own committed offset. Segments merge when a read joins them. Everything here is
a cache: it only ever saves reads. A replica that starts, or a segment that is dropped, costs one bounded cold read
and nothing else; several scaler replicas each keep their own and never need to agree.

Nothing here does I/O; the reader (``stream_reader``) decides what to read and reports what it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

MAX_RUNS: Final = 4096
"""A segment with more gaps than this is dropped (its partition is counted by reading again): bounded memory."""
MAX_SEGMENTS: Final = 8
"""Segments kept per partition; the least recently used goes first."""

Start = int | None
"""Where a count starts: after this committed offset, or None for the oldest retained message (the horizon)."""


@dataclass
class Segment:
    """Every message with an offset in ``(floor, top]`` has been seen; ``runs`` are their offsets."""

    floor: int | None
    """Offsets up to here are outside the segment. None only for a horizon segment that has seen no message yet."""
    top: int | None
    """The highest offset the segment covers (None while floor is None)."""
    horizon: bool
    """``floor + 1`` was the oldest retained offset when last verified, so a count from the horizon is all runs."""
    runs: list[list[int]] = field(default_factory=list)
    """Sorted, disjoint, non-adjacent ``[first, last]`` offset ranges, all within ``(floor, top]``."""
    cursor: str | None = None
    """A plain cursor positioned right after ``top`` (from the last GetMessages), or None."""
    cursor_at: float = 0.0
    """When ``cursor`` was received: cursors expire five minutes after issue."""
    at_head_at: float | None = None
    """When a GetMessages from ``top`` last came back empty (``top`` was the head then)."""
    verified_low: int | None = None
    """An offset known to be retained at ``verified_at`` (so was everything above it)."""
    verified_at: float = 0.0
    used_at: float = 0.0

    def covers(self, start: Start) -> bool:
        if start is None:
            return self.horizon
        return self.floor is not None and self.top is not None and self.floor <= start <= self.top

    def count_after(self, start: Start) -> int:
        """Messages seen after ``start`` (all of them for the horizon); exact when ``covers(start)``."""
        total = 0
        for first, last in self.runs:
            low = first if start is None else max(first, start + 1)
            if last >= low:
                total += last - low + 1
        return total

    def first_after(self, start: Start) -> int | None:
        """The lowest seen offset a count from ``start`` includes: the one whose retention decides the count."""
        for first, last in self.runs:
            if start is None or last > start:
                return first if start is None else max(first, start + 1)
        return None

    def add(self, offsets: Sequence[int]) -> None:
        """Record a GetMessages page read from right after ``top``: increasing offsets, all above ``top``."""
        if not offsets:
            return
        if self.floor is None:
            self.floor = offsets[0] - 1  # the first message a horizon cursor returns is the oldest retained
        for offset in offsets:
            if self.top is not None and offset <= self.top:
                raise ValueError(f"offset {offset} is not above the segment's top {self.top}")
            if self.runs and self.runs[-1][1] == offset - 1:
                self.runs[-1][1] = offset
            else:
                self.runs.append([offset, offset])
            self.top = offset

    def trim_below(self, oldest: int) -> None:
        """Retention removed every offset below ``oldest``: forget them; the segment now starts at the horizon."""
        self.runs = [[max(first, oldest), last] for first, last in self.runs if last >= oldest]
        if self.floor is None or self.floor < oldest - 1:
            self.floor = oldest - 1
        if self.floor == oldest - 1:
            self.horizon = True
        if self.top is None or self.top < self.floor:
            self.top = self.floor

    def absorb(self, upper: Segment) -> None:
        """Join ``upper`` (whose floor this segment's top has reached) into this one."""
        assert self.top is not None
        assert upper.top is not None
        for first, last in upper.runs:
            if last <= self.top:
                continue
            first = max(first, self.top + 1)
            if self.runs and self.runs[-1][1] >= first - 1:
                self.runs[-1][1] = last
            else:
                self.runs.append([first, last])
        if upper.top > self.top:
            self.top, self.cursor, self.cursor_at, self.at_head_at = (
                upper.top,
                upper.cursor,
                upper.cursor_at,
                upper.at_head_at,
            )
        self.used_at = max(self.used_at, upper.used_at)


class PartitionLedger:
    """The segments of one partition. Not thread-safe: the reader holds the partition's lock while using it."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.gone_through: int | None = None
        """Every offset up to here is known to be trimmed (retention only moves forward, so this stays true)."""

    def gone(self, offset: int) -> None:
        """Retention is known to have removed ``offset`` and everything below it."""
        self.gone_through = offset if self.gone_through is None else max(self.gone_through, offset)

    def find(self, start: Start) -> Segment | None:
        for segment in self.segments:
            if segment.covers(start):
                return segment
        return None

    def open(self, segment: Segment) -> Segment:
        """Add a segment for a cold read; past ``MAX_SEGMENTS``, the least recently used one is forgotten."""
        self.segments.append(segment)
        if len(self.segments) > MAX_SEGMENTS:
            self.segments.remove(min(self.segments, key=lambda s: s.used_at))
        return segment

    def drop(self, segment: Segment) -> None:
        if segment in self.segments:
            self.segments.remove(segment)

    def settle(self, segment: Segment) -> Segment | None:
        """After ``segment`` grew or was trimmed: merge what now touches; the segment that holds its top, if any."""
        self.normalize()
        if segment.floor is None:
            return segment if segment in self.segments else None
        for candidate in self.segments:
            if candidate is segment or (candidate.covers(segment.top) and candidate.floor is not None):
                return candidate
        return None

    def normalize(self) -> None:
        """Merge segments that overlap or touch; drop the ones gaps made too large."""
        known = [s for s in self.segments if s.floor is not None and s.top is not None]
        known.sort(key=lambda s: (s.floor, -(s.top or 0)))
        merged: list[Segment] = []
        for segment in known:
            assert segment.floor is not None
            last = merged[-1] if merged else None
            if last is not None and last.top is not None and segment.floor <= last.top:
                if segment.floor == last.floor:
                    last.horizon = last.horizon or segment.horizon
                last.absorb(segment)
            else:
                merged.append(segment)
        waiting = [s for s in self.segments if s.floor is None]
        self.segments = [s for s in merged if len(s.runs) <= MAX_RUNS] + waiting

    def trim_below(self, oldest: int) -> None:
        """Retention reached ``oldest``: every segment forgets what is gone, and what is left merges."""
        self.gone(oldest - 1)
        for segment in self.segments:
            if segment.floor is not None:
                segment.trim_below(oldest)
        self.normalize()
