"""One read cap for all partitions together, decided with scripted partition counters (the narrow seam).

Each counter knows a lower bound without I/O and, when asked to count, returns its true lag up to what it was asked
for. The cases pin which partitions are read, how far, and how each is marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from scaler.errors import UpstreamError
from scaler.metadata import StreamRef
from scaler.sources.stream_cap import count_to_cap
from scaler.sources.stream_ledger import Start
from scaler.values import PartitionLag


@dataclass(frozen=True)
class Count:
    lag: int
    exact: bool
    known: bool = True


@dataclass
class Scripted:
    """A partition whose true lag is ``lag``; ``remembered`` is what the ledger holds (None: nothing)."""

    lag: int
    remembered: int | None = None
    throttled: bool = False
    check_due: bool = False
    asked: list[int] = field(default_factory=list)

    def known(self, start: Start) -> int | None:
        return self.remembered

    def due(self, start: Start) -> bool:
        return self.check_due

    def count(self, start: Start, need: int) -> Count:
        self.asked.append(need)
        if self.throttled:
            return Count(self.remembered or 0, exact=False, known=self.remembered is not None)
        return Count(min(self.lag, need), exact=self.lag < need)


def ref(read_cap: int, *, earliest: bool = True, polls: int = 1) -> StreamRef:
    return StreamRef("s", "g", None, earliest, None, read_cap, polls)


def run(cap: int, readers: dict[str, Scripted], **kwargs: object) -> dict[str, PartitionLag]:
    committed: dict[str, int | None] = kwargs.pop("committed", {}) or {}  # type: ignore[assignment]
    still: dict[str, int] = kwargs.pop("still", {}) or {}  # type: ignore[assignment]
    return count_to_cap(
        ref(cap, **kwargs),  # type: ignore[arg-type]
        committed,
        list(readers),
        {p: still.get(p, 0) for p in readers},
        readers,
        max_unread_seconds=10.0,
    )


def test_below_the_cap_every_partition_is_counted_exactly() -> None:
    readers = {"0": Scripted(5), "1": Scripted(7), "2": Scripted(0)}
    lags = run(100, readers)
    assert [(p.lag, p.capped) for p in lags.values()] == [(5, False), (7, False), (0, False)]
    assert [r.asked for r in readers.values()] == [[100], [95], [88]]  # each may use what the others left


def test_at_the_cap_the_rest_is_not_read_and_is_marked_capped() -> None:
    readers = {"0": Scripted(30), "1": Scripted(40, remembered=12), "2": Scripted(9)}
    lags = run(25, readers)
    # what is remembered counts first (partition 1), largest first; it is read only as far as the cap needs
    assert readers["1"].asked == [25]
    assert (readers["0"].asked, readers["2"].asked) == ([], [])
    assert lags["1"] == PartitionLag("1", 25, None, True, False)
    assert lags["0"] == PartitionLag("0", 0, None, True, False)


def test_remembered_counts_reaching_the_cap_cost_no_read_at_all() -> None:
    readers = {"0": Scripted(30, remembered=20), "1": Scripted(40, remembered=30)}
    lags = run(25, readers)
    assert [r.asked for r in readers.values()] == [[], []]
    assert {p: (lag.lag, lag.capped) for p, lag in lags.items()} == {"0": (20, True), "1": (30, True)}


def test_latest_owes_nothing_for_never_committed_partitions_and_reads_nothing() -> None:
    readers = {"0": Scripted(30), "1": Scripted(40)}
    lags = run(100, readers, earliest=False, committed={"1": 3})
    assert lags["0"] == PartitionLag("0", 0, None, False, False)
    assert (readers["0"].asked, readers["1"].asked) == ([], [100])


def test_suspected_stuck_partitions_are_counted_but_do_not_use_up_the_cap() -> None:
    readers = {"0": Scripted(90), "1": Scripted(8), "2": Scripted(9)}
    lags = run(50, readers, committed={"0": 1, "1": 1}, still={"0": 2, "1": 0}, polls=2)
    assert lags["0"] == PartitionLag("0", 50, 1, True, True)  # persistent, counted up to the cap on its own
    assert (lags["1"].lag, lags["2"].lag) == (8, 9)  # the others are still counted in full
    assert (lags["1"].capped, lags["2"].capped) == (False, False)


def test_a_throttled_partition_never_counted_fails_the_read() -> None:
    readers = {"0": Scripted(3), "1": Scripted(5, throttled=True)}
    with pytest.raises(UpstreamError, match="partition 1 of stream s could not be read"):
        run(100, readers)
    readers = {"0": Scripted(3), "1": Scripted(5, remembered=4, throttled=True)}
    assert run(100, readers)["1"] == PartitionLag("1", 4, None, True, False)


def test_a_due_retention_check_runs_even_when_what_is_known_reaches_the_cap() -> None:
    # partition 0 remembered 30 messages, but retention has since trimmed them all: its check is due
    readers = {"0": Scripted(0, remembered=30, check_due=True), "1": Scripted(40, remembered=20)}
    lags = run(25, readers)
    assert readers["0"].asked == [5]  # enough known (30 for 5 needed), but checked: it turns out to hold nothing
    assert readers["1"].asked == [25]  # so partition 1 is read up to the cap after all
    assert (lags["0"].lag, lags["1"].lag) == (0, 25)
