"""N-poll persistence: a committed offset must stand still for N reads in a row; a failed read is no poll."""

from __future__ import annotations

from scaler.sources.stream_persistence import StillOffsets


def test_counts_unchanged_reads_per_partition_and_restart_when_the_offset_moves() -> None:
    still = StillOffsets()
    reads: list[dict[str, int | None]] = [
        {"0": 5, "1": 7, "2": None},
        {"0": 5, "1": 8, "2": None},
        {"0": 5, "1": 8, "2": None},
        {"0": 6, "1": 8},
    ]
    seen = []
    for committed in reads:
        counts = still.counts(committed, ["0", "1", "2"])
        still.keep(committed, counts)
        seen.append(counts)
    assert seen == [
        {"0": 0, "1": 0, "2": 0},
        {"0": 1, "1": 0, "2": 0},
        {"0": 2, "1": 1, "2": 0},  # never committed: no consumer to be stuck
        {"0": 0, "1": 2, "2": 0},
    ]


def test_a_read_that_is_not_kept_does_not_count() -> None:
    still = StillOffsets()
    still.keep({"0": 5}, still.counts({"0": 5}, ["0"]))
    assert still.counts({"0": 5}, ["0"]) == {"0": 1}  # computed for a read that then failed: not kept
    assert still.counts({"0": 5}, ["0"]) == {"0": 1}
