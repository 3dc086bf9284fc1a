"""The backlog policy's arithmetic, checked against the HPA formula it must land on."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaler.metadata import QueueRef, TriggerConfig
from scaler.policy import decide, int_value, target


def config(target_per_replica: float = 10, activation: float = 0, max_replicas: int | None = None) -> TriggerConfig:
    return TriggerConfig(
        ref=QueueRef("q", None, None),
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
