"""HPA arithmetic and default behaviour, against the oracles in KEDA's and Kubernetes' documentation."""

from __future__ import annotations

from onebox.harness.hpa import Behavior, HpaState, average_value_replicas, hpa_step, value_replicas


def test_average_value_oracles() -> None:
    assert average_value_replicas(20, 10, current=1) == 2
    assert average_value_replicas(105, 10, current=10) == 10  # inside the 0.1 tolerance: unchanged
    assert average_value_replicas(112, 10, current=10) == 12
    assert average_value_replicas(0, 10, current=3) == 0


def test_value_oracle() -> None:
    assert value_replicas(20, 5, ready=3, current=3) == 12


def test_scale_up_rate_is_max_of_double_or_four_pods_per_period() -> None:
    state, behavior = HpaState(), Behavior()
    step = {"usage": 1000.0, "target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": behavior}
    assert hpa_step(state, now=0, current=1, **step) == 5  # 1 + 4 pods beats 100 %
    assert hpa_step(state, now=15.1, current=5, **step) == 10  # doubling beats +4
    assert hpa_step(state, now=30.2, current=10, **step) == 20


def test_scale_down_waits_for_the_stabilization_window() -> None:
    state, behavior = HpaState(), Behavior(scale_down_stabilization_seconds=300)
    step = {"target": 10.0, "min_replicas": 1, "max_replicas": 100, "behavior": behavior}
    assert hpa_step(state, now=0, current=10, usage=100.0, **step) == 10
    assert hpa_step(state, now=60, current=10, usage=10.0, **step) == 10  # 300 s window still holds 10
    assert hpa_step(state, now=301, current=10, usage=10.0, **step) == 1
