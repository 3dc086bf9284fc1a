"""The backlog policy's arithmetic, checked against the HPA formula it must land on."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaler.metadata import TriggerConfig
from scaler.policy import (
    Observation,
    decide,
    drain_replicas,
    estimate_throughput,
    int_value,
    project,
    target,
    trend,
)
from scaler.values import Policy, SourceKind, Tier
from tests.support.histories import ORIGINS, samples


def config(target_per_replica: float = 10, activation: float = 0, max_replicas: int | None = None) -> TriggerConfig:
    return TriggerConfig(
        source=SourceKind.QUEUE,
        queue_id="q",
        include_in_flight=True,
        allow_idle_consumers=False,
        exclude_persistent_lag=False,
        target_backlog_per_replica=target_per_replica,
        activation_backlog=activation,
        tier=None,
        max_replicas=max_replicas,
    )


@pytest.mark.parametrize(
    ("backlog", "per_replica", "max_replicas", "value", "replicas", "active"),
    [
        (0, 10, None, 0, 0, False),
        (1, 10, None, 1, 1, True),
        (20, 10, None, 20, 2, True),
        (21, 10, None, 21, 3, True),
        (1000, 10, 7, 65, 7, True),
        (65, 10, 7, 65, 7, True),
        (22.222, 6.111, 3, 15.2775, 3, True),
    ],
)
def test_table(
    backlog: float, per_replica: float, max_replicas: int | None, value: float, replicas: int, active: bool
) -> None:
    decision = decide(backlog, config(per_replica, max_replicas=max_replicas))
    assert decision.metric_value == pytest.approx(value)
    assert decision.desired_replicas == replicas
    assert decision.active is active


def test_target_int_twin_is_at_least_one() -> None:
    assert target(config(0.3)).size_int == 1
    assert target(config(7.5)).size_int == 8
    assert target(config(7.5)).size_float == 7.5


def test_int_value_never_negative() -> None:
    assert int_value(-0.4) == 0
    assert int_value(2.6) == 3


def hpa_replicas(value: float, target_size: float, *, truncate: bool) -> int:
    """The HPA's AverageValue result on KEDA's quantities: %.3f rounding (≥2.20) or int truncation (2.17-2.19)."""

    def quantity(x: float) -> Decimal:
        if truncate:
            return Decimal(int(x * 1000)) / 1000
        return Decimal(x).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)

    return int((quantity(value) / quantity(target_size)).to_integral_value(rounding=ROUND_CEILING))


@given(
    backlog=st.integers(min_value=0, max_value=10**7),
    per_replica=st.floats(min_value=0.1, max_value=1000),
    max_replicas=st.one_of(st.none(), st.integers(min_value=1, max_value=200)),
)
def test_hpa_arithmetic_lands_on_the_decision(backlog: int, per_replica: float, max_replicas: int | None) -> None:
    cfg = config(per_replica, max_replicas=max_replicas)
    decision = decide(float(backlog), cfg)
    sent_target = target(cfg).size_float
    assert hpa_replicas(decision.metric_value, sent_target, truncate=False) == decision.desired_replicas
    if max_replicas is not None:
        assert decision.desired_replicas <= max_replicas
        if decision.metric_value != backlog:
            # the cap holds under the older truncating KEDA too
            assert hpa_replicas(decision.metric_value, sent_target, truncate=True) == max_replicas
    assert decision.desired_replicas >= 0


@given(backlog=st.integers(min_value=0, max_value=10**6), per_replica=st.floats(min_value=0.1, max_value=100))
def test_monotonic_in_backlog(backlog: int, per_replica: float) -> None:
    cfg = config(per_replica, max_replicas=50)
    assert decide(float(backlog), cfg).desired_replicas <= decide(float(backlog + 1), cfg).desired_replicas


@given(backlog=st.integers(min_value=0, max_value=1000), activation=st.integers(min_value=0, max_value=1000))
def test_never_active_at_or_below_activation(backlog: int, activation: int) -> None:
    assert decide(float(backlog), config(activation=activation)).active is (backlog > activation)


def drain_config(**kw: object) -> TriggerConfig:
    from dataclasses import replace

    return replace(config(10), policy=Policy.DRAIN, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("origin", ORIGINS)
def test_trend_and_projection(origin: float) -> None:
    rising = samples((0, 100), (10, 200), (20, 300), origin=origin)
    assert trend(rising) == pytest.approx(10.0)
    assert project(300, rising, 15) == pytest.approx(450)
    assert project(300, rising, 600) == pytest.approx(500)  # never further ahead than 20 s of evidence
    falling = samples((0, 300), (10, 200), (20, 100), origin=origin)
    assert project(100, falling, 60) == 100  # a falling backlog never inflates
    assert trend(samples((0, 5), origin=origin)) is None


@pytest.mark.parametrize("origin", ORIGINS)
def test_throughput_estimate_is_a_lower_bound_from_falling_stretches(origin: float) -> None:
    history = samples((0, 500), (5, 400), (10, 350), (15, 360), origin=origin)
    assert estimate_throughput(history, 4) == pytest.approx(20 / 4)  # fastest drop 100 in 5 s over 4 replicas
    assert estimate_throughput(history, None) is None
    assert estimate_throughput(samples((0, 1), (5, 9), origin=origin), 3) is None  # never fell: no evidence


@pytest.mark.parametrize(
    ("backlog", "drain", "throughput", "arrival", "replicas"),
    [(600, 60, 5, 0, 2), (600, 60, 5, 20, 6), (0, 60, 5, 20, 4), (1, 60, 5, 0, 1), (0, 60, 5, 0, 0)],
)
def test_drain_table(backlog: float, drain: float, throughput: float, arrival: float, replicas: int) -> None:
    assert drain_replicas(backlog, drain_seconds=drain, throughput=throughput, arrival=arrival) == replicas


@pytest.mark.parametrize("origin", ORIGINS)
def test_drain_policy_with_given_throughput_and_replica_count(origin: float) -> None:
    cfg = drain_config(drain_seconds=30.0, throughput_per_replica=2.0, max_replicas=100)
    steady = samples((0, 300), (10, 300), (20, 300), origin=origin)  # flat: arrivals equal what 5 replicas consume
    decision = decide(Observation(backlog=300, history=steady, ready_replicas=5), cfg)
    assert decision.desired_replicas == 10  # (300/30 + 5*2) / 2
    assert hpa_replicas(decision.metric_value, target(cfg).size_float, truncate=False) == 10


def test_drain_policy_falls_back_to_backlog_without_evidence() -> None:
    cfg = drain_config(drain_seconds=30.0)
    assert decide(Observation(backlog=95), cfg).desired_replicas == 10


@pytest.mark.parametrize("origin", ORIGINS)
def test_lead_time_requests_managed_capacity_ahead_of_the_queue(origin: float) -> None:
    from dataclasses import replace

    cfg = replace(config(10), tier=Tier.MANAGED, lead_seconds=30.0)
    rising = samples((0, 0), (10, 100), (20, 200), origin=origin)
    # 10 msg/s for 30 s, but only 20 s of evidence: (200 + 10*20) / 10
    assert decide(Observation(backlog=200, history=rising), cfg).desired_replicas == 40
    falling = samples((0, 400), (10, 300), (20, 200), origin=origin)
    assert decide(Observation(backlog=200, history=falling), cfg).desired_replicas == 20


@given(
    backlog=st.integers(0, 10**5),
    slope=st.floats(-50, 50),
    ready=st.one_of(st.none(), st.integers(0, 50)),
    policy=st.sampled_from(list(Policy)),
    lead=st.sampled_from([0.0, 30.0]),
    max_replicas=st.one_of(st.none(), st.integers(1, 200)),
    origin=st.sampled_from(ORIGINS),
)
def test_every_policy_respects_caps_floor_and_is_monotonic(
    backlog: int, slope: float, ready: int | None, policy: Policy, lead: float, max_replicas: int | None, origin: float
) -> None:
    from dataclasses import replace

    cfg = replace(config(10, max_replicas=max_replicas), policy=policy, tier=Tier.MANAGED, lead_seconds=lead)
    history = samples(
        (0, max(0.0, backlog - 20 * slope)), (10, max(0.0, backlog - 10 * slope)), (20, backlog), origin=origin
    )
    low = decide(Observation(backlog=backlog, history=history, ready_replicas=ready), cfg)
    high = decide(Observation(backlog=backlog + 7, history=history, ready_replicas=ready), cfg)
    assert 0 <= low.desired_replicas <= high.desired_replicas
    if max_replicas is not None:
        assert high.desired_replicas <= max_replicas
    assert hpa_replicas(low.metric_value, target(cfg).size_float, truncate=False) == low.desired_replicas
    assert low.active is (backlog > cfg.activation_backlog)
