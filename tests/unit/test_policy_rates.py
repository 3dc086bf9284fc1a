"""The rate arithmetic behind `drain` and `leadSeconds` at its edges: the trend window, the least-squares slope,
the projection and the throughput bound.

Every number here is a difference of timestamps, and readings carry monotonic-clock times, so each case runs at the
time origins of ``tests.support.histories.ORIGINS``. The edges are where a wrong comparison or a wrong sign changes
a decision: a reading exactly one window old, a span of exactly the minimum, a slope below one message per second.
"""

from __future__ import annotations

import pytest

from scaler.policy import TREND_WINDOW_SECONDS, drain_replicas, estimate_throughput, project, trend
from tests.support.histories import ORIGINS, samples

at_every_origin = pytest.mark.parametrize("origin", ORIGINS)


@at_every_origin
def test_the_window_includes_a_reading_exactly_one_window_old(origin: float) -> None:
    assert TREND_WINDOW_SECONDS == 60.0
    assert trend(samples((0, 0), (60, 60), origin=origin)) == pytest.approx(1.0)


@at_every_origin
def test_readings_older_than_the_window_do_not_bend_the_trend(origin: float) -> None:
    # the spike at t=0 is 61 s before the newest reading: with it the slope would be negative
    history = samples((0, 1000), (1, 0), (31, 30), (61, 60), origin=origin)
    assert trend(history) == pytest.approx(1.0)


@at_every_origin
def test_a_trend_needs_readings_at_least_a_second_apart(origin: float) -> None:
    assert trend(()) is None
    assert trend(samples((0, 0), (0.5, 10), origin=origin)) is None  # a burst of reads within one refresh
    assert trend(samples((0, 0), (1, 10), origin=origin)) == pytest.approx(10.0)  # exactly the minimum span
    assert trend(samples((0, 0), (10, 100), origin=origin)) == pytest.approx(10.0)  # two readings suffice


@at_every_origin
@pytest.mark.parametrize(
    "points",
    [
        ((0, 0), (0.5, 5), (2, 20)),  # the first two are close: the span is first to last, not first to second
        ((0, 0), (1.5, 15), (2, 20)),  # the last two are close: likewise
    ],
)
def test_the_span_is_measured_from_the_oldest_to_the_newest_reading(
    origin: float, points: tuple[tuple[float, float], ...]
) -> None:
    assert trend(samples(*points, origin=origin)) == pytest.approx(10.0)


@at_every_origin
def test_a_slow_rise_is_still_projected(origin: float) -> None:
    rising = samples((0, 100), (20, 110), origin=origin)  # half a message per second
    assert project(110, rising, 10) == pytest.approx(115)


@at_every_origin
def test_a_lead_of_one_second_projects_one_second(origin: float) -> None:
    rising = samples((0, 100), (10, 200), (20, 300), origin=origin)
    assert project(300, rising, 1) == pytest.approx(310)
    assert project(300, rising, 0) == 300


@at_every_origin
def test_readings_at_the_same_instant_carry_no_rate(origin: float) -> None:
    # two reads stamped alike (one refresh seen twice): no division by a zero interval, the next drop still counts
    history = samples((0, 500), (0, 400), (5, 300), origin=origin)
    assert estimate_throughput(history, 2) == pytest.approx(20 / 2)


@at_every_origin
def test_no_replicas_no_throughput_estimate(origin: float) -> None:
    assert estimate_throughput(samples((0, 500), (5, 400), origin=origin), 0) is None


def test_float_noise_never_adds_a_drain_replica() -> None:
    # 1.1 / 0.1 is 11.000000000000002 in binary floating point: still 11 replicas, not 12
    assert drain_replicas(0, drain_seconds=60, throughput=0.1, arrival=1.1) == 11
    # an arrival estimate that is zero up to rounding keeps no replica alive
    assert drain_replicas(0, drain_seconds=60, throughput=5, arrival=1e-12) == 0
