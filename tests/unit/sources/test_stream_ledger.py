"""The offsets a replica has seen, counted without I/O: exact after any committed offset a segment covers.

Each case is what a partition looks like to the reader (pages of offsets it read, trims it learned of) and the count
a full read would give from each start; the ledger must agree everywhere it claims to cover.
"""

from __future__ import annotations

import pytest

from scaler.sources.stream_ledger import MAX_RUNS, MAX_SEGMENTS, PartitionLedger, Segment, Start


def full_count(retained: list[int], start: Start) -> int:
    return sum(1 for offset in retained if start is None or offset > start)


def after(start: int, *pages: list[int]) -> Segment:
    segment = Segment(floor=start, top=start, horizon=False)
    for page in pages:
        segment.add(page)
    return segment


def horizon(*pages: list[int]) -> Segment:
    segment = Segment(floor=None, top=None, horizon=True)
    for page in pages:
        segment.add(page)
    return segment


@pytest.mark.parametrize(
    ("segment", "retained"),
    [
        (after(9, [10, 11, 12], [13, 14]), list(range(0, 15))),
        (after(9, [10, 11], [15, 16, 20]), [*range(0, 12), 15, 16, 20]),  # gaps stay exact: offsets are counted
        (horizon([5, 6, 7], [8]), list(range(5, 9))),
        (horizon(), []),
    ],
    ids=["contiguous", "gaps", "horizon", "empty-horizon"],
)
def test_counts_equal_a_full_count_from_every_covered_start(segment: Segment, retained: list[int]) -> None:
    starts: list[Start] = [None] if segment.horizon else []
    if segment.floor is not None and segment.top is not None:
        starts += list(range(segment.floor, segment.top + 1))
    assert starts or segment.floor is None
    for start in starts:
        assert segment.covers(start), start
        assert segment.count_after(start) == full_count(retained, start), start
    assert not segment.covers((segment.top or 0) + 1)


def test_a_horizon_segment_takes_its_floor_from_the_first_message() -> None:
    segment = horizon()
    assert (segment.floor, segment.top, segment.count_after(None)) == (None, None, 0)
    segment.add([40, 41])
    assert (segment.floor, segment.top, segment.runs) == (39, 41, [[40, 41]])
    assert segment.first_after(None) == 40
    assert segment.first_after(40) == 41
    assert segment.first_after(41) is None


def test_offsets_must_grow_past_the_top() -> None:
    segment = after(9, [10, 11])
    with pytest.raises(ValueError, match="not above"):
        segment.add([11])


def test_a_trim_forgets_what_is_gone_and_the_segment_reaches_the_horizon() -> None:
    segment = after(9, list(range(10, 30)))
    segment.trim_below(25)
    assert (segment.floor, segment.top, segment.horizon, segment.runs) == (24, 29, True, [[25, 29]])
    assert segment.count_after(None) == 5
    assert segment.count_after(9) == 5  # a committed offset below the trim counts what is retained
    everything_gone = after(9, [10, 11])
    everything_gone.trim_below(50)
    assert (everything_gone.floor, everything_gone.top, everything_gone.count_after(None)) == (49, 49, 0)


def test_segments_merge_when_a_read_joins_them_and_keep_the_upper_cursor() -> None:
    ledger = PartitionLedger()
    behind = ledger.open(after(10, [11, 12]))
    ahead = ledger.open(after(20, [21, 22, 23]))
    ahead.cursor, ahead.cursor_at = "after-23", 5.0
    assert ledger.find(15) is None
    behind.add(list(range(13, 22)))  # reads on from 12 and passes 20, the other segment's floor
    merged = ledger.settle(behind)
    assert merged is behind
    assert ledger.segments == [behind]
    assert (behind.floor, behind.top, behind.runs, behind.cursor) == (10, 23, [[11, 23]], "after-23")
    assert behind.count_after(10) == 13
    assert ledger.find(15) is behind


def test_settle_finds_the_segment_that_absorbed_the_one_that_grew() -> None:
    ledger = PartitionLedger()
    lower = ledger.open(after(0, list(range(1, 11))))
    upper = ledger.open(after(5, []))  # a cold read opened inside the lower one's range (a group that moved back)
    assert ledger.settle(upper) is lower
    assert ledger.segments == [lower]


def test_a_trim_learned_by_the_ledger_merges_what_starts_at_the_horizon() -> None:
    ledger = PartitionLedger()
    old = ledger.open(after(0, list(range(1, 6))))
    new = ledger.open(after(9, [10, 11]))
    ledger.trim_below(10)
    assert ledger.segments == [new]  # the old one is all gone; the new one now starts at the horizon
    assert (new.floor, new.top, new.horizon, new.runs) == (9, 11, True, [[10, 11]])
    assert ledger.find(None) is new
    assert ledger.find(9) is new
    assert old not in ledger.segments


def test_segments_are_bounded_in_number_and_in_gaps() -> None:
    ledger = PartitionLedger()
    for index in range(MAX_SEGMENTS + 3):
        segment = ledger.open(after(index * 100))
        segment.used_at = float(index)
    assert len(ledger.segments) == MAX_SEGMENTS
    assert ledger.find(0) is None  # the least recently used went first
    gappy = ledger.open(after(10_000, list(range(10_001, 10_001 + 2 * (MAX_RUNS + 1), 2))))
    assert ledger.settle(gappy) is None
    assert gappy not in ledger.segments
