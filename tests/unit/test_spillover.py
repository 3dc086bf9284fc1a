"""The group's sizing and split (scaler.spillover), with exact counts, on monotonic-clock-like time origins."""

from __future__ import annotations

import pytest

from scaler.routing import Split
from scaler.spillover import Load, Readiness, ceil_div, covers_hold, held_need, need, share

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
        (0, -2, Readiness(3, 0), 0),  # a nonsensical negative count counts nothing
    ],
)
def test_need_is_the_higher_of_backlog_and_busy(
    backlog: float, in_flight: int | None, ready: Readiness, expected: int
) -> None:
    assert need(Load(at=0.0, backlog=backlog, in_flight=in_flight), target=10.0, ready=ready) == expected


@pytest.mark.parametrize("origin", ORIGINS)
def test_held_need_looks_back_exactly_one_hold_window(origin: float) -> None:
    ready = Readiness(0, 0)
    now = Load(at=origin + 100.0, backlog=10, in_flight=0)
    inside = Load(at=origin + 100.0 - HOLD_SECONDS, backlog=70, in_flight=0)
    outside = Load(at=origin + 100.0 - HOLD_SECONDS - 0.5, backlog=120, in_flight=0)
    future = Load(at=origin + 101.0, backlog=150, in_flight=0)  # a reading newer than "now" is not history
    assert held_need(now, (outside, inside, future), hold=HOLD_SECONDS, target=10.0, ready=ready) == 7
    assert held_need(now, (outside,), hold=HOLD_SECONDS, target=10.0, ready=ready) == 1


@pytest.mark.parametrize("origin", ORIGINS)
def test_covers_hold_needs_a_reading_a_whole_window_old(origin: float) -> None:
    now = Load(at=origin + HOLD_SECONDS + 5.0, backlog=0, in_flight=0)
    assert covers_hold(now, (Load(at=origin + 5.0, backlog=0, in_flight=0), now), hold=HOLD_SECONDS)
    assert not covers_hold(now, (Load(at=origin + 5.5, backlog=0, in_flight=0), now), hold=HOLD_SECONDS)
    assert not covers_hold(now, (), hold=HOLD_SECONDS)


def _history(origin: float, loads: list[tuple[float, float, int]]) -> tuple[Load, ...]:
    return tuple(Load(at=origin + at, backlog=b, in_flight=f) for at, b, f in loads)


@pytest.mark.parametrize("origin", ORIGINS)
def test_managed_holds_the_sustained_need_after_the_virtual_tier_drained_the_backlog(origin: float) -> None:
    """The loop issue 15 measured: virtual drains the backlog, the backlog term collapses; managed must not."""
    history = _history(origin, [(0, 150, 20), (20, 90, 40), (40, 8, 11), (70, 2, 10)])
    now = history[-1]
    split = share(
        now,
        history,
        hold=HOLD_SECONDS,
        decided=1,
        target=10.0,
        ready=Readiness(managed=8, virtual=6),
        managed_cap=12,
        virtual_cap=40,
    )
    # held: the reading at t=20 (9 by backlog, 14 busy) lies within the window; t=0 does not
    assert split == Split(total=10, managed=12, virtual=2, managed_ready=8)


@pytest.mark.parametrize("origin", ORIGINS)
def test_virtual_hands_back_once_ready_managed_keeps_up(origin: float) -> None:
    history = _history(origin, [(0, 3, 9), (30, 1, 10), (61, 0, 10)])
    split = share(
        history[-1],
        history,
        hold=HOLD_SECONDS,
        decided=0,
        target=10.0,
        ready=Readiness(managed=12, virtual=4),
        managed_cap=12,
        virtual_cap=40,
    )
    assert split == Split(total=10, managed=10, virtual=0, managed_ready=12)


@pytest.mark.parametrize("origin", ORIGINS)
def test_a_short_history_keeps_what_is_ready_while_the_group_has_a_need(origin: float) -> None:
    """A restarted scaler has seconds of history: it must not hand back managed capacity it cannot judge."""
    history = _history(origin, [(0, 2, 3), (4, 2, 3)])
    kept = share(
        history[-1],
        history,
        hold=HOLD_SECONDS,
        decided=1,
        target=10.0,
        ready=Readiness(9, 0),
        managed_cap=12,
        virtual_cap=40,
    )
    assert kept == Split(total=3, managed=9, virtual=0, managed_ready=9)
    idle = _history(origin, [(0, 0, 0), (4, 0, 0)])
    released = share(
        idle[-1], idle, hold=HOLD_SECONDS, decided=0, target=10.0, ready=Readiness(9, 0), managed_cap=12, virtual_cap=40
    )
    assert released == Split(total=0, managed=0, virtual=0, managed_ready=9)


def test_caps_bound_both_shares() -> None:
    now = Load(at=5.0, backlog=900, in_flight=0)
    split = share(
        now, (now,), hold=HOLD_SECONDS, decided=90, target=10.0, ready=Readiness(2, 0), managed_cap=12, virtual_cap=40
    )
    assert split == Split(total=90, managed=12, virtual=40, managed_ready=2)
    uncapped = share(
        now,
        (now,),
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
