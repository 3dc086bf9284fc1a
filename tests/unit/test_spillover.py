"""The group's sizing and split (scaler.spillover), with exact counts, on monotonic-clock-like time origins."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from scaler.routing import Split
from scaler.spillover import Load, Readiness, ceil_div, need, share, sustained_need

ORIGINS = (0.0, 1_000_000.0)
"""Production timestamps come from time.monotonic(): nothing may assume a history starts at 0."""
HOLD_SECONDS = 60.0


@pytest.mark.parametrize(
    ("value", "per", "expected"),
    [(0, 10, 0), (1, 10, 1), (10, 10, 1), (10.0004, 10, 1), (10.001, 10, 2), (25, 2.5, 10), (-3, 10, 0), (5, 0, 5000)],
)
def test_ceil_div_on_the_milli_grid(value: float, per: float, expected: int) -> None:
    assert ceil_div(value, per) == expected


@pytest.mark.parametrize(
    ("backlog", "in_flight", "ready", "expected"),
    [
        (95, 0, Readiness(0, 0), 10),  # backlog term alone
        (5, 9, Readiness(6, 6), 9),  # busy term: 9 consumers hold messages
        (5, 40, Readiness(6, 4), 10),  # a consumer may hold a batch: never more busy than ready
        (35, 3, Readiness(12, 0), 4),  # the backlog term wins when higher
        (5, None, Readiness(12, 3), 1),  # Streaming: no in-flight notion, backlog only
        (0, None, Readiness(12, 3), 0),  # ... so no lag is no need, whatever runs
        (0, -2, Readiness(3, 0), 0),  # a nonsensical negative count counts nothing
    ],
)
def test_need_is_the_higher_of_backlog_and_busy(
    backlog: float, in_flight: int | None, ready: Readiness, expected: int
) -> None:
    assert need(Load(at=0.0, backlog=backlog, in_flight=in_flight), target=10.0, ready=ready) == expected


def _series(origin: float, needs: Sequence[tuple[float, int]]) -> tuple[Load, ...]:
    """Readings whose need is exactly the given count (backlog term alone: backlog = 10 x need, nothing in flight)."""
    return tuple(Load(at=origin + at, backlog=10.0 * n, in_flight=0) for at, n in needs)


IDLE = Readiness(0, 0)


def _sustained(history: tuple[Load, ...], hold: float = 10.0) -> int | None:
    return sustained_need(history[-1], history, hold=hold, target=10.0, ready=IDLE)


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_burst_shorter_than_the_hold_leaves_no_trace(origin: float) -> None:
    # 2 for 12 s, a burst of 9 for 8 s, then 2 again: the least need of every 10 s window is 2
    history = _series(origin, [(t, 9 if 12 <= t < 20 else 2) for t in range(0, 31)])
    assert _sustained(history) == 2


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_need_sustained_for_the_hold_counts_and_is_kept_for_the_hold(origin: float) -> None:
    plateau = [(t, 8 if 5 <= t <= 16 else 2) for t in range(0, 27)]
    # 8 held from t=5 to t=16: the window ending at t=15 or 16 saw 8 throughout
    assert _sustained(_series(origin, plateau)) == 8  # t=26: the window ending at 16 is within the last 10 s
    assert _sustained(_series(origin, [*plateau, (27, 2)])) == 2  # t=27: it is not


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_dip_shorter_than_the_hold_does_not_lower_it(origin: float) -> None:
    history = _series(origin, [(t, 3 if 22 <= t <= 25 else 10) for t in range(0, 31)])
    assert _sustained(history) == 10  # the window ending at t=21 saw 10 throughout, and t=21 is within 10 s


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_quiet_window_sustains_no_need(origin: float) -> None:
    assert _sustained(_series(origin, [(t, 0) for t in range(0, 21)])) == 0


@pytest.mark.parametrize("origin", ORIGINS)
def test_the_window_reaches_back_exactly_the_hold(origin: float) -> None:
    """A reading exactly ``hold`` before another is in that reading's window: a dip there is not sustained."""
    assert _sustained(_series(origin, [(0, 5), (10, 1), (20, 5)])) == 1


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_burst_at_the_start_of_the_history_is_not_a_window(origin: float) -> None:
    """The first readings have less than a window behind them, so their least need is no sustained need."""
    history = _series(origin, [(t, 10 if t <= 4 else 1) for t in range(0, 14)])
    assert _sustained(history) == 1


@pytest.mark.parametrize("origin", ORIGINS)
def test_readings_must_reach_back_a_whole_window(origin: float) -> None:
    assert _sustained(_series(origin, [(t, 5) for t in range(0, 10)])) is None  # 9 s < 10 s
    assert _sustained(_series(origin, [(t, 5) for t in range(0, 11)])) == 5
    future = (*_series(origin, [(t, 5) for t in range(0, 21)]), Load(at=origin + 99, backlog=900, in_flight=0))
    assert sustained_need(future[-2], future, hold=10.0, target=10.0, ready=IDLE) == 5  # newer readings ignored


def _history(origin: float, loads: list[tuple[float, float, int]]) -> tuple[Load, ...]:
    return tuple(Load(at=origin + at, backlog=b, in_flight=f) for at, b, f in loads)


@pytest.mark.parametrize("origin", ORIGINS)
def test_managed_keeps_the_sustained_need_after_the_virtual_tier_drained_the_backlog(origin: float) -> None:
    """The loop issue 15 measured: virtual drains the backlog, the backlog term collapses; managed must not."""
    # 12 consumers busy for a whole minute, then the backlog is gone and 6 are busy
    loads = [(float(t), 30.0, 12) for t in range(0, 121, 2)] + [(122.0, 2.0, 6)]
    history = _history(origin, loads)
    split = share(
        history[-1],
        history,
        hold=HOLD_SECONDS,
        decided=1,
        target=10.0,
        ready=Readiness(managed=12, virtual=4),
        managed_cap=12,
        virtual_cap=40,
    )
    assert split == Split(total=6, managed=12, virtual=0, managed_ready=12)


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_short_burst_stays_on_virtual_nodes(origin: float) -> None:
    # two quiet minutes, then 20 s of a backlog of 400: managed stays at the quiet need, virtual takes the burst
    loads = [(float(t), 5.0, 1) for t in range(0, 121, 2)] + [(float(t), 400.0, 10) for t in range(122, 141, 2)]
    history = _history(origin, loads)
    split = share(
        history[-1],
        history,
        hold=HOLD_SECONDS,
        decided=40,
        target=10.0,
        ready=Readiness(managed=1, virtual=10),
        managed_cap=12,
        virtual_cap=40,
    )
    assert split == Split(total=40, managed=1, virtual=40, managed_ready=1)


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize(
    ("busy_now", "managed_there", "managed"),
    [
        (1, 0, 0),  # the need ended as it completed a window: no node for the quiet after it (1 < break-even 3)
        (5, 0, 5),  # half of it is still there: buy that much, not the 10 the window saw
        (1, 8, 8),  # what is already there (running or waiting for a node) is held through the dip
        (12, 0, 10),  # a need above the window's is the backlog's: the sustained 10 moves, virtual covers the rest
    ],
)
def test_the_hold_keeps_managed_capacity_but_buys_none_the_group_no_longer_needs(
    origin: float, busy_now: int, managed_there: int, managed: int
) -> None:
    """The replay the defaults settings measured: a need of 10 that lasted the whole window ended at its last
    reading, and the hold, meant to keep nodes through a dip, bought one that was Ready after the load had gone."""
    history = _history(origin, [(float(t), 5.0, 10) for t in range(0, 121, 2)] + [(122.0, 0.0, busy_now)])
    split = share(
        history[-1],
        history,
        hold=HOLD_SECONDS,
        decided=0,
        target=10.0,
        ready=Readiness(managed=0, virtual=20, managed_replicas=managed_there),
        managed_cap=12,
        virtual_cap=40,
        break_even=3,
    )
    assert split.managed == managed


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize(
    ("busy", "break_even", "managed_ready", "managed", "virtual"),
    [
        (2, 1, 2, 2, 0),  # at break-even 1 any sustained need moves: 2 Ready managed keep up, virtual hands back
        (2, 3, 0, 0, 2),  # two consumers do not pay for a node: the baseline stays on virtual nodes
        (3, 3, 0, 3, 3),  # three do: managed takes them, virtual covers them until they are Ready
        (10, 3, 3, 10, 7),  # above the break-even all of it moves; virtual covers what 3 Ready managed do not
    ],
)
def test_a_sustained_need_below_the_break_even_stays_on_virtual_nodes(
    origin: float, busy: int, break_even: int, managed_ready: int, managed: int, virtual: int
) -> None:
    history = _history(origin, [(float(t), 5.0, busy) for t in range(0, 121, 2)])
    split = share(
        history[-1],
        history,
        hold=HOLD_SECONDS,
        decided=1,
        target=10.0,
        ready=Readiness(managed=managed_ready, virtual=20),
        managed_cap=12,
        virtual_cap=40,
        break_even=break_even,
    )
    assert (split.managed, split.virtual) == (managed, virtual)


@pytest.mark.parametrize("origin", ORIGINS)
@pytest.mark.parametrize("break_even", [1, 13])
def test_a_short_history_keeps_what_is_ready_while_the_group_has_a_need(origin: float, break_even: int) -> None:
    """A restarted scaler has seconds of history: it must neither hand back managed capacity nor buy any. The
    break-even applies to the need the group sustained, never to pods that run."""

    def young(loads: list[tuple[float, float, int]], decided: int, ready: Readiness) -> Split:
        history = _history(origin, loads)
        return share(
            history[-1],
            history,
            hold=HOLD_SECONDS,
            decided=decided,
            target=10.0,
            ready=ready,
            managed_cap=12,
            virtual_cap=40,
            break_even=break_even,
        )

    busy: list[tuple[float, float, int]] = [(0, 2, 3), (4, 200, 3)]
    assert young(busy, 20, Readiness(9, 0)) == Split(total=20, managed=9, virtual=20, managed_ready=9)
    coming = young(busy, 20, Readiness(9, 0, managed_replicas=12))
    assert coming.managed == 12  # 3 managed pods waiting for a Karpenter node are kept too
    tail = young([(0, 2, 3), (4, 0, 1)], 0, Readiness(9, 0))
    assert tail.managed == 9  # one message still worked on is work: nothing handed back yet
    released = young([(0, 0, 0), (4, 0, 0)], 0, Readiness(9, 0))
    assert released == Split(total=0, managed=0, virtual=0, managed_ready=9)


def test_caps_bound_both_shares() -> None:
    history = tuple(Load(at=1_000.0 + t, backlog=900, in_flight=0) for t in range(0, 121, 2))
    now = history[-1]
    split = share(
        now, history, hold=HOLD_SECONDS, decided=90, target=10.0, ready=Readiness(2, 0), managed_cap=12, virtual_cap=40
    )
    assert split == Split(total=90, managed=12, virtual=40, managed_ready=2)
    uncapped = share(
        now,
        history,
        hold=HOLD_SECONDS,
        decided=90,
        target=10.0,
        ready=Readiness(2, 0),
        managed_cap=None,
        virtual_cap=None,
    )
    assert uncapped == Split(total=90, managed=90, virtual=90, managed_ready=2)  # 2 Ready managed do not keep up


def test_without_readiness_the_group_is_pure_overflow_of_the_decided_count() -> None:
    now = Load(at=5.0, backlog=150, in_flight=30)
    split = share(now, (now,), hold=HOLD_SECONDS, decided=15, target=10.0, ready=None, managed_cap=12, virtual_cap=40)
    assert split == Split(total=15, managed=12, virtual=3, managed_ready=None)
    capped = share(now, (now,), hold=HOLD_SECONDS, decided=90, target=10.0, ready=None, managed_cap=12, virtual_cap=40)
    assert capped == Split(total=90, managed=12, virtual=40, managed_ready=None)


def test_the_policy_count_stands_in_for_the_backlog_term_now() -> None:
    """``decided`` (lead or drain) raises the need now; the busy term still floors it."""
    now = Load(at=5.0, backlog=20, in_flight=4)
    ready = Readiness(4, 0)
    assert (
        share(now, (now,), hold=HOLD_SECONDS, decided=7, target=10.0, ready=ready, managed_cap=12, virtual_cap=40).total
        == 7
    )
    assert (
        share(now, (now,), hold=HOLD_SECONDS, decided=1, target=10.0, ready=ready, managed_cap=12, virtual_cap=40).total
        == 4
    )


@pytest.mark.parametrize(
    ("decided", "managed_ready", "virtual"),
    [
        (30, 10, 30),  # the backlog needs more than Ready managed: virtual covers all of it, managed adds to it
        (11, 10, 11),  # one short is still behind
        (10, 10, 0),  # Ready managed covers the backlog: virtual hands back
        (4, 10, 0),
    ],
)
def test_virtual_hands_back_only_once_managed_keeps_up(decided: int, managed_ready: int, virtual: int) -> None:
    now = Load(at=5.0, backlog=decided * 10, in_flight=0)
    split = share(
        now,
        (now,),
        hold=HOLD_SECONDS,
        decided=decided,
        target=10.0,
        ready=Readiness(managed_ready, 0),
        managed_cap=12,
        virtual_cap=40,
    )
    assert split.virtual == virtual
